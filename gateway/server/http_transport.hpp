#pragma once
// The outbound HTTP client used by the outbox worker: Beast over Asio,
// TLS through OpenSSL (system CA store loaded once, host name verified)
// for https. One request per connection; one deadline covers the name
// look-up, the connection, the TLS handshake and the exchange.
#include <memory>

#include "service/outbox_worker.hpp"

namespace gw::server {

std::unique_ptr<service::http_transport> make_beast_transport();

}  // namespace gw::server

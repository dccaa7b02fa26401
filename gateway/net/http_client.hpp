#pragma once
// The outbound HTTP client used by the outbox worker: Beast over Asio,
// TLS through OpenSSL (system CA store loaded once, host name verified)
// for https. One request per connection; one deadline covers the name
// look-up, the connection, the TLS handshake and the exchange.
#include <memory>

#include "domain/outbound.hpp"

namespace gw::net {

std::unique_ptr<domain::http_transport> make_beast_transport();

}  // namespace gw::net

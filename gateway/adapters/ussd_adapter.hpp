#pragma once
// A USSD aggregator adapter only translates: it parses the aggregator's
// callback into a ussd_request and renders a ussd_reply in the
// aggregator's response format. Timeouts, logging, storage and errors
// belong to the server and the service.
#include <string>

#include "common/result.hpp"
#include "domain/ussd.hpp"
#include "http/message.hpp"

namespace gw::adapters {

class ussd_adapter {
  public:
    virtual ~ussd_adapter() = default;
    // Short stable name, used in the callback path and in session keys.
    virtual std::string name() const = 0;
    // A request the aggregator should not have sent fails with a reason
    // (answered with HTTP 400).
    virtual result<domain::ussd_request> parse(const http::request& req) const = 0;
    virtual http::response render(const domain::ussd_reply& reply) const = 0;
};

}  // namespace gw::adapters

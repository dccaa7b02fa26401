#pragma once
// Africa's Talking USSD callback: form-encoded sessionId, serviceCode,
// phoneNumber, networkCode and text (all inputs so far joined by '*');
// answered in text/plain starting with "CON " (continue) or "END ".
#include "adapters/ussd_adapter.hpp"

namespace gw::adapters {

class africastalking_ussd final : public ussd_adapter {
  public:
    std::string name() const override { return "africastalking"; }
    result<domain::ussd_request> parse(const http::request& req) const override;
    http::response render(const domain::ussd_reply& reply) const override;
};

}  // namespace gw::adapters

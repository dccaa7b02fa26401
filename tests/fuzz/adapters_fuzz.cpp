// Every aggregator adapter's inbound parsers on arbitrary bodies and query
// strings: the first byte picks the adapter and the call.
#include <cstdint>

#include "adapters/africastalking/ussd.hpp"
#include "adapters/sms_adapters.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const auto sms = gw::adapters::all_sms_adapters();
    static const gw::adapters::africastalking_ussd ussd;
    std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
    gw::http::request req;
    req.method = (data[0] & 1) ? "GET" : "POST";
    req.target = "/x?" + rest;
    gw::http::split_target(req);
    req.body = rest;
    if (data[0] & 2) req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    const std::size_t pick = (data[0] >> 2) % (sms.size() + 1);
    if (pick == sms.size()) {
        ussd.parse(req);
        return 0;
    }
    const auto& a = *sms[pick];
    if (data[0] & 0x80)
        a.parse_report(req);
    else
        a.parse_inbound(req);
    gw::adapters::channel_settings c;
    c.auth = gw::domain::auth_kind::scheme;
    c.auth_scheme = "twilio_signature";
    c.auth_token = "t";
    req.headers.emplace_back("X-Twilio-Signature", rest.substr(0, 40));
    gw::adapters::authenticate(req, c);
    return 0;
}

#include "adapters/sms_adapter.hpp"

#include <algorithm>

#include "common/crypto.hpp"

namespace gw::adapters {

http::response sms_adapter::inbound_response(const std::optional<std::string>&) const {
    return http::error_response(200, "ok");
}

result<form_fields> request_fields(const http::request& req) {
    if (req.method == "GET") return parse_form(req.query);
    if (const std::string* ct = req.header("Content-Type");
        ct && ct->find("application/x-www-form-urlencoded") == std::string::npos)
        return failure{"expected application/x-www-form-urlencoded"};
    return parse_form(req.body);
}

namespace {

bool token_ok(const http::request& req, const channel_settings& c) {
    if (c.token.empty()) return false;
    if (const std::string* h = req.header("X-Gateway-Token"))
        return constant_time_equal(*h, c.token);
    auto q = parse_form(req.query);
    if (!q) return false;
    const std::string* t = q->find("token");
    return t && constant_time_equal(*t, c.token);
}

bool basic_ok(const http::request& req, const channel_settings& c) {
    const std::string* h = req.header("Authorization");
    if (!h || c.username.empty()) return false;
    std::string expected = "Basic " + base64_encode(c.username + ":" + c.password);
    return constant_time_equal(*h, expected);
}

// Twilio: Base64(HMAC-SHA1(auth token, full URL + each POST param name and
// value, sorted by name)). The URL is the one Twilio called, before any proxy.
bool twilio_ok(const http::request& req, const channel_settings& c) {
    const std::string* sig = req.header("X-Twilio-Signature");
    if (!sig || c.auth_token.empty()) return false;
    std::string data = c.public_url + req.target;
    if (req.method == "POST") {
        auto form = parse_form(req.body);
        if (!form) return false;
        auto fields = form->all();
        std::stable_sort(fields.begin(), fields.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [k, v] : fields) data += k + v;
    }
    return constant_time_equal(*sig, base64_encode(hmac_sha1(c.auth_token, data)));
}

}  // namespace

bool authenticate(const http::request& req, const channel_settings& c) {
    if (c.auth_type == "none") return true;
    if (c.auth_type == "token") return token_ok(req, c);
    if (c.auth_type == "basic") return basic_ok(req, c);
    if (c.auth_type == "twilio_signature") return twilio_ok(req, c);
    return false;
}

send_outcome outcome_from_status(int status, const std::string& what) {
    if (status >= 200 && status < 300) return {send_outcome::sent, "", ""};
    std::string err = what + " answered HTTP " + std::to_string(status);
    if (status == 0) return {send_outcome::retry, "", what + " unreachable"};
    if (status == 429 || status == 408 || status >= 500) return {send_outcome::retry, "", err};
    return {send_outcome::reject, "", err};
}

}  // namespace gw::adapters

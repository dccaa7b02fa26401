#include "adapters/sms_adapter.hpp"

#include <algorithm>
#include <cctype>

#include "adapters/registry.hpp"
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

bool basic_ok(const http::request& req, const channel_settings& c) {
    const std::string* h = req.header("Authorization");
    if (!h || c.username.empty()) return false;
    std::string expected = "Basic " + base64_encode(c.username + ":" + c.password);
    return constant_time_equal(*h, expected);
}

}  // namespace

bool request_token_ok(const http::request& req, const std::string& token) {
    if (token.empty()) return false;
    if (const std::string* h = req.header("X-Gateway-Token")) return constant_time_equal(*h, token);
    auto q = parse_form(req.query);
    if (!q) return false;
    const std::string* t = q->find("token");
    return t && constant_time_equal(*t, token);
}

bool authenticate(const http::request& req, const channel_settings& c) {
    switch (c.auth) {
        case domain::auth_kind::none:
            return true;
        case domain::auth_kind::token:
            return request_token_ok(req, c.token);
        case domain::auth_kind::basic:
            return basic_ok(req, c);
        case domain::auth_kind::scheme:
            // One aggregator's own (twilio_signature): its folder checks it.
            if (const aggregator* a = find_aggregator_by_auth(c.auth_scheme))
                return a->check_auth(req, c);
            return false;
    }
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

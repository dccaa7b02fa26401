#include "adapters/sms_adapter.hpp"

#include <algorithm>
#include <cctype>

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

std::vector<std::string> twilio_url_forms(const std::string& base) {
    std::vector<std::string> out{base};
    const auto scheme_end = base.find("://");
    if (scheme_end == std::string::npos) return out;
    std::string scheme = base.substr(0, scheme_end);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const std::string port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
    if (port.empty()) return out;
    const auto host = scheme_end + 3;
    auto host_end = base.find_first_of("/?#", host);
    if (host_end == std::string::npos) host_end = base.size();
    const std::string authority = base.substr(host, host_end - host);
    const auto colon = authority.rfind(':');
    const auto bracket = authority.rfind(']');  // an IPv6 literal has colons of its own
    const bool has_port =
        colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
    if (!has_port)
        out.push_back(base.substr(0, host_end) + ":" + port + base.substr(host_end));
    else if (authority.substr(colon + 1) == port)
        out.push_back(base.substr(0, host + colon) + base.substr(host_end));
    return out;
}

namespace {

// Twilio: Base64(HMAC-SHA1(auth token, full URL + each POST param name and
// value, sorted by name)). The URL is the one Twilio called, before any proxy;
// Twilio may sign it with or without the scheme's default port.
bool twilio_ok(const http::request& req, const channel_settings& c) {
    const std::string* sig = req.header("X-Twilio-Signature");
    if (!sig || c.auth_token.empty()) return false;
    std::string params;
    if (req.method == "POST") {
        auto form = parse_form(req.body);
        if (!form) return false;
        auto fields = form->all();
        std::stable_sort(fields.begin(), fields.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [k, v] : fields) params += k + v;
    }
    bool ok = false;
    for (const auto& url : twilio_url_forms(c.public_url))
        ok |= constant_time_equal(
            *sig, base64_encode(hmac_sha1(c.auth_token, url + req.target + params)));
    return ok;
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
    if (c.auth_type == "none") return true;
    if (c.auth_type == "token") return request_token_ok(req, c.token);
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

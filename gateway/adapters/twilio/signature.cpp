#include "adapters/twilio/signature.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "common/form.hpp"

namespace gw::adapters::twilio {

std::vector<std::string> url_forms(const std::string& base) {
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

// Twilio: Base64(HMAC-SHA1(auth token, full URL + each POST param name and
// value, sorted by name)). The URL is the one Twilio called, before any proxy;
// Twilio may sign it with or without the scheme's default port.
bool signature_ok(const http::request& req, const channel_settings& c) {
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
    for (const auto& url : url_forms(c.public_url))
        ok |= constant_time_equal(
            *sig, base64_encode(hmac_sha1(c.auth_token, url + req.target + params)));
    return ok;
}

}  // namespace gw::adapters::twilio

#include "http/message.hpp"

#include <strings.h>

namespace gw::http {

namespace {
bool same_name(const std::string& a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

const std::string* request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (same_name(k, name)) return &v;
    return nullptr;
}

std::optional<std::string> request::header_list(std::string_view name) const {
    std::optional<std::string> out;
    for (const auto& [k, v] : headers) {
        if (!same_name(k, name)) continue;
        if (out)
            *out += ", " + v;
        else
            out = v;
    }
    return out;
}

response error_response(int status, std::string reason) {
    response r;
    r.status = status;
    r.body = std::move(reason);
    r.body += '\n';
    return r;
}

void split_target(request& r) {
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    r.query = q == std::string::npos ? std::string{} : r.target.substr(q + 1);
}

}  // namespace gw::http

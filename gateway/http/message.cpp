#include "http/message.hpp"

#include <strings.h>

namespace gw::http {

const std::string* request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0)
            return &v;
    return nullptr;
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

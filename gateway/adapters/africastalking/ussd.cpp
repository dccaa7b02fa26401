#include "adapters/africastalking/ussd.hpp"

#include "common/form.hpp"
#include "common/text.hpp"

namespace gw::adapters {

result<domain::ussd_request> africastalking_ussd::parse(const http::request& req) const {
    if (const std::string* ct = req.header("Content-Type");
        ct && ct->find("application/x-www-form-urlencoded") == std::string::npos)
        return failure{"expected application/x-www-form-urlencoded"};
    auto form = parse_form(req.body);
    if (!form) return failure{form.error()};

    domain::ussd_request out;
    out.aggregator = name();
    auto required = [&](const char* field, std::string& into) -> bool {
        const std::string* v = form->find(field);
        if (!v || v->empty()) return false;
        into = *v;
        return true;
    };
    if (!required("sessionId", out.session_id)) return failure{"missing field: sessionId"};
    if (!required("phoneNumber", out.phone)) return failure{"missing field: phoneNumber"};
    if (out.session_id.size() > 128) return failure{"sessionId too long"};
    if (const std::string* v = form->find("serviceCode")) out.service_code = *v;
    if (const std::string* v = form->find("networkCode")) out.network_code = *v;
    // `text` is empty on the first hop; Africa's Talking always sends the field.
    if (const std::string* v = form->find("text")) out.text = *v;
    for (const std::string* v : {&out.session_id, &out.phone, &out.service_code})
        if (!is_valid_utf8(*v)) return failure{"fields must be UTF-8"};
    return out;
}

http::response africastalking_ussd::render(const domain::ussd_reply& reply) const {
    http::response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = (reply.end ? "END " : "CON ") + reply.text;
    return r;
}

}  // namespace gw::adapters

#include "common/form.hpp"

namespace gw {

void form_fields::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

const std::string* form_fields::find(std::string_view name) const {
    for (const auto& [k, v] : fields_)
        if (k == name) return &v;
    return nullptr;
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> url_decode_component(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string url_encode_component(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

result<form_fields> parse_form(std::string_view body) {
    form_fields fields;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto name = url_decode_component(pair.substr(0, eq));
        auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string{})
                                                  : url_decode_component(pair.substr(eq + 1));
        if (!name || !value) return failure{"malformed percent-encoding in form body"};
        if (name->empty()) return failure{"form field without a name"};
        fields.add(std::move(*name), std::move(*value));
    }
    return fields;
}

}  // namespace gw

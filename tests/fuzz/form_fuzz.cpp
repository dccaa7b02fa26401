// Form bodies and query strings, and the text measuring every reply goes
// through. Property: whatever parses re-encodes to the same value.
#include <cstdint>
#include <string_view>

#include "common/form.hpp"
#include "common/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view s(reinterpret_cast<const char*>(data), size);
    if (auto f = gw::parse_form(s)) {
        for (const auto& [k, v] : f->all()) {
            if (gw::url_decode_component(gw::url_encode_component(v)) != v) __builtin_trap();
        }
    }
    gw::is_valid_utf8(s);
    gw::measure_text(s);
    gw::measure_sms(s);
    gw::fold_case(s);
    gw::count_code_points(s);
    return 0;
}

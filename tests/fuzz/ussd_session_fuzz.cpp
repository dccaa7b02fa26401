// USSD sessions through the Africa's Talking adapter, the cumulative `text`
// path parser, the session logic and the engine. Each input is one session:
// its lines are the inputs she types. Properties: the aggregator always
// gets CON/END (or a 4xx for a malformed request), never a screen over the
// limit.
#include <cstdint>
#include <sstream>

#include "common/form.hpp"
#include "common/text.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static long long session = 0;
    auto& gw = gw::fuzz::shared_gateway();
    std::string all(reinterpret_cast<const char*>(data), size);
    std::istringstream lines(all);
    std::string text, line;
    const std::string id = "fz" + std::to_string(++session);
    const std::string phone = "+996555" + std::to_string(100000 + session % 899999);
    for (int hop = 0; hop < 12; ++hop) {
        gw::http::request req;
        req.method = "POST";
        req.path = "/ussd/africastalking";
        req.target = req.path + "?token=fuzz";
        req.query = "token=fuzz";
        req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        req.body = "sessionId=" + id + "&phoneNumber=" + gw::url_encode_component(phone) +
                   "&text=" + gw::url_encode_component(text);
        auto res = gw.handle(req);
        if (res.status != 200) __builtin_trap();
        if (res.body.rfind("CON ", 0) != 0 && res.body.rfind("END ", 0) != 0) __builtin_trap();
        auto shown = gw::measure_text(res.body.substr(4));
        if (shown.units > (shown.encoding == gw::text_encoding::gsm7 ? 182u : 80u))
            __builtin_trap();
        if (res.body.rfind("END ", 0) == 0 || !std::getline(lines, line)) break;
        text = hop == 0 ? line : text + "*" + line;
    }
    // Raw, possibly malformed bodies: a clear status, never a crash.
    gw::http::request raw;
    raw.method = "POST";
    raw.path = "/ussd/africastalking";
    raw.target = raw.path + "?token=fuzz";
    raw.query = "token=fuzz";
    raw.body = all;
    auto res = gw.handle(raw);
    if (res.status != 200 && res.status != 400) __builtin_trap();
    return 0;
}

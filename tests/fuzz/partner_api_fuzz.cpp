// JSON bodies of the partner API (status changes and notes) and its paths.
// Properties: a 2xx/4xx answer with a JSON body, never a 5xx or a crash.
#include <cstdint>

#include "fuzz_support.hpp"
#include "support/case_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto& gw = gw::fuzz::shared_gateway();
    static const long long referral = [&] {
        auto c = gw::test::a_case("fuzz").oblast("talas").store_in(gw.storage(), 1);
        return gw.referrals().route_case(c).id;
    }();
    std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    static const char* suffixes[] = {"/status", "/notes", "", "/x"};
    gw::http::request req;
    req.method = (data[0] & 4) ? "GET" : "POST";
    req.target = "/api/partner/v1/referrals/" +
                 ((data[0] & 8) ? std::to_string(referral) : body.substr(0, 20)) +
                 suffixes[data[0] & 3];
    gw::http::split_target(req);
    req.headers.emplace_back("Authorization", "Bearer token-legal-backup");
    req.body = body;
    auto res = gw.handle(req);
    if (res.status >= 500) __builtin_trap();
    return 0;
}

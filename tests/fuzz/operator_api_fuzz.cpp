// The operator API: paths, methods and JSON bodies from a logged-in
// supervisor (who may call everything). Properties: a 2xx/4xx answer,
// never a 5xx or a crash.
#include <cstdint>

#include "fuzz_support.hpp"
#include "support/case_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    auto& gw = gw::fuzz::shared_gateway();
    static const std::string token = [&] {
        gw.accounts().add("fuzz", "fuzz.sup", "Fuzz", "supervisor", "a long fuzzing password");
        auto ok = gw.accounts().login("fuzz.sup", "a long fuzzing password", "127.0.0.1");
        return std::get<gw::service::login_ok>(ok).token;
    }();
    static const std::string reference = [&] {
        auto rec = gw::test::a_case("fuzz-operator")
                       .phone("+996555000002")
                       .language("ky")
                       .topic("urgent")
                       .oblast("")
                       .urgent()
                       .store_in(gw.storage(), 1);
        gw.referrals().route_case(rec);
        return rec.reference;
    }();
    static const char* paths[] = {"queue",
                                  "cases/{ref}",
                                  "cases/{ref}/claim",
                                  "cases/{ref}/notes",
                                  "cases/{ref}/reply",
                                  "cases/{ref}/refer",
                                  "cases/{ref}/close",
                                  "cases/{ref}/release",
                                  "referrals/{x}/revoke",
                                  "messages/{x}/retry",
                                  "partners",
                                  "partners/{x}/pause",
                                  "operators",
                                  "operators/{x}",
                                  "audit",
                                  "stats.csv",
                                  "me",
                                  "{x}"};
    static const char* methods[] = {"GET", "POST", "PATCH", "DELETE"};
    std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
    std::string path = paths[data[0] % (sizeof paths / sizeof *paths)];
    const std::string fuzzed = body.substr(0, 24);
    // Each path has at most one blank; the fuzzed text may itself hold "{x}".
    if (auto p = path.find("{ref}"); p != std::string::npos)
        path.replace(p, 5, (data[1] & 8) ? reference : fuzzed);
    if (auto p = path.find("{x}"); p != std::string::npos)
        path.replace(p, 3, (data[1] & 16) ? "1" : fuzzed);
    gw::http::request req;
    req.method = methods[data[1] & 3];
    req.target = "/api/operator/v1/" + path + ((data[1] & 32) ? "?" + fuzzed : "");
    gw::http::split_target(req);
    req.headers.emplace_back("Authorization", "Bearer " + token);
    req.remote_address = "127.0.0.1";
    req.body = body;
    auto res = gw.handle(req);
    if (res.status >= 500) __builtin_trap();
    return 0;
}

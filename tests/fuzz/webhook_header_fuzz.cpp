// The Standard Webhooks signature header parser and signing round trip.
#include <cstdint>
#include <string>

#include "adapters/webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    std::string s(reinterpret_cast<const char*>(data), size);
    gw::adapters::verify_webhook(secret, "msg_1", 1000, "{}", s, 1000);
    gw::adapters::sign_webhook(s, "msg_1", 1000, "{}");  // arbitrary secrets
    auto sig = gw::adapters::sign_webhook(secret, "msg_1", 1000, s);
    if (!sig || !gw::adapters::verify_webhook(secret, "msg_1", 1000, s, *sig, 1000))
        __builtin_trap();
    return 0;
}

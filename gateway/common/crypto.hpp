#pragma once
// Message authentication for aggregator callbacks and webhooks (OpenSSL).
#include <string>
#include <string_view>

namespace gw {

std::string hmac_sha1(std::string_view key, std::string_view data);    // raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string base64_encode(std::string_view raw);
// Compares secrets without leaking where they differ through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace gw

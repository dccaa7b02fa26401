#pragma once
// Message authentication for aggregator callbacks and webhooks (OpenSSL).
#include <optional>
#include <string>
#include <string_view>

namespace gw {

std::string hmac_sha1(std::string_view key, std::string_view data);    // raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string sha256_hex(std::string_view data);
std::string base64_encode(std::string_view raw);
// Standard base64 with padding; nullopt for malformed input.
std::optional<std::string> base64_decode(std::string_view text);
// Compares secrets without leaking where they differ through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace gw

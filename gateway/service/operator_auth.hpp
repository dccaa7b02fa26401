#pragma once
// Operator credentials: Argon2id password hashes (libsodium's
// crypto_pwhash_str, interactive limits), random session tokens stored
// only as their hash, and a back-off for repeated wrong passwords.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "store/limits.hpp"

namespace gw::service {

// Passwords shorter than this are refused when set.
constexpr std::size_t min_password_length = 10;

std::string hash_password(std::string_view password);
bool verify_password(const std::string& hash, std::string_view password);
// 32 random bytes as hex: what the operator's browser holds.
std::string new_session_token();
// What the store keeps of a token.
std::string session_token_hash(std::string_view token);

// Wrong passwords per key ("account:<name>", "address:<ip>"): after
// `free_failures` in a row, each further failure doubles the wait
// (1 s, 2 s, 4 s, ... up to max_wait_s). Kept in memory, per node, or in
// `shared` (the store every node uses) when given.
class login_throttle {
  public:
    login_throttle(int free_failures, long long max_wait_s, store::limit_store* shared = nullptr);
    // Seconds to wait before the next attempt; 0 = may try now.
    long long wait(const std::string& key, long long now) const;
    // Recent failures of a key (0 once forgotten).
    int failures(const std::string& key, long long now) const;
    void failed(const std::string& key, long long now);
    // As failed(), with no free failures left (the key is under attack elsewhere).
    void failed_without_grace(const std::string& key, long long now);
    void succeeded(const std::string& key);

  private:
    using state = store::throttle_state;
    void record(const std::string& key, long long now, int free_failures);
    void apply_failure(state& s, long long now, int free_failures) const;
    std::optional<state> find(const std::string& key) const;
    store::limit_store* shared_;
    int free_failures_;
    long long max_wait_s_;
    mutable std::mutex mutex_;
    std::map<std::string, state> keys_;
};

}  // namespace gw::service

#include "service/operator_auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <semaphore>
#include <stdexcept>
#include <thread>

#include "common/crypto.hpp"

namespace gw::service {
namespace {
void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium could not be initialised");
}

// Argon2id takes ~130 ms of a core (and 64 MB) per log-in. At most half
// the cores (at least one) hash at once: a burst of log-ins, or someone
// hammering the log-in form, waits its turn instead of taking the cores
// the USSD hops run on.
struct hashing_slot {
    static std::counting_semaphore<>& slots() {
        static std::counting_semaphore<> s(
            static_cast<std::ptrdiff_t>(std::max(1u, std::thread::hardware_concurrency() / 2)));
        return s;
    }
    hashing_slot() { slots().acquire(); }
    ~hashing_slot() { slots().release(); }
    hashing_slot(const hashing_slot&) = delete;
    hashing_slot& operator=(const hashing_slot&) = delete;
};
}  // namespace

std::string hash_password(std::string_view password) {
    ensure_sodium();
    hashing_slot slot;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("password hashing ran out of memory");
    return out;
}

bool verify_password(const std::string& hash, std::string_view password) {
    ensure_sodium();
    hashing_slot slot;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string new_session_token() {
    ensure_sodium();
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char hex[sizeof raw * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    return hex;
}

std::string session_token_hash(std::string_view token) {
    return sha256_hex(token);
}

login_throttle::login_throttle(int free_failures, long long max_wait_s, store::limit_store* shared)
    : shared_(shared),
      free_failures_(std::max(0, free_failures)),
      max_wait_s_(std::max(1LL, max_wait_s)) {}

std::optional<login_throttle::state> login_throttle::find(const std::string& key) const {
    if (shared_) return shared_->find_throttle(key);
    std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
}

long long login_throttle::wait(const std::string& key, long long now) const {
    auto s = find(key);
    if (!s || s->blocked_until <= now) return 0;
    return s->blocked_until - now;
}

int login_throttle::failures(const std::string& key, long long now) const {
    auto s = find(key);
    if (!s || now - s->last > max_wait_s_ * 2) return 0;
    return s->failures;
}

void login_throttle::failed(const std::string& key, long long now) {
    record(key, now, free_failures_);
}

void login_throttle::failed_without_grace(const std::string& key, long long now) {
    record(key, now, 0);
}

void login_throttle::apply_failure(state& s, long long now, int free_failures) const {
    // Failures from long ago are forgotten.
    if (s.last && now - s.last > max_wait_s_ * 2) s = {};
    s.last = now;
    if (++s.failures <= free_failures) return;
    const int doublings = std::min(s.failures - free_failures - 1, 30);
    s.blocked_until = now + std::min(max_wait_s_, 1LL << doublings);
}

void login_throttle::record(const std::string& key, long long now, int free_failures) {
    if (shared_) {
        shared_->update_throttle(key, [&](state& s) { apply_failure(s, now, free_failures); });
        return;
    }
    std::lock_guard lock(mutex_);
    // Keep the table small.
    if (keys_.size() > 10000)
        for (auto it = keys_.begin(); it != keys_.end();)
            it = now - it->second.last > max_wait_s_ * 2 ? keys_.erase(it) : std::next(it);
    apply_failure(keys_[key], now, free_failures);
}

void login_throttle::succeeded(const std::string& key) {
    if (shared_) {
        shared_->update_throttle(key, [](state& s) { s = {}; });
        return;
    }
    std::lock_guard lock(mutex_);
    keys_.erase(key);
}

}  // namespace gw::service

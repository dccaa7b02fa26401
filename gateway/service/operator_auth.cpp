#include "service/operator_auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
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
class hashing_slots {
  public:
    hashing_slots() : free_(std::max(1u, std::thread::hardware_concurrency() / 2)) {}
    struct held {
        hashing_slots& slots;
        ~held() { slots.release(); }
    };
    held take() {
        std::unique_lock lock(mutex_);
        freed_.wait(lock, [&] { return free_ > 0; });
        --free_;
        return held{*this};
    }

  private:
    void release() {
        {
            std::lock_guard lock(mutex_);
            ++free_;
        }
        freed_.notify_one();
    }
    std::mutex mutex_;
    std::condition_variable freed_;
    unsigned free_;
};

hashing_slots& slots() {
    static hashing_slots s;
    return s;
}
}  // namespace

std::string hash_password(std::string_view password) {
    ensure_sodium();
    auto slot = slots().take();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("password hashing ran out of memory");
    return out;
}

bool verify_password(const std::string& hash, std::string_view password) {
    ensure_sodium();
    auto slot = slots().take();
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

login_throttle::login_throttle(int free_failures, long long max_wait_s)
    : free_failures_(std::max(0, free_failures)), max_wait_s_(std::max(1LL, max_wait_s)) {}

long long login_throttle::wait(const std::string& key, long long now) const {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    if (it == keys_.end() || it->second.blocked_until <= now) return 0;
    return it->second.blocked_until - now;
}

int login_throttle::failures(const std::string& key, long long now) const {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    if (it == keys_.end() || now - it->second.last > max_wait_s_ * 2) return 0;
    return it->second.failures;
}

void login_throttle::failed(const std::string& key, long long now) {
    record(key, now, free_failures_);
}

void login_throttle::failed_without_grace(const std::string& key, long long now) {
    record(key, now, 0);
}

void login_throttle::record(const std::string& key, long long now, int free_failures) {
    std::lock_guard lock(mutex_);
    // Forget failures from long ago, and keep the table small.
    if (keys_.size() > 10000)
        for (auto it = keys_.begin(); it != keys_.end();)
            it = now - it->second.last > max_wait_s_ * 2 ? keys_.erase(it) : std::next(it);
    state& s = keys_[key];
    if (s.last && now - s.last > max_wait_s_ * 2) s = {};
    s.last = now;
    if (++s.failures <= free_failures) return;
    const int doublings = std::min(s.failures - free_failures - 1, 30);
    s.blocked_until = now + std::min(max_wait_s_, 1LL << doublings);
}

void login_throttle::succeeded(const std::string& key) {
    std::lock_guard lock(mutex_);
    keys_.erase(key);
}

}  // namespace gw::service

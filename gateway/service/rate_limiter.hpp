#pragma once
// Fixed-window counters per key (a phone number, a channel): stops SMS
// pumping from running up costs. Not thread-safe; the owner locks.
#include <cstddef>
#include <string>
#include <unordered_map>

namespace gw::service {

class rate_limiter {
  public:
    rate_limiter(std::size_t limit, long long window_seconds)
        : limit_(limit), window_(window_seconds) {}

    // Counts one event for `key` at `now`; false when over the limit.
    bool allow(const std::string& key, long long now);
    // Seconds until `key`'s current window ends (for Retry-After).
    long long retry_after(const std::string& key, long long now) const;

  private:
    struct window {
        long long start = 0;
        std::size_t count = 0;
    };
    std::size_t limit_;
    long long window_;
    long long last_cleanup_ = 0;
    std::unordered_map<std::string, window> windows_;
};

}  // namespace gw::service

#include "service/rate_limiter.hpp"

#include <algorithm>

namespace gw::service {

bool rate_limiter::allow(const std::string& key, long long now) {
    if (limit_ == 0) return true;  // 0 = no limit
    if (now - last_cleanup_ >= window_) {
        // Forget finished windows so memory follows active numbers only.
        for (auto it = windows_.begin(); it != windows_.end();)
            it = now - it->second.start >= window_ ? windows_.erase(it) : std::next(it);
        last_cleanup_ = now;
    }
    window& w = windows_[key];
    if (now - w.start >= window_) w = {now, 0};
    return ++w.count <= limit_;
}

long long rate_limiter::retry_after(const std::string& key, long long now) const {
    auto it = windows_.find(key);
    if (it == windows_.end()) return 0;
    return std::max<long long>(1, window_ - (now - it->second.start));
}

}  // namespace gw::service

#include "service/rate_limiter.hpp"

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

}  // namespace gw::service

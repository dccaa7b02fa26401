#pragma once
// Time source, injectable so session expiry and retention are testable.
#include <chrono>

namespace gw {

using time_point = std::chrono::system_clock::time_point;

class clock_source {
  public:
    virtual ~clock_source() = default;
    virtual time_point now() const = 0;
};

class system_clock_source final : public clock_source {
  public:
    time_point now() const override { return std::chrono::system_clock::now(); }
};

inline long long to_unix_seconds(time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace gw

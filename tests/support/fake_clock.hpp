#pragma once
// A clock that moves only when a test moves it.
#include <chrono>

#include "common/clock.hpp"

namespace gw::test {

class fake_clock final : public clock_source {
  public:
    gw::time_point now() const override { return t; }
    long long ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }
    // Default: Monday 2027-03-01 12:00 in Bishkek (06:00 UTC).
    gw::time_point t = gw::time_point(std::chrono::seconds(1803837600LL + 12 * 3600));
};

}  // namespace gw::test

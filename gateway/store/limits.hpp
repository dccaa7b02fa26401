#pragma once
// Counters that must hold across nodes: requests per number per window
// (rate limits) and wrong passwords per account or address (log-in
// back-off). Keys are kept as keyed hashes only (a number is a key).
#include <functional>
#include <optional>
#include <string>

namespace gw::store {

struct throttle_state {
    int failures = 0;
    long long blocked_until = 0;
    long long last = 0;
};

class limit_store {
  public:
    virtual ~limit_store() = default;

    // Counts one event for `key` in the fixed window that starts at
    // `window_start`; returns how many the window holds now, this one included.
    virtual long long count_event(const std::string& key, long long window_start) = 0;
    virtual std::optional<throttle_state> find_throttle(const std::string& key) = 0;
    // Reads, changes and writes `key`'s state in one unit of work (two
    // nodes' failures are both counted); a state left with no failures is
    // forgotten. Returns the state written.
    virtual throttle_state update_throttle(const std::string& key,
                                           const std::function<void(throttle_state&)>& change) = 0;
};

}  // namespace gw::store

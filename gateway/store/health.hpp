#pragma once
// Storage health: whether writes fail (disk full, read-only file, I/O
// errors, a lock that never comes). The store reports into it from inside
// its units of work, where reads and writes are known apart: any failure
// raises the alarm, only a write that went through clears it. The first
// failure logs an ALERT for operators; /healthz says "degraded" meanwhile.
#include <atomic>
#include <string>

namespace gw::store {

class storage_health {
  public:
    bool failing() const { return failing_; }
    long long failures() const { return failures_; }
    void failed(const char* method, const std::string& error);
    void write_succeeded();

  private:
    std::atomic<bool> failing_{false};
    std::atomic<long long> failures_{0};
};

}  // namespace gw::store

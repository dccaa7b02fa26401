#pragma once
// Storage health: a store decorator that notices when writes start failing
// (disk full, read-only file, I/O errors) and when they work again. The
// first failure logs an ALERT for operators; /healthz reports "degraded"
// until a write succeeds again.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "store/forwarding_store.hpp"

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

class monitored_store final : public forwarding_store {
public:
    monitored_store(std::unique_ptr<store> inner, storage_health& health)
        : forwarding_store(std::move(inner)), health_(health) {}

protected:
    void on_success(const char* method) override;
    void on_failure(const char* method, const store_error& e) override;

private:
    storage_health& health_;
};

}  // namespace gw::store

#include "app/background.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "support/log_capture.hpp"

using namespace std::chrono_literals;

namespace {

// Waits (up to 10 s: the machine may be busy) until `done` holds.
template <class F>
bool eventually(F done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

}  // namespace

TEST(BackgroundJobs, EachRunsAtItsIntervalAndAFailingOneHoldsUpNoOther) {
    gw::test::log_capture log;
    std::atomic<int> flushes{0}, sweeps{0}, failures{0};
    gw::app::background_jobs jobs;
    jobs.add("flush", 5ms, [&] { ++flushes; });
    jobs.add("broken", 5ms, [&] {
        ++failures;
        throw std::runtime_error("the store is locked");
    });
    jobs.add("hourly", 1h, [&] { ++sweeps; });
    jobs.start();
    EXPECT_TRUE(eventually([&] { return flushes >= 3 && failures >= 3; }));
    EXPECT_EQ(sweeps.load(), 0) << "not before its first interval";
    jobs.stop();
    const int after_stop = flushes;
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(flushes.load(), after_stop) << "nothing runs after stop()";
    EXPECT_NE(log.text().find("background: broken failed, will retry: the store is locked"),
              std::string::npos)
        << log.text();
    jobs.stop();  // a second stop is harmless
}

TEST(BackgroundJobs, AFirstRunCanComeSoonerThanTheInterval) {
    std::atomic<int> runs{0};
    gw::app::background_jobs jobs;
    jobs.add(
        "retention", 1h, [&] { ++runs; }, 1ms);
    jobs.start();
    EXPECT_TRUE(eventually([&] { return runs == 1; }));
    jobs.stop();
    EXPECT_EQ(runs.load(), 1) << "then once an hour";
}

TEST(BackgroundJobs, StopWithoutStartOrJobsReturns) {
    gw::app::background_jobs none;
    none.start();
    none.stop();
    gw::app::background_jobs unstarted;
    unstarted.add("flush", 5ms, [] {});
    unstarted.stop();
}

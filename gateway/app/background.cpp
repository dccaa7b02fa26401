#include "app/background.hpp"

#include <pthread.h>

#include <algorithm>

#include "common/log.hpp"

namespace gw::app {

void background_jobs::add(std::string name, std::chrono::milliseconds every,
                          std::function<void()> job,
                          std::optional<std::chrono::milliseconds> first_after) {
    jobs_.push_back(
        {std::move(name), every, std::move(job), clock::now() + first_after.value_or(every)});
}

void background_jobs::start() {
    if (jobs_.empty() || thread_.joinable()) return;
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "background");  // in top -H and perf
        loop();
    });
}

void background_jobs::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void background_jobs::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        const auto soonest =
            std::min_element(jobs_.begin(), jobs_.end(), [](const job& a, const job& b) {
                return a.next < b.next;
            })->next;
        if (wakeup_.wait_until(lock, soonest, [this] { return stopping_; })) return;
        lock.unlock();
        for (job& j : jobs_) {
            const auto now = clock::now();
            if (now < j.next) continue;
            try {
                j.run();
            } catch (const std::exception& e) {
                spdlog::error("background: {} failed, will retry: {}", j.name, e.what());
            }
            // Late by more than an interval: the next one an interval from
            // now, not a burst of catching up.
            const auto finished = clock::now();
            j.next = std::max(j.next + j.every, finished + j.every / 2);
        }
        lock.lock();
        if (stopping_) return;
    }
}

}  // namespace gw::app

#pragma once
// The gateway's periodic work, as named jobs on one thread of their own
// ("background" in top -H): each runs every `every`, the first time after
// `first_after`. A job that throws is logged by its name and runs again
// at its next time; the others are not held up by its failure. A job that
// overran its time runs once, not once per missed interval.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gw::app {

class background_jobs {
  public:
    background_jobs() = default;
    ~background_jobs() { stop(); }
    background_jobs(const background_jobs&) = delete;
    background_jobs& operator=(const background_jobs&) = delete;

    // Before start().
    void add(std::string name, std::chrono::milliseconds every, std::function<void()> job,
             std::optional<std::chrono::milliseconds> first_after = std::nullopt);
    void start();
    // Lets the job in progress finish, then returns; safe to call twice.
    void stop();

  private:
    using clock = std::chrono::steady_clock;
    struct job {
        std::string name;
        std::chrono::milliseconds every;
        std::function<void()> run;
        clock::time_point next;
    };
    void loop();

    std::vector<job> jobs_;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gw::app

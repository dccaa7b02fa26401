#pragma once
// Sends what the outbox holds, in lanes: one thread per SMS channel and
// one for the partners' webhooks (and any channel no longer configured),
// so a slow partner or an aggregator outage never holds up another
// channel's messages. Each lane claims its own due messages, hands each to
// its channel's adapter (or direct sender) and records the outcome: sent
// (with the aggregator's id, for delivery reports), retried later with
// exponential backoff and jitter, or dead after too many attempts or a
// refusal (visible to operators). Messages left "sending" by a crash are
// queued again at start.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "domain/outbound.hpp"
#include "store/store.hpp"

namespace gw::service {

using domain::http_transport;
using domain::transport_result;

struct outbox_settings {
    int max_attempts = 8;
    std::chrono::milliseconds base_delay{2000};
    std::chrono::milliseconds max_delay{10 * 60 * 1000};
    std::chrono::milliseconds poll_interval{1000};
    std::chrono::milliseconds request_timeout{10000};
    std::size_t batch = 20;
};

// A channel that sends without HTTP (an SMPP bind): called on the outbox
// thread, it returns once the message was accepted, refused or timed out.
using direct_sender = std::function<domain::send_outcome(const store::outbound_message&,
                                                         std::chrono::milliseconds timeout)>;

struct outbox_channel {
    const domain::outbound_adapter* adapter = nullptr;
    domain::channel_settings settings;
    direct_sender send;  // when set, used instead of adapter + transport
};

class outbox_worker {
  public:
    outbox_worker(store::store& store, http_transport& transport,
                  std::map<std::string, outbox_channel> channels, const clock_source& clock,
                  outbox_settings settings);
    ~outbox_worker();

    void start();
    void stop();
    // Something was queued: look now rather than at the next poll.
    void wake();
    // One pass over the due messages of every channel, on the caller's
    // thread; returns how many were attempted.
    std::size_t run_once();
    // The lanes start() runs: which channels each one claims.
    const std::vector<store::channel_filter>& lanes() const { return lanes_; }
    // Delay before attempt number `attempts + 1` (jittered: 50-100% of the backoff).
    std::chrono::milliseconds backoff(int attempts);

  private:
    void attempt(const store::outbound_message& m);
    std::size_t run_lane(const store::channel_filter& lane);

    store::store& store_;
    http_transport& transport_;
    std::map<std::string, outbox_channel> channels_;
    const clock_source& clock_;
    outbox_settings settings_;
    std::vector<store::channel_filter> lanes_;
    std::mutex random_mutex_;
    std::mt19937 random_{std::random_device{}()};
    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    std::vector<int> woken_;  // per lane
    std::vector<std::thread> threads_;
};

}  // namespace gw::service

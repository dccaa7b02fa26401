#pragma once
// Sends what the outbox holds. A background thread claims due messages,
// hands each to its channel's adapter to build the aggregator request,
// sends it through an http_transport, and records the outcome: sent (with
// the aggregator's id, for delivery reports), retried later with
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

#include "adapters/outbound_adapter.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace gw::service {

struct transport_result {
    int status = 0;  // 0: no HTTP answer (connection refused, timeout, TLS failure)
    std::string body;
    std::string error;
};

// Performs one outbound HTTP request. Implemented with Beast in the server module.
class http_transport {
  public:
    virtual ~http_transport() = default;
    virtual transport_result send(const adapters::outbound_request& req,
                                  std::chrono::milliseconds timeout) = 0;
};

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
using direct_sender = std::function<adapters::send_outcome(const store::outbound_message&,
                                                           std::chrono::milliseconds timeout)>;

struct outbox_channel {
    const adapters::outbound_adapter* adapter = nullptr;
    adapters::channel_settings settings;
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
    // One pass over due messages; returns how many were attempted.
    std::size_t run_once();
    // Delay before attempt number `attempts + 1` (jittered: 50-100% of the backoff).
    std::chrono::milliseconds backoff(int attempts);

  private:
    void attempt(const store::outbound_message& m);

    store::store& store_;
    http_transport& transport_;
    std::map<std::string, outbox_channel> channels_;
    const clock_source& clock_;
    outbox_settings settings_;
    std::mt19937 random_{std::random_device{}()};
    std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace gw::service

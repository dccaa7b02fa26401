#pragma once
// One operator's SMPP bind as a gateway channel, named "smpp-<operator>":
// USSD dialogues go into the same USSD service as the HTTP aggregators,
// MO SMS (parts put together) into the SMS service, delivery receipts into
// the outbox records; MT SMS leave through the outbox, which calls send().
// An SMS or receipt is acknowledged (deliver_sm_resp) only once stored.
//
// USSD steps are answered on the channel's own thread, in batches: every
// step that arrived while the previous batch was being written is taken
// together (its dialogues answered at once on a pool of hop threads, the
// steps of one dialogue in order), their session states are written in one
// transaction, and only then do their screens leave. No screen goes out before the state that
// answers her next input is in the store (another node or a restart reads
// it), and one fsync serves the whole batch.
#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/outbound_adapter.hpp"
#include "common/clock.hpp"
#include "service/sms_service.hpp"
#include "service/ussd_service.hpp"
#include "smpp/coding.hpp"
#include "smpp/dialogue.hpp"
#include "smpp/esme.hpp"
#include "store/store.hpp"

namespace gw::smpp {

class operator_channel {
  public:
    operator_channel(boost::asio::io_context& io, link_settings settings,
                     service::ussd_service& ussd, service::sms_service& sms, store::store& store,
                     const clock_source& clock);

    static std::string channel_name(const std::string& operator_name) {
        return "smpp-" + operator_name;
    }
    const std::string& channel() const { return channel_; }
    ~operator_channel();
    void start();
    // Answers the steps already received, then unbinds.
    void stop();
    link_state state() const { return esme_.state(); }

    // The outbox's sender (its own thread): every part submitted, waits
    // for the SMSC's answers until `timeout`.
    adapters::send_outcome send(const store::outbound_message& m,
                                std::chrono::milliseconds timeout);

  private:
    std::uint32_t on_deliver(const pdu& p);
    std::uint32_t on_ussd(const ussd_step& step);
    void answer_steps();  // the USSD thread
    std::uint32_t on_sms(const pdu& p, sms_in_part part);

    std::string channel_;
    link_settings settings_;
    service::ussd_service& ussd_;
    service::sms_service& sms_;
    store::store& store_;
    const clock_source& clock_;
    reassembler parts_;       // SMPP thread only
    std::string bind_nonce_;  // keeps message ids of different runs apart
    std::atomic<unsigned> next_reference_{0};
    std::mutex steps_mutex_;
    std::condition_variable steps_ready_;
    std::deque<std::pair<ussd_step, std::chrono::steady_clock::time_point>> steps_;
    bool stopping_ = false;
    // Hops of a batch: they mostly wait for the store (a case's commit).
    boost::asio::thread_pool hop_pool_{16};
    std::thread ussd_thread_;
    esme esme_;  // last: its handler uses the members above
};

}  // namespace gw::smpp

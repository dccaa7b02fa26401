#pragma once
// An SMPP 3.4 client (ESME) bound to one operator: one transceiver
// connection, or a transmitter and a receiver where the operator wants
// two. It connects, binds, keeps the link alive with enquire_link,
// answers every request it receives (deliver_sm through the handler,
// generic_nack for what it does not know), sends submit_sm within a
// window of outstanding requests, slows down when the SMSC says
// ESME_RTHROTTLED or ESME_RMSGQFUL, reconnects with backoff and jitter,
// and unbinds on stop.
//
// Thread model: everything runs on the io_context given, which must be
// run by exactly one thread (the SMPP thread); submit(), stop() and
// state() may be called from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/asio_fwd.hpp"
#include "smpp/dialogue.hpp"
#include "smpp/pdu.hpp"

namespace boost::asio {
class io_context;
}

namespace gw::smpp {

// A snapshot for /healthz and /metrics.
struct link_state {
    bool bound = false;
    std::string detail = "not started";  // "bound", "connecting", "bind refused: ..."
    long long binds = 0, link_losses = 0, throttled = 0, submitted = 0, submit_failures = 0,
              delivered = 0, nacks_sent = 0;
    std::size_t queued = 0;  // submits waiting for a bind or a window slot
};

struct submit_result {
    std::uint32_t status = 0;  // the SMSC's command_status (0: accepted)
    std::string message_id;
    std::string error;  // set when no answer came: not bound, timed out, link lost
    bool ok() const { return error.empty() && status == 0; }
};

class esme {
  public:
    // Called on the SMPP thread for every deliver_sm; returns the status
    // of the deliver_sm_resp (0 when the message is safely recorded; a
    // temporary error makes the SMSC deliver it again). Must not block long.
    using deliver_handler = std::function<std::uint32_t(const pdu&)>;

    esme(boost::asio::io_context& io, link_settings settings, deliver_handler handler);
    ~esme();
    esme(const esme&) = delete;
    esme& operator=(const esme&) = delete;

    void start();
    // Unbinds (waiting at most a second for the answer) and closes; queued
    // submits fail with "stopped". Returns at once; the io_context runs out
    // of work when the link is down.
    void stop();

    // Queues a submit_sm (sequence number added here). `done` runs on the
    // SMPP thread with the SMSC's answer, or an error once `deadline` has
    // passed without one (throttling is waited out until then).
    void submit(pdu p, std::chrono::steady_clock::time_point deadline,
                std::function<void(const submit_result&)> done);

    link_state state() const;
    const link_settings& settings() const;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace gw::smpp

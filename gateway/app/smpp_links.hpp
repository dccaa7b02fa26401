#pragma once
// The configured SMPP binds (smpp.operators), each an operator_channel,
// on one SMPP thread of their own: they never wait on HTTP work, nor it on
// them. The constructor shows them to the gateway (outbox channels,
// /healthz, /metrics). Start after constructing; stop before the
// gateway's outbox.
#include <memory>
#include <thread>
#include <vector>

#include "app/gateway.hpp"
#include "smpp/channel.hpp"

namespace gw::app {

class smpp_links {
  public:
    smpp_links(const config& c, gateway& gw, const clock_source& clock);
    ~smpp_links();
    smpp_links(const smpp_links&) = delete;
    smpp_links& operator=(const smpp_links&) = delete;

    bool empty() const { return channels_.empty(); }
    void start();
    // Unbinds every link (at most about a second) and joins the thread.
    void stop();
    const std::vector<std::unique_ptr<smpp::operator_channel>>& channels() const {
        return channels_;
    }

  private:
    struct io;
    std::unique_ptr<io> io_;
    std::vector<std::unique_ptr<smpp::operator_channel>> channels_;
    std::thread thread_;
};

}  // namespace gw::app

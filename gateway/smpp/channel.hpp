#pragma once
// One operator's SMPP bind as a gateway channel, named "smpp-<operator>":
// USSD dialogues go into the same USSD service as the HTTP aggregators,
// MO SMS (parts put together) into the SMS service, delivery receipts into
// the outbox records; MT SMS leave through the outbox, which calls send().
// A deliver_sm is acknowledged only after what it carried is stored.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

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
    void start() { esme_.start(); }
    void stop() { esme_.stop(); }
    link_state state() const { return esme_.state(); }

    // The outbox's sender (its own thread): every part submitted, waits
    // for the SMSC's answers until `timeout`.
    adapters::send_outcome send(const store::outbound_message& m,
                                std::chrono::milliseconds timeout);

  private:
    std::uint32_t on_deliver(const pdu& p);
    std::uint32_t on_ussd(const ussd_step& step);
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
    esme esme_;  // last: its handler uses the members above
};

}  // namespace gw::smpp

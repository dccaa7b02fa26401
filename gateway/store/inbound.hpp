#pragma once
// What aggregators deliver: her messages (each once), delivery reports,
// and her wish not to get SMS.
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class inbound_store {
  public:
    virtual ~inbound_store() = default;

    virtual std::optional<inbound_record> find_inbound(const std::string& aggregator,
                                                       const std::string& message_id) = 0;
    // In one transaction: the inbound message, the session (if any) and the
    // messages it causes. Messages to a number flagged "do not SMS" are
    // dropped. Returns false, writing nothing, when the message was already
    // recorded (a duplicate delivery).
    virtual bool commit_inbound(const inbound_record& in, const session_record* session,
                                const std::vector<outbound_message>& outbox) = 0;
    virtual bool no_sms(const std::string& phone) = 0;
    virtual void set_no_sms(const std::string& phone, bool value) = 0;
    // Records a report and moves the message to delivered/failed. Returns
    // false when no message has that provider id on that channel yet; the
    // report is kept and applied when mark_sent records that id (reports
    // can overtake the aggregator's answer to the send request).
    virtual bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                        message_status status, const std::string& detail,
                                        long long now) = 0;
    // She opted out with the aggregator (a report said so): flags the
    // recipient of that message "do not SMS". False when no message has it.
    virtual bool opt_out_recipient_of(const std::string& channel,
                                      const std::string& provider_id) = 0;
};

}  // namespace gw::store

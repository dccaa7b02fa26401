#pragma once
// An SMS aggregator adapter only translates: inbound callbacks and
// delivery reports into common values, outbound messages into the
// aggregator's HTTP API request, and its answer into a send outcome.
// Authentication, idempotency, storage, retries and logging belong to the
// service and the outbox worker.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/outbound_adapter.hpp"
#include "common/form.hpp"
#include "common/result.hpp"
#include "domain/status.hpp"
#include "http/message.hpp"

namespace gw::adapters {

struct inbound_sms {
    std::string message_id;  // the aggregator's id: duplicates share it
    std::string from;        // as received (not yet normalised)
    std::string to;
    std::string text;
};

struct delivery_report {
    std::string provider_id;
    domain::message_status status;     // delivered, failed, or sent (still on its way)
    std::string detail;                // the aggregator's own status words
    bool recipient_opted_out = false;  // she opted out with the aggregator (Twilio 21610)
};

class sms_adapter : public outbound_adapter {
  public:
    // True when the menu reply travels in the HTTP response (TwiML, Kannel)
    // instead of through the outbox.
    virtual bool reply_in_response() const { return false; }
    virtual result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const = 0;
    virtual result<std::vector<delivery_report>> parse_report(const http::request& req) const = 0;
    virtual http::response inbound_response(const std::optional<std::string>& reply) const;
};

// The callback's secret, from the X-Gateway-Token header or `?token=`,
// compared in constant time; false when no token is configured. Used by
// the SMS channels with auth "token" and by every USSD callback.
bool request_token_ok(const http::request& req, const std::string& token);

// Checks a callback against the channel's auth settings (constant time).
bool authenticate(const http::request& req, const channel_settings& c);

// The form fields of a request: the body for POST, the query for GET.
result<form_fields> request_fields(const http::request& req);

}  // namespace gw::adapters

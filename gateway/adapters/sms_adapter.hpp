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

#include "common/form.hpp"
#include "common/result.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace gw::adapters {

struct inbound_sms {
    std::string message_id;  // the aggregator's id: duplicates share it
    std::string from;        // as received (not yet normalised)
    std::string to;
    std::string text;
};

struct delivery_report {
    std::string provider_id;
    std::string status;  // delivered, failed, or sent (still on its way)
    std::string detail;  // the aggregator's own status words
};

// Per-channel settings from config. Secrets stay here and never reach a log.
struct channel_settings {
    std::string name;
    std::string auth_type = "token";  // none, token, basic, twilio_signature
    std::string token;                // auth_type token: ?token= or X-Gateway-Token
    std::string username, password;   // auth_type basic
    std::string auth_token;           // twilio_signature (the account's auth token)
    std::string public_url;           // base URL the aggregator calls (signatures)
    // Outbound.
    std::string send_url;
    std::string send_username;  // Kannel user, AT username, Twilio account SID
    std::string send_password;  // Kannel password, AT/Infobip API key, Twilio auth token
    std::string sender;         // from / short code
    std::string report_url;     // where the aggregator sends delivery reports
};

struct outbound_request {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct send_outcome {
    enum kind_t { sent, retry, reject } kind = retry;
    std::string provider_id;
    std::string error;  // short, without secrets
};

class sms_adapter {
public:
    virtual ~sms_adapter() = default;
    virtual std::string name() const = 0;
    // True when the menu reply travels in the HTTP response (TwiML, Kannel)
    // instead of through the outbox.
    virtual bool reply_in_response() const { return false; }
    virtual result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const = 0;
    virtual result<std::vector<delivery_report>> parse_report(const http::request& req) const = 0;
    virtual http::response inbound_response(const std::optional<std::string>& reply) const;
    virtual outbound_request build_send(const store::outbound_message& m,
                                        const channel_settings& c) const = 0;
    virtual send_outcome read_send_response(int status, const std::string& body,
                                            const store::outbound_message& m) const = 0;
};

// Checks a callback against the channel's auth settings (constant time).
bool authenticate(const http::request& req, const channel_settings& c);

// The form fields of a request: the body for POST, the query for GET.
result<form_fields> request_fields(const http::request& req);

// Standard status handling: 2xx ok, 429 and 5xx retry, other 4xx reject.
send_outcome outcome_from_status(int status, const std::string& what);

}  // namespace gw::adapters

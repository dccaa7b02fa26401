#pragma once
// Ports for what goes out: a channel's adapter turns a queued message into
// an HTTP request and reads the answer (SMS aggregators, partner webhooks);
// a transport performs the request. The outbox worker drives both.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "domain/records.hpp"

namespace gw::domain {

// How a channel's callbacks prove they come from its aggregator (config's
// `auth`: none, token, basic, or the name of one aggregator's own scheme).
enum class auth_kind {
    none,    // anyone may call (the config check warns)
    token,   // ?token= or the X-Gateway-Token header
    basic,   // HTTP Basic
    scheme,  // one aggregator's own (auth_scheme, e.g. twilio_signature): its folder checks it
};

// Per-channel settings from config. Secrets stay here and never reach a log.
struct channel_settings {
    std::string name;
    auth_kind auth = auth_kind::token;
    std::string auth_scheme;         // auth_kind::scheme: its name in the registry
    std::string token;               // auth_kind::token
    std::string username, password;  // auth_kind::basic
    std::string auth_token;          // twilio_signature (the account's auth token)
    std::string public_url;          // base URL the aggregator calls (signatures)
    // Outbound.
    std::string send_url;
    std::string send_username;  // Kannel user, AT username, Twilio account SID
    std::string send_password;  // Kannel password, AT/Infobip API key, Twilio token, webhook secret
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
    // The aggregator refused because she opted out with it (Twilio 21610):
    // no SMS to her until she writes a start keyword, like our own STOP.
    bool recipient_opted_out = false;
};

class outbound_adapter {
  public:
    virtual ~outbound_adapter() = default;
    virtual std::string name() const = 0;
    virtual outbound_request build_send(const outbound_message& m,
                                        const channel_settings& c) const = 0;
    virtual send_outcome read_send_response(int status, const std::string& body,
                                            const outbound_message& m) const = 0;
};

struct transport_result {
    int status = 0;  // 0: no HTTP answer (connection refused, timeout, TLS failure)
    std::string body;
    std::string error;
};

// Performs one outbound HTTP request (net/http_client.hpp: Beast over Asio).
class http_transport {
  public:
    virtual ~http_transport() = default;
    virtual transport_result send(const outbound_request& req,
                                  std::chrono::milliseconds timeout) = 0;
};

}  // namespace gw::domain

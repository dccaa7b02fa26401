#include <nlohmann/json.hpp>

#include "adapters/sms_adapters.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"

namespace gw::adapters {
namespace {

// Twilio's message statuses: queued, accepted, scheduled, sending and sent
// are on their way; read (a read receipt) implies delivered; canceled (a
// scheduled message withdrawn) never goes out.
domain::message_status status_of(const std::string& s) {
    using domain::message_status;
    if (s == "delivered" || s == "read" || s == "partially_delivered")
        return message_status::delivered;
    if (s == "undelivered" || s == "failed" || s == "canceled") return message_status::failed;
    return message_status::sent;
}

// "Attempt to send to unsubscribed recipient": she texted STOP to our Twilio sender.
constexpr int opted_out_error = 21610;

class twilio_sms final : public sms_adapter {
  public:
    std::string name() const override { return "twilio"; }
    bool reply_in_response() const override { return true; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        inbound_sms m;
        const std::string* sid = f->find("MessageSid");
        const std::string* from = f->find("From");
        if (!sid || sid->empty()) return failure{"missing field: MessageSid"};
        if (!from || from->empty()) return failure{"missing field: From"};
        m.message_id = *sid;
        m.from = *from;
        if (const std::string* v = f->find("To")) m.to = *v;
        if (const std::string* v = f->find("Body")) m.text = *v;
        return std::vector<inbound_sms>{m};
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        const std::string* sid = f->find("MessageSid");
        const std::string* status = f->find("MessageStatus");
        if (!sid || sid->empty() || !status)
            return failure{"missing field: MessageSid or MessageStatus"};
        delivery_report r{*sid, status_of(*status), *status};
        if (const std::string* code = f->find("ErrorCode"); code && !code->empty()) {
            r.detail += " " + *code;
            r.recipient_opted_out = *code == std::to_string(opted_out_error);
        }
        return std::vector<delivery_report>{r};
    }

    http::response inbound_response(const std::optional<std::string>& reply) const override {
        http::response r;
        r.content_type = "text/xml; charset=utf-8";
        r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        r.body += reply ? "<Response><Message>" + escape_markup(*reply) + "</Message></Response>"
                        : "<Response/>";
        return r;
    }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.url = c.send_url + "/2010-04-01/Accounts/" + c.send_username + "/Messages.json";
        r.headers = {
            {"Authorization", "Basic " + base64_encode(c.send_username + ":" + c.send_password)},
            {"Content-Type", "application/x-www-form-urlencoded"}};
        // A Messaging Service SID (MG + 32 hex) sends from the service's number pool.
        const bool service = c.sender.size() == 34 && c.sender.rfind("MG", 0) == 0;
        r.body = "To=" + url_encode_component(m.recipient) +
                 (service ? "&MessagingServiceSid=" : "&From=") + url_encode_component(c.sender) +
                 "&Body=" + url_encode_component(m.body);
        if (!c.report_url.empty())
            r.body += "&StatusCallback=" + url_encode_component(c.report_url);
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const domain::outbound_message&) const override {
        send_outcome out = outcome_from_status(status, "Twilio");
        if (out.kind == send_outcome::reject) {
            // Errors are JSON: {"code": 21610, "message": "...", "status": 400}.
            auto j = nlohmann::json::parse(body, nullptr, false);
            if (j.is_object() && j.contains("code") && j["code"].is_number_integer()) {
                const int code = j["code"].get<int>();
                out.error = "Twilio error " + std::to_string(code);
                if (code == opted_out_error) {
                    out.recipient_opted_out = true;
                    out.error += ": she opted out (STOP) at Twilio";
                }
            }
        }
        if (out.kind != send_outcome::sent) return out;
        try {
            return {send_outcome::sent, nlohmann::json::parse(body).at("sid").get<std::string>(),
                    ""};
        } catch (const nlohmann::json::exception&) {
            return {send_outcome::retry, "", "Twilio answer not understood"};
        }
    }
};

}  // namespace

std::unique_ptr<sms_adapter> make_twilio_sms() {
    return std::make_unique<twilio_sms>();
}

}  // namespace gw::adapters

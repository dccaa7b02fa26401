#include <nlohmann/json.hpp>

#include "adapters/sms_adapters.hpp"
#include "common/text.hpp"

namespace gw::adapters {
namespace {

// Sent, Submitted and Buffered are on their way; Success is delivered.
// Everything else is final and not delivered: Rejected, Failed, Expired,
// AbsentSubscriber (the telco gave up), and words we do not know yet,
// which are logged with the report rather than left "sent" for ever.
domain::message_status status_of(const std::string& s) {
    using domain::message_status;
    if (s == "Success") return message_status::delivered;
    if (s == "Sent" || s == "Submitted" || s == "Buffered") return message_status::sent;
    return message_status::failed;
}

class africastalking_sms final : public sms_adapter {
  public:
    std::string name() const override { return "africastalking"; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        inbound_sms m;
        for (auto [field, into] : {std::pair{"id", &m.message_id}, std::pair{"from", &m.from},
                                   std::pair{"text", &m.text}}) {
            const std::string* v = f->find(field);
            if (!v || (v->empty() && std::string(field) != "text"))
                return failure{std::string("missing field: ") + field};
            *into = *v;
        }
        if (const std::string* to = f->find("to")) m.to = *to;
        return std::vector<inbound_sms>{m};
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        const std::string* id = f->find("id");
        const std::string* status = f->find("status");
        if (!id || id->empty() || !status) return failure{"missing field: id or status"};
        delivery_report r{*id, status_of(*status), *status};
        if (const std::string* reason = f->find("failureReason"); reason && !reason->empty())
            r.detail += " " + *reason;
        return std::vector<delivery_report>{r};
    }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.url = c.send_url;
        r.headers = {{"apiKey", c.send_password},
                     {"Accept", "application/json"},
                     {"Content-Type", "application/x-www-form-urlencoded"}};
        r.body = "username=" + url_encode_component(c.send_username) +
                 "&to=" + url_encode_component(m.recipient) +
                 "&message=" + url_encode_component(m.body);
        if (!c.sender.empty()) r.body += "&from=" + url_encode_component(c.sender);
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const domain::outbound_message&) const override {
        send_outcome out = outcome_from_status(status, "Africa's Talking");
        if (out.kind != send_outcome::sent) return out;
        try {
            auto j = nlohmann::json::parse(body);
            const auto& rec = j.at("SMSMessageData").at("Recipients").at(0);
            int code = rec.at("statusCode").get<int>();
            if (code >= 100 && code <= 102) return {send_outcome::sent, rec.at("messageId"), ""};
            std::string err = "Africa's Talking status " + std::to_string(code);
            // Balance and gateway trouble pass; a bad number or blacklist does not.
            if (code == 405 || code >= 500) return {send_outcome::retry, "", err};
            // 406 UserInBlacklist: she opted out of our sender with the telco.
            if (code == 406) return {send_outcome::reject, "", err + " (she opted out)", true};
            return {send_outcome::reject, "", err};
        } catch (const nlohmann::json::exception&) {
            return {send_outcome::retry, "", "Africa's Talking answer not understood"};
        }
    }
};

}  // namespace

std::unique_ptr<sms_adapter> make_africastalking_sms() {
    return std::make_unique<africastalking_sms>();
}

}  // namespace gw::adapters

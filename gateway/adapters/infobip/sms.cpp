#include <nlohmann/json.hpp>

#include "adapters/sms_adapters.hpp"
#include "common/text.hpp"

namespace gw::adapters {
namespace {

using nlohmann::json;

// Infobip sends numbers without '+'.
std::string with_plus(const std::string& n) {
    return !n.empty() && n[0] != '+' ? "+" + n : n;
}

result<json> parse_results(const http::request& req) {
    if (!is_valid_utf8(req.body)) return failure{"body is not UTF-8"};
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) return failure{"malformed JSON"};
    if (!j.is_object() || !j.contains("results") || !j["results"].is_array())
        return failure{"expected an object with a `results` array"};
    return j;
}

std::string string_at(const json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return {};
    return it->is_string() ? it->get<std::string>() : it->dump();
}

class infobip_sms final : public sms_adapter {
  public:
    std::string name() const override { return "infobip"; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto j = parse_results(req);
        if (!j) return failure{j.error()};
        std::vector<inbound_sms> out;
        for (const auto& r : (*j)["results"]) {
            if (!r.is_object()) return failure{"each result must be an object"};
            inbound_sms m{string_at(r, "messageId"), with_plus(string_at(r, "from")),
                          with_plus(string_at(r, "to")), string_at(r, "text")};
            // cleanText is the text without the keyword Infobip matched; we want it all.
            if (m.message_id.empty()) return failure{"result without messageId"};
            if (m.from.empty()) return failure{"result without from"};
            out.push_back(std::move(m));
        }
        return out;
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto j = parse_results(req);
        if (!j) return failure{j.error()};
        std::vector<delivery_report> out;
        for (const auto& r : (*j)["results"]) {
            if (!r.is_object() || !r.contains("status") || !r["status"].is_object())
                return failure{"result without status"};
            std::string group = string_at(r["status"], "groupName");
            delivery_report d{string_at(r, "messageId"), domain::message_status::sent,
                              group + " " + string_at(r["status"], "name")};
            if (d.provider_id.empty()) return failure{"result without messageId"};
            if (group == "DELIVERED") d.status = domain::message_status::delivered;
            if (group == "UNDELIVERABLE" || group == "EXPIRED" || group == "REJECTED")
                d.status = domain::message_status::failed;
            out.push_back(std::move(d));
        }
        return out;
    }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.url = c.send_url + "/sms/2/text/advanced";
        r.headers = {{"Authorization", "App " + c.send_password},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
        json msg = {{"destinations",
                     json::array({{{"to", m.recipient.substr(m.recipient[0] == '+' ? 1 : 0)}}})},
                    {"text", m.body}};
        if (!c.sender.empty()) msg["from"] = c.sender;
        if (!c.report_url.empty()) msg["notifyUrl"] = c.report_url;
        r.body = json{{"messages", json::array({msg})}}.dump();
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const domain::outbound_message&) const override {
        send_outcome out = outcome_from_status(status, "Infobip");
        if (out.kind != send_outcome::sent) return out;
        json j = json::parse(body, nullptr, false);
        if (j.is_discarded()) return {send_outcome::retry, "", "Infobip answer not understood"};
        try {
            const auto& msg = j.at("messages").at(0);
            if (msg.contains("status") && string_at(msg["status"], "groupName") == "REJECTED")
                return {send_outcome::reject, "",
                        "Infobip rejected: " + string_at(msg["status"], "name")};
            return {send_outcome::sent, string_at(msg, "messageId"), ""};
        } catch (const json::exception&) {
            return {send_outcome::retry, "", "Infobip answer not understood"};
        }
    }
};

}  // namespace

std::unique_ptr<sms_adapter> make_infobip_sms() {
    return std::make_unique<infobip_sms>();
}

}  // namespace gw::adapters

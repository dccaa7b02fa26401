#include "adapters/sms_adapters.hpp"
#include "common/text.hpp"

namespace gw::adapters {
namespace {

// Kannel's sendsms answers without an id of its own, so each message
// carries ours in its dlr-url: "ob-<outbox id>".
std::string reference_of(const store::outbound_message& m) { return "ob-" + std::to_string(m.id); }

bool has_query_parameter(const std::string& url, const std::string& name) {
    auto q = url.find('?');
    if (q == std::string::npos) return false;
    auto f = parse_form(std::string_view(url).substr(q + 1));
    return f && f->find(name);
}

class kannel_sms final : public sms_adapter {
public:
    std::string name() const override { return "kannel"; }
    bool reply_in_response() const override { return true; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto f = parse_form(req.query);
        if (!f) return failure{f.error()};
        inbound_sms m;
        const std::string* id = f->find("id");
        const std::string* from = f->find("from");
        if (!id || id->empty()) return failure{"missing parameter: id"};
        if (!from || from->empty()) return failure{"missing parameter: from"};
        m.message_id = *id;
        m.from = *from;
        if (const std::string* v = f->find("to")) m.to = *v;
        if (const std::string* v = f->find("text")) m.text = *v;
        return std::vector<inbound_sms>{m};
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto f = parse_form(req.query);
        if (!f) return failure{f.error()};
        const std::string* ref = f->find("ref");
        const std::string* status = f->find("status");
        if (!ref || ref->empty() || !status) return failure{"missing parameter: ref or status"};
        // dlr-mask bits: 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected.
        delivery_report r{*ref, "sent", "kannel status " + *status};
        if (*status == "1") r.status = "delivered";
        if (*status == "2" || *status == "16") r.status = "failed";
        return std::vector<delivery_report>{r};
    }

    http::response inbound_response(const std::optional<std::string>& reply) const override {
        http::response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = reply.value_or("");
        // Without this Kannel sends the reply as 7-bit and Cyrillic becomes '?'.
        if (!is_gsm7(r.body)) r.headers.emplace_back("X-Kannel-Coding", "2");
        return r;
    }

    outbound_request build_send(const store::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.method = "GET";
        // Kannel calls the dlr-url as given, so it carries the channel's
        // token (or the report is refused like any unauthenticated callback).
        // Kannel keeps a '%' followed by a digit as it is: an encoded ASCII
        // token survives its %-escapes.
        std::string dlr = c.report_url;
        if (!dlr.empty()) {
            auto separator = [&] { return dlr.find('?') == std::string::npos ? "?" : "&"; };
            if (c.auth_type == "token" && !c.token.empty() && !has_query_parameter(dlr, "token"))
                dlr += separator() + std::string("token=") + url_encode_component(c.token);
            dlr += separator() + std::string("ref=") + reference_of(m) + "&status=%d";
        }
        r.url = c.send_url + (c.send_url.find('?') == std::string::npos ? "?" : "&") +
                "username=" + url_encode_component(c.send_username) +
                "&password=" + url_encode_component(c.send_password) +
                "&to=" + url_encode_component(m.recipient) +
                "&text=" + url_encode_component(m.body) + "&charset=UTF-8";
        if (!is_gsm7(m.body)) r.url += "&coding=2";
        if (!c.sender.empty()) r.url += "&from=" + url_encode_component(c.sender);
        if (!dlr.empty()) r.url += "&dlr-mask=31&dlr-url=" + url_encode_component(dlr);
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const store::outbound_message& m) const override {
        send_outcome out = outcome_from_status(status, "Kannel");
        if (out.kind != send_outcome::sent) return out;
        // "0: Accepted for delivery" or "3: Queued for later delivery".
        if (body.rfind("0:", 0) == 0 || body.rfind("3:", 0) == 0)
            return {send_outcome::sent, reference_of(m), ""};
        return {send_outcome::retry, "", "Kannel answer not understood"};
    }
};

}  // namespace

std::unique_ptr<sms_adapter> make_kannel_sms() { return std::make_unique<kannel_sms>(); }

std::vector<std::unique_ptr<sms_adapter>> all_sms_adapters() {
    std::vector<std::unique_ptr<sms_adapter>> out;
    out.push_back(make_africastalking_sms());
    out.push_back(make_twilio_sms());
    out.push_back(make_infobip_sms());
    out.push_back(make_kannel_sms());
    return out;
}

}  // namespace gw::adapters

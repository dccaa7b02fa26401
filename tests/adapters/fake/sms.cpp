#include "adapters/fake/sms.hpp"

#include "common/form.hpp"

namespace gw::test {
namespace {

using namespace gw::adapters;

class fake_sms final : public sms_adapter {
  public:
    std::string name() const override { return "fake"; }
    bool reply_in_response() const override { return true; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        const std::string *from = f->find("from"), *text = f->find("text"), *id = f->find("id");
        if (!from || !text || !id) return failure{"from, text and id are required"};
        const std::string* to = f->find("to");
        return std::vector<inbound_sms>{{*id, *from, to ? *to : "", *text}};
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto f = request_fields(req);
        if (!f) return failure{f.error()};
        const std::string *id = f->find("id"), *status = f->find("status");
        if (!id || !status) return failure{"id and status are required"};
        using domain::message_status;
        const message_status s = *status == "DELIVERED" ? message_status::delivered
                                 : *status == "FAILED"  ? message_status::failed
                                                        : message_status::sent;
        return std::vector<delivery_report>{{*id, s, "fake " + *status}};
    }

    http::response inbound_response(const std::optional<std::string>& reply) const override {
        http::response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = reply.value_or("");
        return r;
    }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.url = c.send_url;
        r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
        r.body = form({{"to", m.recipient}, {"text", m.body}, {"sender", c.sender}});
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const domain::outbound_message&) const override {
        send_outcome out = outcome_from_status(status, "Fake");
        if (out.kind == send_outcome::sent) out.provider_id = body;
        return out;
    }

  private:
    static std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
        std::string out;
        for (const auto& [k, v] : fields)
            out += (out.empty() ? "" : "&") + k + "=" + url_encode_component(v);
        return out;
    }
};

}  // namespace

std::unique_ptr<adapters::sms_adapter> make_fake_sms() {
    return std::make_unique<fake_sms>();
}

}  // namespace gw::test

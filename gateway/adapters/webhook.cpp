#include "adapters/webhook.hpp"

#include <chrono>
#include <sstream>

#include "common/crypto.hpp"

namespace gw::adapters {

namespace {
std::optional<std::string> key_of(const std::string& secret) {
    const std::string prefix = "whsec_";
    return base64_decode(secret.rfind(prefix, 0) == 0 ? secret.substr(prefix.size()) : secret);
}
}  // namespace

std::optional<std::string> sign_webhook(const std::string& secret, const std::string& id,
                                        long long timestamp, const std::string& body) {
    auto key = key_of(secret);
    if (!key || key->empty()) return std::nullopt;
    std::string content = id + "." + std::to_string(timestamp) + "." + body;
    return "v1," + base64_encode(hmac_sha256(*key, content));
}

bool verify_webhook(const std::string& secret, const std::string& id, long long timestamp,
                    const std::string& body, const std::string& signature_header, long long now,
                    long long tolerance_s) {
    if (timestamp < now - tolerance_s || timestamp > now + tolerance_s) return false;
    auto expected = sign_webhook(secret, id, timestamp, body);
    if (!expected) return false;
    std::istringstream in(signature_header);
    bool ok = false;
    for (std::string sig; in >> sig;) ok |= constant_time_equal(sig, *expected);
    return ok;
}

namespace {

class webhook_sender final : public outbound_adapter {
  public:
    std::string name() const override { return "webhook"; }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
        const std::string id = "msg_" + std::to_string(m.id);  // stable across retries
        outbound_request r;
        r.url = c.send_url;
        r.body = m.body;
        r.headers = {{"Content-Type", "application/json"},
                     {"webhook-id", id},
                     {"webhook-timestamp", std::to_string(now)}};
        if (auto sig = sign_webhook(c.send_password, id, now, m.body))
            r.headers.emplace_back("webhook-signature", *sig);
        return r;
    }

    send_outcome read_send_response(int status, const std::string&,
                                    const domain::outbound_message& m) const override {
        send_outcome out = outcome_from_status(status, "webhook");
        if (out.kind == send_outcome::sent) out.provider_id = "msg_" + std::to_string(m.id);
        // A partner endpoint that is gone (404/410) or refuses may be fixed
        // later by its owner: keep trying within the attempt budget.
        if (out.kind == send_outcome::reject) out.kind = send_outcome::retry;
        return out;
    }
};

}  // namespace

std::unique_ptr<outbound_adapter> make_webhook_sender() {
    return std::make_unique<webhook_sender>();
}

}  // namespace gw::adapters

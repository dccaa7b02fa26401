// One harness for every aggregator (issue #16, after nyaruka/courier's
// handlertest): each incoming row goes through the gateway's real router
// (request -> status, body, what was stored and queued); each outgoing row
// goes through the real outbox and checks the exact request it built; every
// row checks that no configured secret, and not her number, reached the log.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/webhook.hpp"
#include "app/gateway.hpp"
#include "common/crypto.hpp"
#include "common/form.hpp"
#include "support/http_client.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

const std::string her = "+996555123456";
// Every secret the config below holds: none may ever be logged.
const std::vector<std::string> secrets = {"at-secret",     "at-key-secret",  "tw-auth-secret",
                                          "tw-api-secret", "ib-pass-secret", "ib-key-secret",
                                          "k-secret",      "k-send-secret",  test::ussd_token};

const std::string config_yaml =
    "sms:\n"
    "  base_delay_ms: 50\n"
    "  poll_interval_ms: 20\n"
    "  channels:\n"
    "    africastalking: {auth: token, token: at-secret, send_url: 'http://at.test/version1/"
    "messaging', send_username: sandbox, send_password: at-key-secret, sender: '5555'}\n"
    "    twilio: {auth: twilio_signature, auth_token: tw-auth-secret, public_url: "
    "'https://hotline.example.org', send_url: 'https://api.twilio.test', send_username: AC123, "
    "send_password: tw-api-secret, sender: '+15005550006'}\n"
    "    infobip: {auth: basic, username: ib, password: ib-pass-secret, send_url: "
    "'https://ib.test', send_password: ib-key-secret, sender: HOTLINE}\n"
    "    kannel: {auth: token, token: k-secret, send_url: "
    "'http://127.0.0.1:13013/cgi-bin/sendsms', "
    "send_username: gw, send_password: k-send-secret, sender: '1313', report_url: "
    "'http://127.0.0.1:8080/sms/kannel/dlr'}\n";

// Records what the outbox sends, answers each aggregator as its API would.
class capturing_transport : public domain::http_transport {
  public:
    domain::transport_result send(const domain::outbound_request& req,
                                  std::chrono::milliseconds) override {
        std::lock_guard lock(mutex_);
        sent_.push_back(req);
        changed_.notify_all();
        return {200,
                R"({"sid":"SM1","messages":[{"messageId":"ib-1","status":{"groupId":1}}],)"
                R"("SMSMessageData":{"Recipients":[{"messageId":"at-1","status":"Success",)"
                R"("statusCode":101}]}})",
                ""};
    }
    // The first request sent to a URL starting with `prefix`.
    std::optional<domain::outbound_request> first_to(const std::string& prefix,
                                                     std::chrono::milliseconds wait) {
        std::unique_lock lock(mutex_);
        std::optional<domain::outbound_request> found;
        changed_.wait_for(lock, wait, [&] {
            for (const auto& r : sent_)
                if (r.url.rfind(prefix, 0) == 0) {
                    found = r;
                    return true;
                }
            return false;
        });
        return found;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<domain::outbound_request> sent_;
};

struct incoming_row {
    std::string name;
    std::string method, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int status;
    std::string body_contains;  // "" : not checked
    std::string stored;         // "aggregator:message id" expected stored; "" : nothing stored
};

struct outgoing_row {
    std::string channel;
    std::string method, url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class AggregatorHarness : public ::testing::Test {
  protected:
    AggregatorHarness() {
        auto cfg = app::load_config(test::write_test_config(dir, config_yaml));
        for (const auto& d : cfg.diagnostics) EXPECT_TRUE(d.warning) << menu::format(d);
        gateway = std::make_unique<app::gateway>(cfg.value, clock);
    }

    http::request make(const incoming_row& row) {
        http::request r;
        r.method = row.method;
        r.target = row.target;
        http::split_target(r);
        r.headers = row.headers;
        r.body = row.body;
        r.remote_address = "127.0.0.1";
        return r;
    }

    void expect_nothing_secret_logged(const std::string& row) {
        const std::string text = log.text();
        for (const auto& s : secrets)
            EXPECT_EQ(text.find(s), std::string::npos) << row << ": the log holds " << s;
        EXPECT_EQ(text.find(her.substr(1)), std::string::npos) << row << ": her number in the log";
    }

    test::log_capture log;  // first: it sees the gateway's whole life
    test::temp_dir dir;
    system_clock_source clock;
    std::unique_ptr<app::gateway> gateway;
};

std::string twilio_signature(const std::string& path,
                             const std::vector<std::pair<std::string, std::string>>& fields) {
    auto sorted = fields;
    std::sort(sorted.begin(), sorted.end());
    std::string data = "https://hotline.example.org" + path;
    for (const auto& [k, v] : sorted) data += k + v;
    return base64_encode(hmac_sha1("tw-auth-secret", data));
}

const std::string form_ct = "application/x-www-form-urlencoded";

}  // namespace

TEST_F(AggregatorHarness, EveryCallbackGoesThroughTheRealRouter) {
    const std::vector<std::pair<std::string, std::string>> tw_fields = {
        {"MessageSid", "SMtw1"}, {"From", her}, {"To", "+15005550006"}, {"Body", "HELP"}};
    std::string tw_body;
    for (const auto& [k, v] : tw_fields)
        tw_body += (tw_body.empty() ? "" : "&") + k + "=" + url_encode_component(v);
    const std::vector<incoming_row> rows = {
        {"Africa's Talking SMS",
         "POST",
         "/sms/africastalking",
         {{"Content-Type", form_ct}, {"X-Gateway-Token", "at-secret"}},
         test::form({{"from", her}, {"to", "5555"}, {"text", "HELP"}, {"id", "at-in-1"}}),
         200,
         "",
         "africastalking:at-in-1"},
        {"Africa's Talking SMS, wrong token",
         "POST",
         "/sms/africastalking",
         {{"Content-Type", form_ct}, {"X-Gateway-Token", "guess"}},
         test::form({{"from", her}, {"to", "5555"}, {"text", "HELP"}, {"id", "at-in-2"}}),
         403,
         "",
         ""},
        {"Africa's Talking SMS, fields missing",
         "POST",
         "/sms/africastalking",
         {{"Content-Type", form_ct}, {"X-Gateway-Token", "at-secret"}},
         test::form({{"text", "HELP"}}),
         400,
         "",
         ""},
        {"Twilio SMS, signed",
         "POST",
         "/sms/twilio",
         {{"Content-Type", form_ct},
          {"X-Twilio-Signature", twilio_signature("/sms/twilio", tw_fields)}},
         tw_body,
         200,
         "<Response>",
         "twilio:SMtw1"},
        {"Twilio SMS, forged signature",
         "POST",
         "/sms/twilio",
         {{"Content-Type", form_ct},
          {"X-Twilio-Signature", base64_encode(hmac_sha1("guess", "x"))}},
         test::form({{"MessageSid", "SMtw2"}, {"From", her}, {"To", "+1"}, {"Body", "HELP"}}),
         403,
         "",
         ""},
        {"Infobip SMS, basic auth",
         "POST",
         "/sms/infobip",
         {{"Content-Type", "application/json"},
          {"Authorization", "Basic " + base64_encode("ib:ib-pass-secret")}},
         R"({"results":[{"messageId":"ib-in-1","from":"996555123456","to":"HOTLINE","text":"HELP"}]})",
         200,
         "",
         "infobip:ib-in-1"},
        {"Infobip SMS, wrong password",
         "POST",
         "/sms/infobip",
         {{"Content-Type", "application/json"},
          {"Authorization", "Basic " + base64_encode("ib:guess")}},
         R"({"results":[{"messageId":"ib-in-2","from":"996555123456","to":"H","text":"HELP"}]})",
         403,
         "",
         ""},
        {"Kannel SMS",
         "GET",
         "/sms/kannel?" + test::form({{"from", her},
                                      {"to", "1313"},
                                      {"text", "HELP"},
                                      {"id", "k-in-1"},
                                      {"token", "k-secret"}}),
         {},
         "",
         200,
         "",
         "kannel:k-in-1"},
        {"Kannel SMS, no token",
         "GET",
         "/sms/kannel?" +
             test::form({{"from", her}, {"to", "1313"}, {"text", "HELP"}, {"id", "k2"}}),
         {},
         "",
         403,
         "",
         ""},
        {"Africa's Talking USSD, first hop",
         "POST",
         test::ussd_path,
         {{"Content-Type", form_ct}},
         test::form({{"sessionId", "u-1"},
                     {"serviceCode", "*1313#"},
                     {"phoneNumber", her},
                     {"networkCode", "43701"},
                     {"text", ""}}),
         200,
         "CON ",
         ""},
        {"Africa's Talking USSD, wrong token",
         "POST",
         "/ussd/africastalking?token=guess",
         {{"Content-Type", form_ct}},
         test::form(
             {{"sessionId", "u-2"}, {"serviceCode", "*1313#"}, {"phoneNumber", her}, {"text", ""}}),
         403,
         "",
         ""},
        {"an aggregator nobody configured",
         "POST",
         "/sms/nope",
         {{"Content-Type", form_ct}},
         "from=1",
         404,
         "",
         ""},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.name);
        auto res = gateway->handle(make(row));
        EXPECT_EQ(res.status, row.status) << res.body;
        if (!row.body_contains.empty())
            EXPECT_NE(res.body.find(row.body_contains), std::string::npos) << res.body;
        if (!row.stored.empty()) {
            const auto colon = row.stored.find(':');
            EXPECT_TRUE(gateway->storage().find_inbound(row.stored.substr(0, colon),
                                                        row.stored.substr(colon + 1)))
                << "not stored: " << row.stored;
        }
        expect_nothing_secret_logged(row.name);
    }
    // The two aggregators that take replies through their API got one each,
    // queued in the outbox (Twilio and Kannel answer in the response body).
    std::size_t queued_at = 0, queued_ib = 0;
    for (const auto& m : gateway->storage().outbound_to(her)) {
        queued_at += m.channel == "africastalking";
        queued_ib += m.channel == "infobip";
    }
    EXPECT_EQ(queued_at, 1u);
    EXPECT_EQ(queued_ib, 1u);
    EXPECT_FALSE(gateway->storage().find_inbound("africastalking", "at-in-2")) << "refused";
}

TEST_F(AggregatorHarness, EveryChannelSendsExactlyTheRequestItsApiWants) {
    const std::string text = "Сиз R-1234567";  // UTF-8: Kannel must be told (coding=2)
    const std::string text_enc = "%D0%A1%D0%B8%D0%B7%20R-1234567";
    const std::vector<outgoing_row> rows = {
        {"africastalking",
         "POST",
         "http://at.test/version1/messaging",
         {{"apiKey", "at-key-secret"}, {"Accept", "application/json"}, {"Content-Type", form_ct}},
         "username=sandbox&to=%2B996555123456&message=" + text_enc + "&from=5555"},
        {"twilio",
         "POST",
         "https://api.twilio.test/2010-04-01/Accounts/AC123/Messages.json",
         {{"Authorization", "Basic " + base64_encode("AC123:tw-api-secret")},
          {"Content-Type", form_ct}},
         "To=%2B996555123456&From=%2B15005550006&Body=" + text_enc +
             "&StatusCallback=https%3A%2F%2Fhotline.example.org%2Fsms%2Ftwilio%2Fdlr"},
        {"infobip",
         "POST",
         "https://ib.test/sms/2/text/advanced",
         {{"Authorization", "App ib-key-secret"},
          {"Content-Type", "application/json"},
          {"Accept", "application/json"}},
         R"({"messages":[{"destinations":[{"to":"996555123456"}],"from":"HOTLINE","text":")" +
             text + R"("}]})"},
        {"kannel",
         "GET",
         "http://127.0.0.1:13013/cgi-bin/"
         "sendsms?username=gw&password=k-send-secret&to=%2B996555123456"
         "&text=" +
             text_enc +
             "&charset=UTF-8&coding=2&from=1313&dlr-mask=31&dlr-url="
             "http%3A%2F%2F127.0.0.1%3A8080%2Fsms%2Fkannel%2Fdlr%3Ftoken%3Dk-secret%26ref%3Dob-{id}"
             "%26status%3D%25d",
         {},
         ""},
    };
    capturing_transport transport;
    std::map<std::string, long long> ids;
    for (const auto& row : rows) {
        domain::outbound_message m;
        m.channel = row.channel;
        m.recipient = her;
        m.body = text;
        m.purpose = "menu_reply";
        m.created_at = 1;
        ids[row.channel] = gateway->storage().enqueue_outbound(m);
    }
    gateway->start_outbox(transport);
    for (const auto& row : rows) {
        SCOPED_TRACE(row.channel);
        std::string url = row.url;
        if (auto p = url.find("{id}"); p != std::string::npos)
            url.replace(p, 4, std::to_string(ids[row.channel]));
        auto sent = transport.first_to(url.substr(0, url.find('?')), 5s);
        ASSERT_TRUE(sent) << "nothing sent";
        EXPECT_EQ(sent->method, row.method);
        EXPECT_EQ(sent->url, url);
        EXPECT_EQ(sent->headers, row.headers);
        EXPECT_EQ(sent->body, row.body);
    }
    gateway->stop_outbox();
    expect_nothing_secret_logged("sending");
}

// Partners' webhooks: Standard Webhooks signature over id, timestamp and body.
TEST_F(AggregatorHarness, AWebhookIsSignedAsStandardWebhooksSays) {
    auto sender = adapters::make_webhook_sender();
    domain::outbound_message m;
    m.id = 7;
    m.channel = "webhook:legal_aid_osh";
    m.recipient = "https://partner.example.org/hooks";
    m.body = R"({"type":"referral.created","reference":"R-1234567"})";
    m.created_at = 1700000000;
    adapters::channel_settings c;
    c.send_url = m.recipient;
    c.send_password = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    auto r = sender->build_send(m, c);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://partner.example.org/hooks");
    EXPECT_EQ(r.body, m.body);
    std::map<std::string, std::string> h(r.headers.begin(), r.headers.end());
    ASSERT_TRUE(h.count("webhook-id") && h.count("webhook-timestamp") &&
                h.count("webhook-signature"));
    auto expected = adapters::sign_webhook(c.send_password, h["webhook-id"],
                                           std::stoll(h["webhook-timestamp"]), m.body);
    ASSERT_TRUE(expected);
    EXPECT_EQ(h["webhook-id"], "msg_7") << "stable across retries: the partner drops repeats";
    EXPECT_EQ(h["webhook-signature"], *expected);
    EXPECT_EQ(h["Content-Type"], "application/json");
    expect_nothing_secret_logged("webhook");
}

// SMS callbacks of all four aggregator formats against the real server,
// with replies through the HTTP response (Twilio, Kannel) or through the
// outbox to a stand-in aggregator API (Africa's Talking, Infobip).
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>

#include "app/gateway.hpp"
#include "common/crypto.hpp"
#include "integration/fake_aggregator.hpp"
#include "net/http_client.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace std::chrono_literals;

namespace {

class SmsOverHttp : public ::testing::Test {
  protected:
    test::http_reply post(const std::string& path, const std::string& body,
                          const std::string& content_type = "application/x-www-form-urlencoded",
                          const std::string& extra_headers = "") {
        return test::send_raw(port, "POST " + path +
                                        " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                        "Content-Type: " +
                                        content_type + "\r\n" + extra_headers + "Content-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body);
    }

    test::http_reply twilio(const std::string& sid, const std::string& from,
                            const std::string& body) {
        std::string form = test::form(
            {{"MessageSid", sid}, {"From", from}, {"To", "+15005550006"}, {"Body", body}});
        // Signature over the public URL and the sorted parameters.
        std::string data = "https://hotline.example.org/sms/twilio" + std::string("Body") + body +
                           "From" + from + "MessageSid" + sid + "To" + "+15005550006";
        std::string sig = base64_encode(hmac_sha1("tw-token", data));
        return post("/sms/twilio", form, "application/x-www-form-urlencoded",
                    "X-Twilio-Signature: " + sig + "\r\n");
    }

    test::http_reply kannel(const std::string& id, const std::string& from, const std::string& text,
                            const std::string& token = "k-secret") {
        return test::get(port, "/sms/kannel?" + test::form({{"from", from},
                                                            {"to", "1234"},
                                                            {"text", text},
                                                            {"id", id},
                                                            {"token", token}}));
    }

    static std::string ref_in(const std::string& s) {
        std::smatch m;
        return std::regex_search(s, m, std::regex("R-[0-9]{7}")) ? m.str() : "";
    }

    test::fake_aggregator aggregator;
    test::temp_dir dir;
    test::running_gateway running{config_file(), {.send = true}};
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;

  private:
    // Every SMS aggregator, sending to the stand-in `aggregator`.
    std::string config_file() {
        std::string api = "http://127.0.0.1:" + std::to_string(aggregator.port());
        std::string yaml =
            "sms:\n"
            "  base_delay_ms: 50\n"
            "  poll_interval_ms: 50\n"
            "  channels:\n"
            "    africastalking:\n"
            "      auth: token\n"
            "      token: at-secret\n"
            "      send_url: " +
            api +
            "/version1/messaging\n"
            "      send_username: sandbox\n"
            "      send_password: at-key\n"
            "      sender: \"5555\"\n"
            "    twilio:\n"
            "      auth: twilio_signature\n"
            "      auth_token: tw-token\n"
            "      public_url: https://hotline.example.org\n"
            "    infobip:\n"
            "      auth: basic\n"
            "      username: ib\n"
            "      password: ib-pass\n"
            "      send_url: " +
            api +
            "\n"
            "      send_password: ib-key\n"
            "      sender: HOTLINE\n"
            "    kannel:\n"
            "      auth: token\n"
            "      token: k-secret\n";
        return test::write_test_config(dir, yaml);
    }
};

}  // namespace

TEST_F(SmsOverHttp, KannelWalksTheMenusWithRepliesInTheBody) {
    auto r = kannel("k1", "+996555123456", "ЖАРДАМ");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("1 Кыргызча"), std::string::npos) << r.body;
    r = kannel("k2", "+996555123456", "2");  // Russian: the SMS menu (sms_home)
    EXPECT_NE(r.body.find("Перезвоните"), std::string::npos) << r.body;
    r = kannel("k3", "+996555123456", "1");  // call me back
    r = kannel("k4", "+996555123456", "1");  // any time
    std::string ref = ref_in(r.body);
    ASSERT_FALSE(ref.empty()) << r.body;
    auto c = gateway->storage().find_case(ref);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->urgent);
    EXPECT_EQ(c->oblast, "other");  // abroad: the operators call back
    EXPECT_EQ(c->channel, "sms");
    // The same message again (Kannel retry): same answer, no second case.
    EXPECT_EQ(kannel("k4", "+996555123456", "1").body, r.body);
    EXPECT_EQ(gateway->storage().count_cases(), 1u);
}

TEST_F(SmsOverHttp, TwilioWalksTheMenusWithTwiml) {
    auto r = twilio("SM1", "+77011234567", "помощь");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"], "text/xml; charset=utf-8");
    EXPECT_NE(r.body.find("<Response><Message>"), std::string::npos);
    r = twilio("SM2", "+77011234567", "1");  // Kyrgyz: the SMS menu
    EXPECT_NE(r.body.find("Мага чалыңыз"), std::string::npos) << r.body;
}

TEST_F(SmsOverHttp, TwilioBadOrMissingSignatureIs403AndNotProcessed) {
    auto form = test::form({{"MessageSid", "SMx"}, {"From", "+77011234567"}, {"Body", "help"}});
    EXPECT_EQ(post("/sms/twilio", form).status, 403);
    EXPECT_EQ(post("/sms/twilio", form, "application/x-www-form-urlencoded",
                   "X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n")
                  .status,
              403);
    EXPECT_FALSE(gateway->storage().find_inbound("twilio", "SMx"));
}

TEST_F(SmsOverHttp, AfricasTalkingRepliesThroughTheOutbox) {
    auto r = post("/sms/africastalking?token=at-secret", test::form({{"from", "+79161234567"},
                                                                     {"to", "5555"},
                                                                     {"text", "HELP"},
                                                                     {"id", "AT1"},
                                                                     {"date", "x"}}));
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(aggregator.wait_for(1)) << "reply was not sent";
    EXPECT_EQ(aggregator.received()[0].path, "/version1/messaging");
    EXPECT_EQ(aggregator.field(0, "to"), "+79161234567");
    EXPECT_EQ(aggregator.field(0, "username"), "sandbox");
    EXPECT_NE(aggregator.field(0, "message").find("Кыргызча"), std::string::npos);
    // The delivery report for it.
    auto sent = gateway->storage().outbound_to("+79161234567");
    ASSERT_EQ(sent.size(), 1u);
    for (int i = 0;
         i < 100 && gateway->storage().find_outbound(sent[0].id)->status != message_status::sent;
         ++i)
        std::this_thread::sleep_for(20ms);
    auto m = gateway->storage().find_outbound(sent[0].id);
    EXPECT_EQ(m->provider_id, "ATXid_1");
    r = post("/sms/africastalking/dlr?token=at-secret", "id=ATXid_1&status=Success");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(gateway->storage().find_outbound(sent[0].id)->status, message_status::delivered);
    // She answers: Kyrgyz, and gets the SMS menu.
    post("/sms/africastalking?token=at-secret",
         test::form({{"from", "+79161234567"}, {"text", "1"}, {"id", "AT2"}}));
    ASSERT_TRUE(aggregator.wait_for(2));
    EXPECT_NE(aggregator.field(1, "message").find("Мага чалыңыз"), std::string::npos)
        << aggregator.field(1, "message");
    // Missing token: 403, and nothing recorded.
    EXPECT_EQ(post("/sms/africastalking", "from=%2B79161234567&id=AT3&text=1").status, 403);
    EXPECT_FALSE(gateway->storage().find_inbound("africastalking", "AT3"));
}

TEST_F(SmsOverHttp, InfobipBatchWithBasicAuth) {
    std::string auth = "Authorization: Basic " + base64_encode("ib:ib-pass") + "\r\n";
    auto r = post(
        "/sms/infobip",
        R"({"results":[{"messageId":"ib1","from":"996700123456","to":"1","text":"HELP"},{"messageId":"ib2","from":"996700123456","to":"1","text":"2"}]})",
        "application/json", auth);
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(aggregator.wait_for(2));
    auto second = aggregator.received()[1];
    EXPECT_EQ(second.path, "/sms/2/text/advanced");
    EXPECT_NE(second.body.find("Перезвоните"), std::string::npos) << second.body;
    EXPECT_EQ(post("/sms/infobip", R"({"results":[)", "application/json", auth).status, 400);
    EXPECT_EQ(post("/sms/infobip", "{}", "application/json").status, 403);
}

TEST_F(SmsOverHttp, UnknownChannelAndBadBodies) {
    EXPECT_EQ(post("/sms/nokia", "a=b").status, 404);
    EXPECT_EQ(kannel("", "+996555123456", "x").status, 400);
    EXPECT_EQ(kannel("k9", "+996555123456", "x", "wrong").status, 403);
    EXPECT_EQ(test::get(port, "/sms/kannel/dlr?token=k-secret").status, 400);
    EXPECT_EQ(test::get(port, "/healthz").status, 200);
}

TEST_F(SmsOverHttp, CallbackUrlsWithATrailingSlash) {
    // Twilio signs the URL it calls, slash included.
    std::string form = test::form({{"MessageSid", "SMs"},
                                   {"From", "+77011234567"},
                                   {"To", "+15005550006"},
                                   {"Body", "help"}});
    std::string data = "https://hotline.example.org/sms/twilio/" + std::string("Bodyhelp") +
                       "From+77011234567MessageSidSMsTo+15005550006";
    auto r = post("/sms/twilio/", form, "application/x-www-form-urlencoded",
                  "X-Twilio-Signature: " + base64_encode(hmac_sha1("tw-token", data)) + "\r\n");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("<Message>"), std::string::npos) << r.body;
    // The same for delivery reports and USSD.
    EXPECT_EQ(test::get(port, "/sms/kannel/dlr/?token=k-secret&ref=ob-1&status=1").status, 200);
    r = post("/ussd/africastalking/?token=test-ussd-token",
             test::form({{"sessionId", "s1"},
                         {"phoneNumber", "+996555123456"},
                         {"serviceCode", "*384#"},
                         {"text", ""}}));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.rfind("CON ", 0), 0u) << r.body;
    EXPECT_EQ(test::get(port, "/sms/kannel//?token=k-secret&id=x&from=1").status, 404)
        << "one slash only";
}

namespace {

// Kannel's sendsms stand-in: accepts every message and keeps the requests.
class fake_sendsms {
  public:
    fake_sendsms() {
        server_ = std::make_unique<server::http_server>(server::server_options{},
                                                        [this](const http::request& r) {
                                                            std::lock_guard lock(mutex_);
                                                            received_.push_back(r);
                                                            http::response res;
                                                            res.status = 202;
                                                            res.content_type = "text/plain";
                                                            res.body = "0: Accepted for delivery";
                                                            return res;
                                                        });
        port_ = server_->start();
    }
    ~fake_sendsms() {
        server_->stop();
        server_->wait();
    }
    unsigned short port() const { return port_; }
    std::optional<http::request> first(std::chrono::milliseconds timeout = 10s) {
        for (auto end = std::chrono::steady_clock::now() + timeout;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms)) {
            std::lock_guard lock(mutex_);
            if (!received_.empty()) return received_.front();
        }
        return std::nullopt;
    }

  private:
    std::unique_ptr<server::http_server> server_;
    unsigned short port_ = 0;
    std::mutex mutex_;
    std::vector<http::request> received_;
};

}  // namespace

TEST(KannelDeliveryReports, TheDlrUrlKannelGetsIsAcceptedByTheGateway) {
    // As shipped: no report_url. The gateway listens on a port of its own
    // config; the dlr-url must name that port and carry the channel's token.
    fake_sendsms sendsms;
    test::temp_dir dir;
    const unsigned short gateway_port = test::free_port();
    std::string path = test::write_test_config(
        dir,
        "sms:\n  base_delay_ms: 50\n  poll_interval_ms: 50\n  channels:\n    kannel:\n"
        "      auth: token\n      token: \"k+dlr/token\"\n"
        "      send_url: http://127.0.0.1:" +
            std::to_string(sendsms.port()) +
            "/cgi-bin/sendsms\n"
            "      send_username: gw\n      send_password: gwpass\n      sender: \"1414\"\n");
    {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        std::string c = text.str();
        c.replace(c.find("  port: 0\n"), 10, "  port: " + std::to_string(gateway_port) + "\n");
        dir.write("gateway.yaml", c);
    }
    auto cfg = app::load_config(path);
    for (const auto& d : cfg.diagnostics) ADD_FAILURE() << menu::format(d);
    system_clock_source clock;
    auto transport = net::make_beast_transport();
    app::gateway gateway(cfg.value, clock);
    gateway.start_outbox(*transport);
    auto server = app::make_http_server(cfg.value.server, gateway);
    ASSERT_EQ(server->start(), gateway_port);

    store::outbound_message m;
    m.channel = "kannel";
    m.recipient = "+996555000777";
    m.body = "Сиздин R-1234567 кайрылууңуз кабыл алынды.";
    m.purpose = "notification";
    const long long id = gateway.storage().enqueue_outbound(m);
    gateway.outbox()->wake();
    auto sent = sendsms.first();
    ASSERT_TRUE(sent) << "nothing reached sendsms";
    auto q = parse_form(sent->query);
    ASSERT_TRUE(q && q->find("dlr-url"));
    EXPECT_EQ(*q->find("from"), "1414");
    std::string dlr = *q->find("dlr-url");

    // What Kannel does with it: %d becomes the report type; other %-escapes stay.
    const std::string base = "http://127.0.0.1:" + std::to_string(gateway_port);
    ASSERT_EQ(dlr.rfind(base + "/sms/kannel/dlr?", 0), 0u) << dlr;
    std::string target = dlr.substr(base.size());
    auto delivered = target;
    delivered.replace(delivered.find("%d"), 2, "1");
    auto smsc_ack = target;
    smsc_ack.replace(smsc_ack.find("%d"), 2, "8");
    for (int i = 0; i < 100 && gateway.storage().find_outbound(id)->status != message_status::sent;
         ++i)
        std::this_thread::sleep_for(20ms);
    EXPECT_EQ(test::get(gateway_port, smsc_ack).status, 200);
    EXPECT_EQ(gateway.storage().find_outbound(id)->status, message_status::sent);
    EXPECT_EQ(test::get(gateway_port, delivered).status, 200);
    EXPECT_EQ(gateway.storage().find_outbound(id)->status, message_status::delivered);

    // Without the token it would have been refused, as before.
    auto without = delivered;
    const auto t = without.find("token=");
    without.erase(t, without.find('&', t) + 1 - t);
    EXPECT_EQ(test::get(gateway_port, without).status, 403) << without;
    server->stop();
    server->wait();
    gateway.stop_outbox();
}

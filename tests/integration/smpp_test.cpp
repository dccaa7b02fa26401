// The SMPP channel against an independent SMPP implementation: the
// operator's SMSC and USSD gateway are played by Perl's Net::SMPP (Debian
// libnet-smpp-perl, tests/smpp/operator_smsc.pl), started and stopped here.
// The gateway runs in-process with its real SMPP links, outbox and store.
#include <gtest/gtest.h>

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "app/gateway.hpp"
#include "app/smpp_links.hpp"
#include "common/text.hpp"
#include "net/http_client.hpp"
#include "support/line_process.hpp"
#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using test::log_capture;

namespace asio = boost::asio;

// TLS in front of the operator's SMSC, as an operator offering TLS has it:
// a certificate for 127.0.0.1 from a private CA (self-signed here), bytes
// passed through to the Net::SMPP SMSC behind it.
class tls_front {
  public:
    tls_front(const std::string& cert, const std::string& key, unsigned short backend)
        : context_(asio::ssl::context::tls_server),
          acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
          backend_(backend) {
        context_.use_certificate_chain_file(cert);
        context_.use_private_key_file(key, asio::ssl::context::pem);
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~tls_front() {
        io_.stop();
        thread_.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

  private:
    using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;
    struct pair {
        explicit pair(asio::io_context& io, asio::ssl::context& c) : front(io, c), back(io) {}
        tls_stream front;
        asio::ip::tcp::socket back;
        std::array<char, 4096> up{}, down{};
    };
    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            auto p = std::make_shared<pair>(io_, context_);
            p->front.next_layer() = std::move(s);
            p->front.async_handshake(
                asio::ssl::stream_base::server, [this, p](boost::system::error_code e) {
                    if (e) return;
                    p->back.connect({asio::ip::make_address("127.0.0.1"), backend_}, e);
                    if (e) return;
                    pump_up(p);
                    pump_down(p);
                });
            accept();
        });
    }
    static void pump_up(std::shared_ptr<pair> p) {
        p->front.async_read_some(
            asio::buffer(p->up), [p](boost::system::error_code e, std::size_t n) {
                if (e) return p->back.close();
                asio::async_write(p->back, asio::buffer(p->up, n),
                                  [p](boost::system::error_code e2, std::size_t) {
                                      if (!e2) pump_up(p);
                                  });
            });
    }
    static void pump_down(std::shared_ptr<pair> p) {
        p->back.async_read_some(
            asio::buffer(p->down), [p](boost::system::error_code e, std::size_t n) {
                if (e) return p->front.next_layer().close();
                asio::async_write(p->front, asio::buffer(p->down, n),
                                  [p](boost::system::error_code e2, std::size_t) {
                                      if (!e2) pump_down(p);
                                  });
            });
    }
    asio::io_context io_;
    asio::ssl::context context_;
    asio::ip::tcp::acceptor acceptor_;
    unsigned short backend_;
    std::thread thread_;
};

class Smpp : public ::testing::Test {
  protected:
    Smpp() {
        smsc = std::make_unique<test::line_process>(std::vector<std::string>{
            "perl", test::source_path("tests/smpp/operator_smsc.pl"), "--password", "secret"});
        const std::string line = smsc->expect("listening ");
        smsc_port = std::stoi(line.substr(10));
    }
    ~Smpp() override { stop_gateway(); }

    void start_gateway(const std::string& password = "secret", const std::string& tls = "",
                       int port = 0) {
        auto cfg = app::load_config(test::write_test_config(
            dir,
            "sms:\n  poll_interval_ms: 50\n  base_delay_ms: 100\n"
            "smpp:\n  operators:\n    testop:\n" +
                tls +
                "      host: 127.0.0.1\n      port: " + std::to_string(port ? port : smsc_port) +
                "\n      system_id: hotline\n      password: " + password +
                "\n      enquire_link_s: 1\n      response_timeout_ms: 2000\n"
                "      reconnect_min_ms: 50\n      reconnect_max_ms: 200\n"
                "      throttle_pause_ms: 100\n"
                "      ussd:\n        code: \"*1313#\"\n"
                "      sms:\n        sender: \"1313\"\n"
                "referrals:\n  partners_file: " +
                test::source_path("config/partners.yaml") +
                "\n  rules_directory: " + test::source_path("referral-rules") + "\n"));
        for (const auto& d : cfg.diagnostics)
            if (!d.warning) ADD_FAILURE() << menu::format(d);
        ASSERT_EQ(cfg.value.smpp.operators.size(), 1u);
        gateway = std::make_unique<app::gateway>(cfg.value, clock);
        links = std::make_unique<app::smpp_links>(cfg.value, *gateway, clock);
        transport = net::make_beast_transport();
        gateway->start_outbox(*transport);
        links->start();
    }
    void stop_gateway() {
        if (links) links->stop();
        if (gateway) gateway->stop_outbox();
    }

    http::response get(const std::string& path) {
        http::request r;
        r.method = "GET";
        r.path = path;
        r.remote_address = "127.0.0.1";
        return gateway->handle(r);
    }

    // One step of a dialogue, and the screen the gateway sent back.
    json step(const std::string& command) {
        smsc->send(command);
        return json::parse(smsc->expect("submit ").substr(7));
    }

    struct dialogue {
        Smpp& t;
        std::string msisdn;
        int session;
        json screen;
        int presses = 0;
        json dial(const std::string& code = "*1313#") {
            return screen = t.step("begin " + msisdn + " " + std::to_string(session) + " " + code);
        }
        json press(const std::string& key) {
            ++presses;
            return screen = t.step("answer " + msisdn + " " + std::to_string(session) + " " + key);
        }
        std::string text() const { return screen["text"].get<std::string>(); }
        // Presses the option whose label starts with `label`; it must be on this screen.
        json choose(const std::string& label) {
            std::smatch m;
            const std::string shown = text();
            EXPECT_TRUE(std::regex_search(shown, m, std::regex("(?:^|\\n)([0-9]+) " + label)))
                << "no option '" << label << "' on:\n"
                << shown;
            return press(m.size() > 1 ? m[1].str() : "?");
        }
    };

    static std::string reference_in(const std::string& text) {
        std::smatch m;
        return std::regex_search(text, m, std::regex("R-[0-9]{7}")) ? m.str() : "";
    }

    test::temp_dir dir;
    system_clock_source clock;
    std::unique_ptr<test::line_process> smsc;
    int smsc_port = 0;
    std::unique_ptr<app::gateway> gateway;
    std::unique_ptr<app::smpp_links> links;
    std::unique_ptr<domain::http_transport> transport;
};

}  // namespace

TEST_F(Smpp, AUssdDialogueInKyrgyzFromDialToARegisteredCase) {
    log_capture log;
    start_gateway();
    EXPECT_EQ(smsc->expect("bind "), "bind bind_transceiver hotline ok");
    dialogue d{*this, "996555400001", 17};
    json first = d.dial();
    // The first screen continues the dialogue, in the session she opened.
    EXPECT_EQ(first["op"], 2) << first;
    EXPECT_EQ(first["session"].get<std::string>().substr(0, 2), "11") << first;
    EXPECT_EQ(first["dest"], "996555400001");
    EXPECT_EQ(first["source"], "*1313#");
    EXPECT_EQ(first["service_type"], "USSD");
    for (const char* label : {"Кыргызча", "Юрист", "Юрист керек", "Ош", "Кайттым", "Чалыңыз"}) {
        json s = d.choose(label);
        EXPECT_EQ(s["op"], 2) << s;
        EXPECT_EQ(s["data_coding"], 8) << "Cyrillic travels as UCS-2";
        EXPECT_LE(measure_text(s["text"].get<std::string>()).units, 80u) << s;
    }
    json last = d.choose("Ооба");
    EXPECT_EQ(last["op"], 17) << "the last screen ends the dialogue (PSSR response)";
    EXPECT_EQ(std::stoi(last["session"].get<std::string>().substr(2), nullptr, 16) & 1, 1)
        << "end-of-session bit set";
    const std::string ref = reference_in(d.text());
    ASSERT_FALSE(ref.empty()) << d.text();
    auto c = gateway->storage().find_case(ref);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->topic, "legal_aid");
    EXPECT_EQ(c->oblast, "osh");
    EXPECT_EQ(c->language, "ky");
    EXPECT_EQ(c->phone, "+996555400001");
    EXPECT_EQ(c->channel, "ussd");
    EXPECT_EQ(log.text().find("996555400001"), std::string::npos) << "her number is never logged";
    EXPECT_EQ(log.text().find("secret"), std::string::npos) << "nor the bind password";
}

TEST_F(Smpp, DigitsDialledWithTheCodeAreHerFirstAnswers) {
    start_gateway();
    smsc->expect("bind ");
    dialogue d{*this, "996555400002", 18};
    d.dial("*1313*2#");  // Русский
    EXPECT_NE(d.text().find("Юрист"), std::string::npos) << d.text();
}

TEST_F(Smpp, AReleaseInTheMiddleEndsTheDialogueAndItCanBeResumed) {
    start_gateway();
    smsc->expect("bind ");
    dialogue d{*this, "996555400003", 19};
    d.dial();
    d.choose("Русский");
    d.choose("Юрист");
    smsc->send("release 996555400003 19");
    smsc->expect("deliver_resp ");
    // The operator's gateway would not send more on that session; if it
    // did, the gateway answers nothing she did not ask.
    json late = d.press("1");
    EXPECT_EQ(late["op"], 17) << late;
    // She dials again: offered to go on where she was, starting again first.
    dialogue again{*this, "996555400003", 20};
    again.dial();
    EXPECT_NE(again.text().find("1 "), std::string::npos) << again.text();
    json resumed = again.press("2");
    EXPECT_EQ(resumed["op"], 2);
    EXPECT_NE(resumed["text"].get<std::string>().find("юрист"), std::string::npos)
        << resumed["text"];
}

TEST_F(Smpp, ADroppedLinkIsBoundAgainAndTheDialogueGoesOn) {
    start_gateway();
    smsc->expect("bind ");
    dialogue d{*this, "996555400004", 21};
    d.dial();
    d.choose("Русский");
    smsc->send("drop");
    smsc->expect("closed");
    EXPECT_EQ(smsc->expect("bind ", 5s), "bind bind_transceiver hotline ok");
    json s = d.choose("Юрист");
    EXPECT_EQ(s["op"], 2);
    EXPECT_NE(d.text().find("Нужен юрист"), std::string::npos) << d.text();
    auto metrics = get("/metrics").body;
    EXPECT_NE(metrics.find("gateway_link_losses_total{link=\"smpp-testop\"} 1"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("gateway_link_binds_total{link=\"smpp-testop\"} 2"), std::string::npos);
}

TEST_F(Smpp, ThrottlingSlowsDownAndTheScreenStillArrives) {
    start_gateway();
    smsc->expect("bind ");
    smsc->send("throttle 2");
    smsc->send("begin 996555400005 22 *1313#");
    smsc->expect("throttled");
    smsc->expect("throttled");
    json s = json::parse(smsc->expect("submit ").substr(7));
    EXPECT_EQ(s["op"], 2);
    EXPECT_NE(s["text"].get<std::string>().find("Кыргызча"), std::string::npos) << s;
    EXPECT_NE(get("/metrics").body.find("gateway_link_throttled_total{link=\"smpp-testop\"} 2"),
              std::string::npos);
}

TEST_F(Smpp, AWrongPasswordSaysSoInTheLogAndDegradesHealth) {
    log_capture log;
    start_gateway("wrong");
    EXPECT_EQ(smsc->expect("bind "), "bind bind_transceiver hotline refused");
    std::this_thread::sleep_for(100ms);
    auto h = get("/healthz");
    EXPECT_EQ(h.status, 503);
    EXPECT_NE(h.body.find("ESME_RINVPASWD"), std::string::npos) << h.body;
    EXPECT_NE(log.text().find("smpp/testop: bind refused: ESME_RINVPASWD (wrong password)"),
              std::string::npos)
        << log.text();
    EXPECT_EQ(log.text().find("wrong\n"), std::string::npos) << "the password itself is not logged";
    // The operator changes it on their side: the next attempt binds.
    smsc->send("password wrong");
    smsc->expect("bind bind_transceiver hotline ok", 5s);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(Smpp, AnMoSmsInTwoUcs2PartsIsAnsweredAndItsReceiptRecorded) {
    start_gateway();
    smsc->expect("bind ");
    // "ЖАРДАМ" (the Kyrgyz start word) in two concatenated UCS-2 parts.
    smsc->send("sms 996555400006 1313 42 2 1 041604100420");
    smsc->expect("deliver_resp ");
    EXPECT_TRUE(gateway->storage().outbound_to("+996555400006").empty())
        << "nothing is answered before the last part";
    smsc->send("sms 996555400006 1313 42 2 2 04140410041C");
    json reply = json::parse(smsc->expect("submit ").substr(7));
    EXPECT_EQ(reply["dest"], "996555400006");
    EXPECT_EQ(reply["source"], "1313");
    EXPECT_EQ(reply["registered_delivery"], 1);
    EXPECT_EQ(reply["op"], nullptr) << "an SMS, not a USSD screen";
    std::string text = reply["text"];
    // A long reply travels in concatenated parts; collect them all.
    while (auto more = smsc->next(500ms)) {
        if (more->rfind("submit ", 0) == 0)
            text += json::parse(more->substr(7))["text"].get<std::string>();
    }
    EXPECT_NE(text.find("STOP"), std::string::npos) << "the first SMS says how to stop: " << text;
    auto sent = gateway->storage().outbound_to("+996555400006");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].channel, "smpp-testop");
    EXPECT_EQ(sent[0].provider_id, reply["message_id"]);
    smsc->send("dlr " + reply["message_id"].get<std::string>() + " DELIVRD");
    smsc->expect("deliver_resp ");
    std::this_thread::sleep_for(50ms);
    sent = gateway->storage().outbound_to("+996555400006");
    EXPECT_EQ(sent[0].status, message_status::delivered);
}

TEST_F(Smpp, StoppingUnbinds) {
    start_gateway();
    smsc->expect("bind ");
    for (int i = 0; i < 100 && get("/healthz").status != 200; ++i)
        std::this_thread::sleep_for(10ms);
    stop_gateway();
    smsc->expect("unbind", 3s);
}

TEST_F(Smpp, TlsWhereTheOperatorOffersItAndOnlyWithTheirCertificate) {
    const std::string cert = dir.file("smsc-cert.pem"), key = dir.file("smsc-key.pem");
    const std::string make_cert =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " 2>/dev/null";
    ASSERT_EQ(std::system(make_cert.c_str()), 0);
    tls_front front(cert, key, static_cast<unsigned short>(smsc_port));
    {
        // Not trusting the operator's CA: no bind, and /healthz says why.
        start_gateway("secret", "      tls: true\n", front.port());
        for (int i = 0; i < 200 && get("/healthz").body.find("cannot connect") == std::string::npos;
             ++i)
            std::this_thread::sleep_for(10ms);
        EXPECT_NE(get("/healthz").body.find("certificate verify failed"), std::string::npos)
            << get("/healthz").body;
        EXPECT_FALSE(smsc->next(100ms)) << "nothing reached the SMSC";
        stop_gateway();
        links.reset();
        gateway.reset();
    }
    start_gateway("secret", "      tls: true\n      tls_ca_file: " + cert + "\n", front.port());
    EXPECT_EQ(smsc->expect("bind "), "bind bind_transceiver hotline ok");
    dialogue d{*this, "996555400010", 30};
    d.dial();
    EXPECT_NE(d.text().find("Кыргызча"), std::string::npos) << d.text();
}

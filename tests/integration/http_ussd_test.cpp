// The real server on a free loopback port, walked over HTTP like an
// aggregator would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <thread>

#include "app/gateway.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

// The test config plus `extra_config`, any diagnostic a failure.
class running_gateway {
  public:
    explicit running_gateway(const std::string& extra_config = "",
                             server::server_options options = {})
        : running(test::write_test_config(dir, extra_config), {.server = options}) {}

    test::temp_dir dir;
    test::running_gateway running;
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;
};

struct at_session {
    unsigned short port;
    std::string id;
    std::string phone;
    std::string text;
    int inputs = 0;

    test::http_reply hop() {
        return test::post_form(port, test::ussd_path,
                               test::form({{"sessionId", id},
                                           {"serviceCode", "*384*55#"},
                                           {"phoneNumber", phone},
                                           {"networkCode", "43701"},
                                           {"text", text}}));
    }
    test::http_reply send(const std::string& input) {
        text = inputs++ == 0 ? input : text + "*" + input;
        return hop();
    }
};

std::string reference_in(const std::string& text) {
    std::smatch m;
    return std::regex_search(text, m, std::regex("R-[0-9]{7}")) ? m.str() : "";
}

}  // namespace

TEST(HttpUssd, HealthAndRouting) {
    running_gateway g;
    auto r = test::get(g.port, "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok\n");
    EXPECT_EQ(test::get(g.port, "/nope").status, 404);
    auto wrong_method = test::get(g.port, "/ussd/africastalking");
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(wrong_method.headers["allow"], "POST");
    EXPECT_EQ(test::post_form(g.port, "/ussd/unknown-aggregator", "a=b").status, 404);
    EXPECT_EQ(test::post_form(g.port, "/ussd/africastalking/more", "a=b").status, 404);
    EXPECT_EQ(test::get(g.port, "xhealthz").status, 404) << "a path starts with '/'";
    EXPECT_EQ(test::post_form(g.port, "/healthz", "a=b").headers["allow"], "GET, HEAD");
    // Below the API prefixes their own tables answer, in JSON.
    auto api = test::get(g.port, "/api/partner/v1/nothing-here");
    EXPECT_EQ(api.status, 401) << "the partner API asks who is calling first";
}

TEST(HttpUssd, KyrgyzSessionToRegisteredLegalAidCaseInOsh) {
    running_gateway g;
    at_session s{g.port, "ATUid_ky_1", "+996555100200"};
    auto r = s.hop();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
    EXPECT_EQ(r.body.rfind("CON ", 0), 0u) << r.body;
    EXPECT_NE(r.body.find("Кыргызча"), std::string::npos);

    r = s.send("1");  // Кыргызча
    EXPECT_NE(r.body.find("Шашылыш"), std::string::npos) << r.body;
    r = s.send("2");  // lawyer, family
    ASSERT_EQ(r.body.rfind("CON ", 0), 0u) << r.body;
    // Find "get help" in the legal aid menu: the option that leads to the referral flow.
    const auto& menus = *g.gateway->menus().source;
    const auto* legal = menus.find("legal_aid_menu");
    ASSERT_NE(legal, nullptr);
    int help_option = 0;
    for (std::size_t i = 0; i < legal->options.size(); ++i)
        if (legal->options[i].next == "refer_oblast") help_option = static_cast<int>(i) + 1;
    ASSERT_GT(help_option, 0);
    r = s.send(std::to_string(help_option));
    EXPECT_NE(r.body.find("Ош"), std::string::npos) << r.body;
    r = s.send("3");  // Osh
    r = s.send("2");  // returned from abroad
    r = s.send("1");  // contact: call me
    r = s.send("1");  // consent: yes (this creates the case)
    ASSERT_EQ(r.body.rfind("END ", 0) == 0 || r.body.rfind("CON ", 0) == 0, true);
    std::string ref = reference_in(r.body);
    ASSERT_FALSE(ref.empty()) << r.body;
    EXPECT_EQ(r.body.find("юрид"), std::string::npos) << "the END text must not name her topic";

    auto c = g.gateway->storage().find_case(ref);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->topic, "legal_aid");
    EXPECT_EQ(c->oblast, "osh");
    EXPECT_EQ(c->target_group, "returning");
    EXPECT_EQ(c->language, "ky");
    EXPECT_TRUE(c->consent);
    EXPECT_FALSE(c->notify_sms);
    // Routed by the shipped rules to the Osh legal aid queue.
    auto referrals = g.gateway->storage().case_referrals(c->id);
    ASSERT_EQ(referrals.size(), 1u);
    EXPECT_EQ(referrals[0].partner, "legal_aid_osh");
    EXPECT_EQ(referrals[0].rule, "legal-aid-osh");
}

TEST(HttpUssd, RussianUrgentSessionWithBadInputAlongTheWay) {
    running_gateway g;
    at_session s{g.port, "ATUid_ru_1", "+79161234567"};
    s.hop();
    auto r = s.send("2");  // Русский
    EXPECT_NE(r.body.find("Срочно"), std::string::npos) << r.body;
    for (const std::string bad : {"abc", "", "77", "*"}) {
        s.text += "*" + bad;
        ++s.inputs;
        r = s.hop();
        EXPECT_EQ(r.status, 200);
        const auto& m = *g.gateway->menus().source;
        const std::string error = m.ui_text(bad.empty() ? "empty_input" : "invalid_option", "ru");
        EXPECT_EQ(r.body.rfind("CON " + error + "\n", 0), 0u) << bad << " -> " << r.body;
        EXPECT_NE(r.body.find("1 Срочно"), std::string::npos) << "same screen again";
    }
    s.text = "2";
    s.inputs = 1;
    r = s.send("1");  // urgent
    r = s.send("4");  // Talas
    r = s.send("4");  // no contact
    std::string all = r.body;
    while (r.body.rfind("CON ", 0) == 0 && r.body.find("98 ") != std::string::npos) {
        r = s.send("98");
        all += r.body;
    }
    EXPECT_EQ(r.body.rfind("END ", 0), 0u) << r.body;
    auto c = g.gateway->storage().find_case(reference_in(all));
    ASSERT_TRUE(c) << all;
    EXPECT_TRUE(c->urgent);
    EXPECT_EQ(c->status, store::case_status::escalated);
    EXPECT_EQ(c->safe_to_call, false);
    EXPECT_EQ(c->oblast, "talas");
}

TEST(HttpUssd, ResumedSessionOverHttp) {
    running_gateway g;
    at_session first{g.port, "ATUid_r1", "+996700111222"};
    first.hop();
    first.send("2");
    first.send("2");  // rights
    // She is cut off here; the same number dials again.
    at_session second{g.port, "ATUid_r2", "+996700111222"};
    auto r = second.hop();
    EXPECT_NE(r.body.find("1 "), std::string::npos);
    EXPECT_EQ(r.body.rfind("CON ", 0), 0u);
    auto shown_before = first.hop().body;  // retry of the last hop: same screen
    r = second.send("2");                  // continue (1 is "start again")
    EXPECT_EQ(r.body, shown_before);
}

TEST(HttpUssd, BadRequestsGetClearStatuses) {
    running_gateway g;
    auto r = test::post_form(g.port, test::ussd_path, "phoneNumber=%2B996555123456");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("sessionId"), std::string::npos);
    r = test::post_form(g.port, test::ussd_path, "sessionId=%zz");
    EXPECT_EQ(r.status, 400);
    // Unusable phone number: a polite END in both languages, not an HTTP error.
    r = test::post_form(g.port, test::ussd_path,
                        test::form({{"sessionId", "x1"}, {"phoneNumber", "12"}, {"text", ""}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("END ", 0), 0u);
    // Garbage that is not HTTP at all.
    r = test::send_raw(g.port, "HELLO\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    // The server is still fine.
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpUssd, OversizeBodyAndHeadersAreRefused) {
    running_gateway g;
    std::string big(20000, 'a');
    auto r = test::post_form(g.port, test::ussd_path, "sessionId=1&text=" + big);
    EXPECT_EQ(r.status, 413);
    r = test::send_raw(g.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                   std::string(10000, 'b') + "\r\n\r\n");
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpUssd, KeepAliveServesSeveralRequestsOnOneConnection) {
    running_gateway g;
    std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string last = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fd = test::connect_loopback(g.port);
    std::string all = one + one + last;
    ASSERT_EQ(::send(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size()));
    std::string in;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) in.append(buf, n);
    ::close(fd);
    std::size_t count = 0;
    for (auto p = in.find("HTTP/1.1 200"); p != std::string::npos;
         p = in.find("HTTP/1.1 200", p + 1))
        ++count;
    EXPECT_EQ(count, 3u) << in;
}

TEST(HttpUssd, ConnectionsOverTheLimitAreRefusedCleanly) {
    server::server_options o;
    o.max_connections = 2;
    running_gateway g("", o);
    int a = test::connect_loopback(g.port), b = test::connect_loopback(g.port);
    std::this_thread::sleep_for(100ms);  // both accepted and counted
    auto refused = test::get(g.port, "/healthz");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.headers["retry-after"], "1");
    ::close(a);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
    ::close(b);
}

TEST(HttpUssd, SlowClientIsDropped) {
    server::server_options o;
    o.read_timeout = 300ms;
    running_gateway g("", o);
    int fd = test::connect_loopback(g.port);
    ASSERT_EQ(::send(fd, "GET /hea", 8, 0), 8);  // and then nothing more
    auto started = std::chrono::steady_clock::now();
    char buf[64];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // blocks until the server closes
    auto waited = std::chrono::steady_clock::now() - started;
    ::close(fd);
    EXPECT_LE(n, 0);
    EXPECT_LT(waited, 5s);
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpUssd, StopFinishesInFlightRequestsAndClosesIdleConnections) {
    test::temp_dir dir;
    auto cfg = app::load_config(test::write_test_config(dir));
    system_clock_source clock;
    app::gateway gateway(cfg.value, clock);
    std::promise<void> entered, release;
    auto released = release.get_future().share();
    server::server_options o;
    server::http_server srv(o, [&](const http::request& r) {
        if (r.path == "/slow") {
            entered.set_value();
            released.wait();
        }
        return gateway.handle(r);
    });
    unsigned short port = srv.start();
    // An idle keep-alive connection: must not hold up the shutdown.
    int idle = test::connect_loopback(port);

    auto slow = std::async(std::launch::async, [&] { return test::get(port, "/slow"); });
    entered.get_future().wait();
    srv.stop();
    std::this_thread::sleep_for(100ms);
    release.set_value();
    auto r = slow.get();
    EXPECT_EQ(r.status, 404);  // answered, not cut off
    srv.wait();
    char buf[8];
    EXPECT_LE(::recv(idle, buf, sizeof buf, 0), 0);
    ::close(idle);
    // No longer accepting.
    EXPECT_THROW(test::get(port, "/healthz"), std::runtime_error);
}

// Issue "anyone can drive her USSD session": the callback carries a secret.
TEST(HttpUssd, CallbacksWithoutTheTokenAreRefused) {
    running_gateway g;
    const std::string body =
        test::form({{"sessionId", "forged"}, {"phoneNumber", "+996555100200"}, {"text", ""}});
    auto r = test::post_form(g.port, "/ussd/africastalking", body);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.body.find("CON"), std::string::npos);
    r = test::post_form(g.port, "/ussd/africastalking?token=test-ussd-tokeN", body);
    EXPECT_EQ(r.status, 403);
    EXPECT_FALSE(g.gateway->storage().find_session("africastalking:forged"));
    r = test::send_raw(g.port,
                       "POST /ussd/africastalking HTTP/1.1\r\nHost: x\r\n"
                       "X-Gateway-Token: test-ussd-token\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       "Content-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("CON ", 0), 0u) << r.body;
}

TEST(HttpUssd, NoTokenConfiguredRefusesEveryCallback) {
    running_gateway g("ussd:\n  idle_timeout_s: 180\n");
    auto r = test::post_form(g.port, test::ussd_path,
                             test::form({{"sessionId", "s"}, {"phoneNumber", "+996555100200"}}));
    EXPECT_EQ(r.status, 403);
}

TEST(HttpUssd, ASessionBelongsToTheNumberThatOpenedIt) {
    running_gateway g;
    at_session her{g.port, "ATUid_bound", "+996555100200"};
    her.hop();
    her.send("2");                   // Русский
    auto mine = her.send("2").body;  // lawyer, family
    // Someone else sends her session id with another number: a neutral END
    // in both languages, nothing about her screens.
    at_session other{g.port, "ATUid_bound", "+996700999888"};
    other.text = "2*3*4*3*2*1*2";
    other.inputs = 7;
    auto r = other.send("1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("END ", 0), 0u) << r.body;
    EXPECT_TRUE(reference_in(r.body).empty());
    EXPECT_EQ(r.body.find("Юрид"), std::string::npos) << r.body;
    EXPECT_EQ(g.gateway->storage().count_cases(), 0u);
    // Her session is untouched: her next press goes on from where she was.
    r = her.hop();
    EXPECT_EQ(r.body, mine);
    // The same number spelled differently is still hers.
    at_session same{g.port, "ATUid_bound", "0555100200"};
    same.text = her.text;
    same.inputs = her.inputs;
    EXPECT_EQ(same.hop().body, mine);
}

TEST(HttpUssd, OnlyAllowedSourcesBehindATrustedProxy) {
    running_gateway g(
        "server:\n  trusted_proxies: [127.0.0.1]\n"
        "ussd:\n  token: test-ussd-token\n  allowed_sources: [196.201.214.0/24]\n");
    const std::string body =
        test::form({{"sessionId", "src"}, {"phoneNumber", "+996555100200"}, {"text", ""}});
    auto from = [&](const std::string& forwarded) {
        std::string head = "POST " + std::string(test::ussd_path) + " HTTP/1.1\r\nHost: x\r\n";
        if (!forwarded.empty()) head += "X-Forwarded-For: " + forwarded + "\r\n";
        return test::send_raw(g.port, head +
                                          "Content-Type: application/x-www-form-urlencoded\r\n"
                                          "Content-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body);
    };
    EXPECT_EQ(from("").status, 403);               // the proxy itself is not the aggregator
    EXPECT_EQ(from("203.0.113.9").status, 403);    // someone else
    EXPECT_EQ(from("196.201.214.7").status, 200);  // the aggregator, via the proxy
    EXPECT_EQ(from("196.201.214.7, 203.0.113.9").status, 403);  // the right-most hop counts
    // A proxy appends a line of its own after the client's: the client's
    // forged first line must not count.
    EXPECT_EQ(from("196.201.214.7\r\nX-Forwarded-For: 203.0.113.9").status, 403);
    EXPECT_EQ(from("203.0.113.9\r\nX-Forwarded-For: 196.201.214.7").status, 200);
}

TEST(HttpUssd, ForwardedForIsIgnoredFromAnyoneButATrustedProxy) {
    running_gateway g("ussd:\n  token: test-ussd-token\n  allowed_sources: [196.201.214.0/24]\n");
    const std::string body =
        test::form({{"sessionId", "src"}, {"phoneNumber", "+996555100200"}, {"text", ""}});
    auto r = test::send_raw(g.port, "POST " + std::string(test::ussd_path) +
                                        " HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 196.201.214.7\r\n"
                                        "Content-Type: application/x-www-form-urlencoded\r\n"
                                        "Content-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(r.status, 403);
}

TEST(HttpUssd, RateLimitCountsTheNumberNotItsSpelling) {
    running_gateway g("limits:\n  ussd_per_number_per_minute: 4\n");
    int refused = 0;
    const char* spellings[] = {"+996555100200",  "996555100200",     "0555100200",
                               "00996555100200", "+996 555 100 200", "+996555100200"};
    for (int i = 0; i < 6; ++i) {
        auto r = test::post_form(g.port, test::ussd_path,
                                 test::form({{"sessionId", "rl" + std::to_string(i)},
                                             {"phoneNumber", spellings[i]},
                                             {"text", ""}}));
        if (r.status == 429) ++refused;
    }
    EXPECT_EQ(refused, 2);
}

TEST(HttpUssd, ThousandsOfStarsCostNothing) {
    running_gateway g;
    at_session s{g.port, "ATUid_stars", "+996555100200"};
    s.hop();
    // Raw '*' (a form may carry it unescaped): 15,000 of them under the body limit.
    auto r = test::post_form(
        g.port, test::ussd_path,
        "sessionId=ATUid_stars&phoneNumber=%2B996555100200&text=" + std::string(15000, '*'));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.rfind("END ", 0), 0u) << r.body.substr(0, 200);
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpUssd, MetricsStayLocalBehindATrustedProxy) {
    running_gateway g("server:\n  trusted_proxies: [127.0.0.1]\n");
    EXPECT_EQ(test::get(g.port, "/metrics").status, 200);
    auto r = test::send_raw(
        g.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n");
    EXPECT_EQ(r.status, 403) << "a request the proxy passed on comes from outside";
}

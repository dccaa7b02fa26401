// Replays and duplicates: each callback delivered three times at once
// creates one case or one message. Rate limits answer 429 with Retry-After.
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "app/gateway.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using namespace gw;

namespace {

class Running {
  public:
    explicit Running(const std::string& extra = "")
        : running(test::write_test_config(dir, extra)) {}
    template <class F>
    std::vector<test::http_reply> three_at_once(F f) {
        std::vector<std::future<test::http_reply>> all;
        for (int i = 0; i < 3; ++i) all.push_back(std::async(std::launch::async, f));
        std::vector<test::http_reply> out;
        for (auto& a : all) out.push_back(a.get());
        return out;
    }
    test::temp_dir dir;
    test::running_gateway running;
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;
};

}  // namespace

TEST(Duplicates, UssdCaseHopThreeTimesAtOnceMakesOneCase) {
    Running g;
    std::string text;
    auto hop = [&] {
        return test::post_form(
            g.port, test::ussd_path,
            test::form({{"sessionId", "dup"}, {"phoneNumber", "+996555123400"}, {"text", text}}));
    };
    for (const std::string in : {"", "2", "2", "1", "3", "2", "1"}) {
        text = text.empty() ? in : (in.empty() ? text : text + "*" + in);
        hop();
    }
    text += "*1";  // consent: this hop creates the case
    auto replies = g.three_at_once(hop);
    std::set<std::string> refs;
    for (const auto& r : replies) {
        EXPECT_EQ(r.status, 200);
        std::smatch m;
        ASSERT_TRUE(std::regex_search(r.body, m, std::regex("R-[0-9]{7}"))) << r.body;
        refs.insert(m.str());
    }
    EXPECT_EQ(refs.size(), 1u) << "all three got the same answer";
    EXPECT_EQ(g.gateway->storage().count_cases(), 1u);
}

TEST(Duplicates, SmsDeliveredThreeTimesAtOnceIsProcessedOnce) {
    Running g(
        "sms:\n  channels:\n    kannel:\n      auth: token\n      token: k\n"
        "    africastalking:\n      auth: token\n      token: a\n");
    auto kannel = [&] {
        return test::get(g.port, "/sms/kannel?from=%2B996555123401&text=HELP&id=same-id&token=k");
    };
    auto replies = g.three_at_once(kannel);
    for (const auto& r : replies) {
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, replies[0].body) << "a duplicate gets the first answer";
    }
    auto at = [&] {
        return test::post_form(g.port, "/sms/africastalking?token=a",
                               "from=%2B996555123402&text=HELP&id=at-same");
    };
    g.three_at_once(at);
    EXPECT_EQ(g.gateway->storage().outbound_to("+996555123402").size(), 1u);
    EXPECT_EQ(g.gateway->sms().counters().duplicates.load(), 4u);
}

TEST(Limits, UssdHopsPerNumberGet429WithRetryAfter) {
    Running g("limits:\n  ussd_per_number_per_minute: 5\n");
    std::string text;
    test::http_reply last;
    for (int i = 0; i < 7; ++i) {
        last = test::post_form(
            g.port, test::ussd_path,
            test::form({{"sessionId", "rl"}, {"phoneNumber", "+996555123403"}, {"text", text}}));
        text = text.empty() ? "2" : text + "*98";
    }
    EXPECT_EQ(last.status, 429);
    EXPECT_NE(last.headers["retry-after"], "");
    EXPECT_LE(std::stoi(last.headers["retry-after"]), 60);
    // Another number is served.
    EXPECT_EQ(
        test::post_form(
            g.port, test::ussd_path,
            test::form({{"sessionId", "rl2"}, {"phoneNumber", "+996555123404"}, {"text", ""}}))
            .status,
        200);
}

TEST(Limits, RequestsPerClientAddressGet429WithRetryAfter) {
    Running g("limits:\n  per_ip_per_minute: 3\n");
    int refused = 0;
    for (int i = 0; i < 5; ++i) {
        auto r = test::get(g.port, "/healthz");
        if (r.status == 429) {
            ++refused;
            EXPECT_NE(r.headers["retry-after"], "");
        }
    }
    EXPECT_EQ(refused, 2);
}

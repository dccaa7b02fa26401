#include "service/sms_service.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "support/fake_clock.hpp"
#include "support/test_sealer.hpp"
#include "unit/menu_fixture.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace std::chrono_literals;

namespace {

class SmsService : public ::testing::Test {
  protected:
    SmsService() { svc = make({}); }

    std::unique_ptr<service::sms_service> make(service::sms_settings s) {
        menu::screen_profile p;
        p.name = "sms";
        p.limit_ucs2 = 201;
        p.limit_gsm7 = 459;
        p.max_options_per_page = 9;
        auto eng = std::make_shared<menu::engine>(test::load_layout(test::small_menu_dir(), p));
        return std::make_unique<service::sms_service>(
            eng, *db, phone_normalizer("KG", {"KG", "RU", "KZ"}), clock, s);
    }

    // Sends through a channel whose replies go to the outbox (like Africa's Talking).
    void send(const std::string& text, const std::string& from = "+79161234567") {
        svc->handle({"africastalking", "m" + std::to_string(++n), from, text}, false);
    }
    std::vector<store::outbound_message> outbox(const std::string& to = "+79161234567") {
        return db->outbound_to(to);
    }
    std::string last_reply(const std::string& to = "+79161234567") {
        auto all = outbox(to);
        return all.empty() ? "" : all.back().body;
    }

    test::temp_dir dir;
    test::fake_clock clock;
    std::unique_ptr<store::store> db =
        store::open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    std::unique_ptr<service::sms_service> svc;
    int n = 0;
};

}  // namespace

TEST_F(SmsService, KeywordStartsTheMenuAndRepliesGoToTheOutbox) {
    send("ПОМОЩЬ");
    auto q = outbox();
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].status, message_status::queued);
    EXPECT_EQ(q[0].channel, "africastalking");
    EXPECT_EQ(q[0].purpose, "menu_reply");
    EXPECT_NE(q[0].body.find("1 Кыргызча"), std::string::npos);
    send("2");
    EXPECT_NE(last_reply().find("Главное меню"), std::string::npos) << last_reply();
    send("3");
    send("1");
    std::smatch m;
    std::string r = last_reply();
    ASSERT_TRUE(std::regex_search(r, m, std::regex("R-[0-9]{7}"))) << r;
    auto c = db->find_case(m.str());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->channel, "sms");
    EXPECT_EQ(c->phone, "+79161234567");
    EXPECT_EQ(c->topic, "employment");
}

TEST_F(SmsService, KeywordsMatchInAnyCaseAndRestart) {
    send("help");
    send("2");
    send("Жардам");  // restarts, in her remembered language
    EXPECT_NE(last_reply().find("Главное меню"), std::string::npos) << last_reply();
}

TEST_F(SmsService, AnyFirstMessageStartsTheMenu) {
    send("salam");
    EXPECT_NE(last_reply().find("Кыргызча"), std::string::npos);
}

TEST_F(SmsService, SameMessageIdIsProcessedOnce) {
    service::sms_in in{"africastalking", "dup-1", "+79161234567", "HELP"};
    svc->handle(in, false);
    svc->handle(in, false);
    svc->handle(in, false);
    EXPECT_EQ(outbox().size(), 1u);
    EXPECT_EQ(svc->counters().duplicates.load(), 2u);
}

TEST_F(SmsService, ReplyInResponseIsRepeatedForDuplicates) {
    service::sms_in in{"kannel", "k-1", "+996555123456", "HELP"};
    auto first = svc->handle(in, true);
    auto again = svc->handle(in, true);
    ASSERT_TRUE(first);
    EXPECT_EQ(first, again);
    EXPECT_TRUE(outbox("+996555123456").empty()) << "replied in the HTTP response, not queued";
}

TEST_F(SmsService, StopKeywordSilencesAndHelpReopens) {
    send("HELP");
    send("STOP");
    EXPECT_TRUE(db->no_sms("+79161234567"));
    auto before = outbox().size();
    send("2");
    EXPECT_EQ(outbox().size(), before) << "no SMS to a number that said STOP";
    EXPECT_FALSE(svc->handle({"kannel", "k9", "+79161234567", "1"}, true));
    send("помощь");
    EXPECT_FALSE(db->no_sms("+79161234567"));
    EXPECT_EQ(outbox().size(), before + 1);
}

TEST_F(SmsService, RateLimitPerNumber) {
    service::sms_settings s;
    s.per_number_limit = 3;
    svc = make(s);
    for (int i = 0; i < 6; ++i) send("HELP");
    EXPECT_EQ(outbox().size(), 3u);
    EXPECT_EQ(svc->counters().rate_limited.load(), 3u);
    send("HELP", "+996555000111");  // another number is not affected
    EXPECT_EQ(outbox("+996555000111").size(), 1u);
    clock.t += 3601s;
    send("HELP");
    EXPECT_EQ(outbox().size(), 4u);
}

// Several nodes: the count is the store's, so two services (two nodes) on
// one store share one allowance per number.
TEST_F(SmsService, RateLimitPerNumberHoldsAcrossNodesWithASharedStore) {
    service::sms_settings s;
    s.per_number_limit = 3;
    s.shared_limits = true;
    svc = make(s);
    auto other_node = make(s);
    for (int i = 0; i < 6; ++i)
        (i % 2 ? *svc : *other_node)
            .handle({"africastalking", "m" + std::to_string(++n), "+79161234567", "HELP"}, false);
    EXPECT_EQ(outbox().size(), 3u);
    EXPECT_EQ(svc->counters().rate_limited.load() + other_node->counters().rate_limited.load(), 3u);
    clock.t += 3601s;
    send("HELP");
    EXPECT_EQ(outbox().size(), 4u) << "a new window";
}

TEST_F(SmsService, RateLimitPerChannel) {
    service::sms_settings s;
    s.per_channel_limit = 2;
    svc = make(s);
    send("HELP", "+996555000001");
    send("HELP", "+996555000002");
    send("HELP", "+996555000003");
    EXPECT_EQ(outbox("+996555000003").size(), 0u);
    EXPECT_EQ(svc->counters().rate_limited.load(), 1u);
}

TEST_F(SmsService, UnusableSenderGetsNothing) {
    send("HELP", "Beeline");
    EXPECT_EQ(svc->counters().bad_numbers.load(), 1u);
    EXPECT_TRUE(outbox("Beeline").empty());
}

TEST_F(SmsService, SessionExpiresAfterIdleTimeout) {
    send("HELP");
    send("2");
    clock.t += 25h;
    send("1");  // not an answer to a day-old screen: the menu starts again
    EXPECT_NE(last_reply().find("Главное меню"), std::string::npos) << last_reply();
}

TEST_F(SmsService, InvalidInputReshowsTheScreen) {
    send("HELP");
    send("2");
    send("zzz");
    EXPECT_EQ(last_reply().rfind("Неверно.", 0), 0u) << last_reply();
    send(std::string(2000, 'x'));
    EXPECT_EQ(last_reply().rfind("Неверно.", 0), 0u);
    send("\xFF\xFE");
    EXPECT_EQ(last_reply().rfind("Неверно.", 0), 0u);
}

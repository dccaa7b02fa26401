#include "service/ussd_service.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "store/health.hpp"
#include "support/fake_clock.hpp"
#include "support/store_faults.hpp"
#include "support/test_sealer.hpp"
#include "unit/menu_fixture.hpp"

using namespace gw;
using namespace std::chrono_literals;
namespace st = gw::store;

namespace {
class UssdService : public ::testing::Test {
  protected:
    test::temp_dir dir;
    test::fake_clock clock;
    std::unique_ptr<st::store> store = open(dir.file("g.db"));
    st::store& db = *store;
    test::store_faults faults{dir.file("g.db")};
    // Writes behind another process's lock give up quickly in tests.
    static std::unique_ptr<st::store> open(const std::string& path,
                                           st::storage_health* health = nullptr) {
        st::sqlite_options o;
        o.health = health;
        o.busy_timeout = 20ms;
        return st::open_sqlite_store(path, gw::test::test_sealer(), o);
    }
    std::shared_ptr<const menu::engine> eng =
        std::make_shared<menu::engine>(test::load_layout(test::small_menu_dir()));
    service::ussd_service svc{eng, db, phone_normalizer("KG", {"KG", "RU", "KZ"}), clock,
                              service::ussd_settings{180s, 900s, 480}};

    // One Africa's Talking style dialogue: each call appends an input.
    struct dialogue {
        service::ussd_service& svc;
        service::ussd_request req;
        int inputs = 0;
        service::ussd_reply first() { return svc.handle(req); }
        service::ussd_reply send(const std::string& input) {
            req.text = inputs++ == 0 ? input : req.text + "*" + input;
            return svc.handle(req);
        }
    };
    // A second service on the same store whose session state is written
    // behind, at most `flush` after a hop.
    service::ussd_service behind(std::chrono::milliseconds flush) {
        return {eng, db, phone_normalizer("KG", {"KG"}), clock,
                service::ussd_settings{180s, 900s, 480, flush}};
    }
    dialogue dial(const std::string& session, const std::string& phone = "+996555123456") {
        return dialogue{svc, {"africastalking", session, phone, "*123#", "", ""}};
    }
    static std::string reference_in(const std::string& text) {
        std::smatch m;
        return std::regex_search(text, m, std::regex("R-[0-9]{7}")) ? m.str() : "";
    }
    // The presses 2, 3, 1 on a fresh number, uninterrupted: its first
    // screen and its END.
    std::pair<service::ussd_reply, service::ussd_reply> uninterrupted_walk() {
        auto straight = dial("straight", "+996555000777");
        auto first = straight.first();
        straight.send("2");
        straight.send("3");
        return {first, straight.send("1")};
    }
    // A walk replayed after a restart made the case the uninterrupted one did.
    void expect_same_case(const service::ussd_reply& r, const service::ussd_reply& expected) {
        EXPECT_EQ(r.end, expected.end);
        auto mine = db.find_case(reference_in(r.text));
        auto theirs = db.find_case(reference_in(expected.text));
        ASSERT_TRUE(mine && theirs) << r.text;
        EXPECT_EQ(mine->language, "ru");
        EXPECT_EQ(std::tie(mine->topic, mine->oblast, mine->consent, mine->language),
                  std::tie(theirs->topic, theirs->oblast, theirs->consent, theirs->language));
    }
};

}  // namespace

TEST_F(UssdService, WalksFromLanguageToRegisteredCase) {
    auto d = dial("s1");
    auto r = d.first();
    EXPECT_FALSE(r.end);
    EXPECT_NE(r.text.find("Кыргызча"), std::string::npos);
    r = d.send("2");
    EXPECT_NE(r.text.find("Главное меню"), std::string::npos);
    d.send("3");
    r = d.send("1");
    ASSERT_TRUE(r.end);
    std::string ref = reference_in(r.text);
    ASSERT_FALSE(ref.empty()) << r.text;
    auto stored = db.find_case(ref);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->phone, "+996555123456");
    EXPECT_EQ(stored->topic, "employment");
    EXPECT_EQ(stored->oblast, "osh");
    EXPECT_EQ(stored->language, "ru");
    EXPECT_TRUE(stored->consent);
    EXPECT_EQ(stored->channel, "ussd");
}

TEST_F(UssdService, LanguageIsRememberedForTheNextSession) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    auto again = dial("s2");
    auto r = again.first();
    EXPECT_NE(r.text.find("Главное меню"), std::string::npos) << r.text;
}

// Written behind: her choice travels with the session's state (no write
// of its own), and a next session of her number still finds it.
TEST_F(UssdService, LanguageChosenWhileWritingBehindIsRememberedWithTheState) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request req{"africastalking", "lb1", "+996555123456", "*123#", "", ""};
    batched.handle(req);
    req.text = "2";
    batched.handle(req);
    EXPECT_FALSE(db.subscriber_language("+996555123456"));  // still in the batch
    service::ussd_request next{"africastalking", "lb2", "+996555123456", "*123#", "", ""};
    auto r = batched.handle(next);
    EXPECT_NE(r.text.find("Главное меню"), std::string::npos) << r.text;
    EXPECT_EQ(db.subscriber_language("+996555123456").value_or(""), "ru");
}

TEST_F(UssdService, RetriedHopGetsTheSameAnswerAndCreatesOneCase) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("3");
    auto r1 = d.send("1");
    auto r2 = svc.handle(d.req);  // aggregator retries the same hop
    EXPECT_EQ(r1.text, r2.text);
    EXPECT_EQ(db.count_cases(), 1u);
}

TEST_F(UssdService, InvalidInputNeverEndsTheSession) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    for (const std::string& bad :
         std::vector<std::string>{"abc", "", "99", std::string(600, '1'), "\xFF\xFE"}) {
        auto r = d.send(bad);
        EXPECT_FALSE(r.end) << bad;
        EXPECT_NE(r.text.find("Неверно.") == std::string::npos &&
                      r.text.find("Пусто.") == std::string::npos,
                  true)
            << r.text;
    }
    auto r = d.send("1");
    EXPECT_NE(r.text.find("Первое предложение"), std::string::npos) << r.text;
}

TEST_F(UssdService, UnparseableNumberEndsInBothLanguages) {
    auto d = dial("s1", "not-a-number");
    auto r = d.first();
    EXPECT_TRUE(r.end);
    EXPECT_NE(r.text.find("Номер окулган жок."), std::string::npos);
    EXPECT_NE(r.text.find("Номер не распознан."), std::string::npos);
}

TEST_F(UssdService, RussianNumberFromAbroadIsServed) {
    auto d = dial("s1", "+79161234567");
    EXPECT_FALSE(d.first().end);
}

TEST_F(UssdService, DigitsDialledWithTheCodeAreReplayed) {
    auto d = dial("s1");
    d.req.text = "2*3*1";  // *123*2*3*1#
    auto r = svc.handle(d.req);
    EXPECT_TRUE(r.end);
    EXPECT_FALSE(reference_in(r.text).empty()) << r.text;
}

TEST_F(UssdService, IdleSessionExpires) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    clock.t += 181s;
    auto r = d.send("1");
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Сеанс завершён.");
}

TEST_F(UssdService, TimedOutSessionCanBeResumed) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("2");  // ask screen: input
    d.send("Айгүл");
    clock.t += 200s;
    svc.expire_idle_sessions();
    auto again = dial("s2");
    auto r = again.first();
    EXPECT_NE(r.text.find("Продолжить?"), std::string::npos) << r.text;
    // Starting again first: the safe answer for whoever holds her phone.
    EXPECT_NE(r.text.find("1 Сначала"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("2 Продолжить"), std::string::npos);
    r = again.send("x");
    EXPECT_NE(r.text.find("Неверно."), std::string::npos);
    r = again.send("2");
    EXPECT_NE(r.text.find("Согласны?"), std::string::npos) << r.text;
    r = again.send("1");
    ASSERT_TRUE(r.end);
    auto c = db.find_case(reference_in(r.text));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->details, "Айгүл");
    EXPECT_EQ(c->topic, "legal_aid");
    // The resumed session is not offered a second time.
    auto third = dial("s3");
    EXPECT_NE(third.first().text.find("Главное меню"), std::string::npos);
}

TEST_F(UssdService, StartAgainDropsTheOldSession) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("1");
    auto again = dial("s2");
    again.first();
    auto r = again.send("1");
    EXPECT_NE(r.text.find("Главное меню"), std::string::npos) << r.text;
    auto third = dial("s3");
    EXPECT_NE(third.first().text.find("Главное меню"), std::string::npos);
}

TEST_F(UssdService, NoResumeOfferAfterTheWindow) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("1");
    clock.t += 1000s;
    auto again = dial("s2");
    EXPECT_NE(again.first().text.find("Главное меню"), std::string::npos);
}

TEST_F(UssdService, SessionContinuesAfterRestartFromTheStore) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("3");
    // A new service on the same store: another node or a restart.
    service::ussd_service other{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    d.req.text += "*1";
    auto r = other.handle(d.req);
    EXPECT_TRUE(r.end);
    EXPECT_FALSE(reference_in(r.text).empty()) << r.text;
}

TEST_F(UssdService, CaseThatCannotBeStoredIsNeverAcknowledged) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("3");
    faults.fail_case_inserts();
    auto r = d.send("1");
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Ошибка. Повторите позже.");
    EXPECT_EQ(db.count_cases(), 0u);
}

TEST_F(UssdService, StoreDownGivesPoliteEnd) {
    faults.hold_write_lock();
    auto d = dial("s1");
    auto r = d.first();
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Ката. Кийин кайталаңыз.");
}

TEST_F(UssdService, SessionStateIsWrittenBehindInBatches) {
    service::ussd_service batched = behind(1000ms);
    service::ussd_request req{"africastalking", "wb1", "+996555123456", "*123#", "", ""};
    batched.handle(req);
    // The first hop flushes (nothing written yet); the next ones wait for the batch.
    req.text = "2";
    batched.handle(req);
    auto stored = db.find_session("africastalking:wb1");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->state.find("\"last_text\":\"2\""), std::string::npos) << stored->state;
    batched.flush_sessions();
    EXPECT_NE(db.find_session("africastalking:wb1")->state.find("\"last_text\":\"2\""),
              std::string::npos);
    clock.t += 2s;  // the next hop after the flush interval writes the batch itself
    req.text = "2*1";
    batched.handle(req);
    EXPECT_NE(db.find_session("africastalking:wb1")->state.find("\"last_text\":\"2*1\""),
              std::string::npos);
}

// Her END waits for one commit: the case and her session's final state
// (the END that quotes the code) are written together, and no state still
// waiting in the write-behind batch can later overwrite it.
TEST_F(UssdService, ACaseHopIsOneCommitWithHerFinalSession) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request req{"africastalking", "one", "+996555123456", "*123#", "", ""};
    batched.handle(req);
    for (const char* text : {"2", "2*3"}) {
        req.text = text;
        batched.handle(req);  // waiting in the batch
    }
    const long long commits_before = db.commit_counts().commits;
    req.text = "2*3*1";
    auto r = batched.handle(req);
    ASSERT_TRUE(r.end);
    const std::string ref = reference_in(r.text);
    ASSERT_FALSE(ref.empty()) << r.text;
    EXPECT_EQ(db.commit_counts().commits, commits_before + 1);
    auto session = db.find_session("africastalking:one");
    ASSERT_TRUE(session);
    EXPECT_EQ(session->status, gw::store::session_status::finished);
    EXPECT_NE(session->state.find(ref), std::string::npos) << "the END she was sent";
    EXPECT_EQ(db.subscriber_language("+996555123456").value_or(""), "ru");
    batched.flush_sessions();
    EXPECT_EQ(db.find_session("africastalking:one")->status, gw::store::session_status::finished);
    // The aggregator retries the hop: the same END, from the store.
    service::ussd_service restarted{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    EXPECT_EQ(restarted.handle(req).text, r.text);
    EXPECT_EQ(db.count_cases(), 1u);
}

TEST_F(UssdService, StorageHealthFollowsWritesNotReads) {
    st::storage_health health;
    test::temp_dir other;
    auto watched = open(other.file("g.db"), &health);
    test::store_faults lock{other.file("g.db")};
    watched->set_subscriber_language("+996555000001", "ky");
    EXPECT_FALSE(health.failing());
    lock.hold_write_lock();
    EXPECT_THROW(watched->set_subscriber_language("+996555000001", "ru"), st::store_error);
    EXPECT_TRUE(health.failing());
    EXPECT_EQ(health.failures(), 1);
    // While writes fail, no read of any kind clears the alarm.
    watched->find_case("R-0000000");
    watched->count_cases();
    watched->outbox_counts();
    watched->hotline_queue_length();
    watched->hotline_queue(10);
    watched->operators();
    watched->find_operator("nobody");
    watched->open_referral_counts();
    watched->overdue_referrals(0);
    watched->partner_referrals("legal_aid_osh", std::nullopt, 10, 0);
    watched->audit_trail(0, 10);
    watched->statistics();
    watched->paused_partners();
    watched->dead_outbound(10);
    watched->unrouted_cases(10);
    watched->no_sms("+996555000001");
    watched->subscriber_language("+996555000001");
    EXPECT_TRUE(health.failing());
    lock.release_write_lock();
    watched->set_subscriber_language("+996555000001", "ru");
    EXPECT_FALSE(health.failing());
}

// Issue "wrong answers after a restart": the store is hops behind her
// (written behind) when another service takes the session over.
TEST_F(UssdService, RestartReplaysTheHopsTheStoreMissed) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request req{"africastalking", "behind", "+996555123456", "*123#", "", ""};
    batched.handle(req);  // the first batch is due at once: this hop is stored
    for (const char* text : {"2", "2*3"}) {
        req.text = text;
        batched.handle(req);  // these wait for the batch
    }
    const auto expected = uninterrupted_walk().second;

    // "Restart": the batch is lost; a new service reads the first hop's state.
    service::ussd_service restarted{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    req.text = "2*3*1";
    expect_same_case(restarted.handle(req), expected);
}

// Her first hop is written behind like a menu move: a restart that lost
// it starts her next hop's text afresh, which is the walk she made.
TEST_F(UssdService, AFirstHopLostWithItsBatchIsReplayedFromNothing) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request warm{"africastalking", "warm", "+996555000001", "*123#", "", ""};
    batched.handle(warm);  // the first batch is due at once; the next one waits a minute
    const long long commits_before = db.commit_counts().commits;
    service::ussd_request req{"africastalking", "lost", "+996555123456", "*123#", "", ""};
    auto first = batched.handle(req);
    EXPECT_FALSE(db.find_session("africastalking:lost")) << "written behind";
    EXPECT_EQ(db.commit_counts().commits, commits_before);
    for (const char* text : {"2", "2*3"}) {
        req.text = text;
        batched.handle(req);
    }
    const auto [straight_first, expected] = uninterrupted_walk();
    EXPECT_EQ(straight_first.text, first.text);

    // "Restart": the batch is lost, her first hop with it.
    service::ussd_service restarted{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    req.text = "2*3*1";
    expect_same_case(restarted.handle(req), expected);
}

// A first hop that offers to resume cannot be replayed from nothing (her
// "1" would become the menu's first item): it is written through.
TEST_F(UssdService, AFirstHopThatOffersToResumeIsWrittenThrough) {
    auto d = dial("s1");
    d.first();
    d.send("2");
    d.send("2");
    d.send("Айгүл");
    clock.t += 200s;
    svc.expire_idle_sessions();
    service::ussd_service batched = behind(60000ms);
    service::ussd_request warm{"africastalking", "warm", "+996555000001", "*123#", "", ""};
    batched.handle(warm);
    service::ussd_request req{"africastalking", "s2", "+996555123456", "*123#", "", ""};
    auto offer = batched.handle(req);
    ASSERT_NE(offer.text.find("Продолжить?"), std::string::npos) << offer.text;
    EXPECT_TRUE(db.find_session("africastalking:s2")) << "written through";
    // A restart: her "1" still means "start again".
    service::ussd_service restarted{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    req.text = "1";
    auto r = restarted.handle(req);
    EXPECT_NE(r.text.find("Главное меню"), std::string::npos) << r.text;
}

TEST_F(UssdService, FirstHopThatCannotBeStoredPromisesNothing) {
    faults.hold_write_lock();
    auto d = dial("unsaved");
    auto r = d.first();
    EXPECT_TRUE(r.end);
    faults.release_write_lock();
    // The session is over; the aggregator's next session starts cleanly.
    auto again = dial("unsaved-2");
    EXPECT_FALSE(again.first().end);
}

TEST_F(UssdService, AnotherNumberCannotContinueHerSession) {
    auto d = dial("bound");
    d.first();
    auto mine = d.send("2");
    auto other = dial("bound", "+996700111222");
    other.req.text = "2";
    other.inputs = 1;
    auto r = other.send("3");
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Сеанс бүттү.\nСеанс завершён.\nSeans tugadi.");
    EXPECT_EQ(d.send("3").end, false);  // hers goes on
}

TEST_F(UssdService, NeverOffersToResumeIntoASensitiveScreen) {
    auto d = dial("sens1");
    d.first();
    d.send("2");
    d.send("7");  // a sensitive info screen
    clock.t += 200s;
    svc.expire_idle_sessions();
    auto again = dial("sens2");
    EXPECT_NE(again.first().text.find("Главное меню"), std::string::npos)
        << "whoever dials from her phone next is not shown where she was";
}

TEST_F(UssdService, HerCodeAnswersOnlyForHerNumber) {
    auto d = dial("mk");
    d.first();
    d.send("2");
    d.send("3");
    auto done = d.send("1");
    const std::string ref = reference_in(done.text);
    ASSERT_FALSE(ref.empty()) << done.text;
    auto check = [&](const std::string& session, const std::string& phone,
                     const std::string& typed) {
        auto q = dial(session, phone);
        q.first();
        q.send("6");
        return q.send(typed);
    };
    // Her number, with or without R-: the status in neutral words.
    auto r = check("look1", "+996555123456", ref);
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Зарегистрировано.");
    EXPECT_EQ(check("look2", "+996555123456", ref.substr(2)).text, "Зарегистрировано.");
    // Another number, or a code that does not exist: the same "not found".
    db.set_subscriber_language("+996700000001", "ky");
    EXPECT_EQ(check("look3", "+996700000001", ref).text, "Табылган жок.");
    EXPECT_EQ(check("look4", "+996555123456", "R-9999999").text, "Не найдено.");
    EXPECT_EQ(check("look5", "+996555123456", "abc").text, "Не найдено.");
}

TEST_F(UssdService, SmsMeThisQueuesTheTextOnlyThroughTheOutbox) {
    service::ussd_settings with_sms{180s, 900s, 480};
    with_sms.info_sms = {"kannel", 3};
    service::ussd_service svc2{eng, db, phone_normalizer("KG", {"KG"}), clock, with_sms};
    service::ussd_request req{"africastalking", "smsme", "+996555123456", "*123#", "", ""};
    svc2.handle(req);
    req.text = "2";
    svc2.handle(req);
    req.text = "2*1";
    auto r = svc2.handle(req);
    for (int page = 0; page < 10 && r.text.find("1 SMS") == std::string::npos; ++page) {
        req.text += "*98";
        r = svc2.handle(req);
    }
    req.text += "*1";
    r = svc2.handle(req);
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "SMS отправлено.");
    auto sent = db.outbound_to("+996555123456");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].purpose, "info_sms");
    EXPECT_EQ(sent[0].body.rfind("Первое предложение здесь.", 0), 0u) << sent[0].body;
    EXPECT_EQ(sent[0].body.find("98"), std::string::npos) << "the text only, no menu lines";
    // STOP is respected.
    db.set_no_sms("+996555123456", true);
    req.session_id = "smsme2";
    req.text = "";
    svc2.handle(req);
    req.text = "1";
    r = svc2.handle(req);
    for (int page = 0; page < 10 && r.text.find("1 SMS") == std::string::npos; ++page) {
        req.text += "*98";
        r = svc2.handle(req);
    }
    req.text += "*1";
    EXPECT_EQ(svc2.handle(req).text, "SMS не отправлено.");
}

// SMPP gateways send each answer alone (with '*' inside it when she typed one).
TEST_F(UssdService, StepwiseAnswersWalkTheSameMenuAndSurviveARestart) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request req{"smpp-op", "2a:996555123456", "+996555123456", "*1313#", "", ""};
    batched.handle(req);
    req.stepwise = true;
    for (const char* answer : {"2", "3"}) {
        req.text = answer;
        EXPECT_FALSE(batched.handle(req).end);
    }
    // Written through whatever the batch setting: a restart loses nothing.
    service::ussd_service restarted{eng, db, phone_normalizer("KG", {"KG"}), clock, {}};
    req.text = "1";
    auto r = restarted.handle(req);
    ASSERT_TRUE(r.end) << r.text;
    auto c = db.find_case(reference_in(r.text));
    ASSERT_TRUE(c) << r.text;
    EXPECT_EQ(c->topic, "employment");
    EXPECT_EQ(c->oblast, "osh");
    EXPECT_EQ(c->language, "ru");
}

TEST_F(UssdService, AStepwiseAnswerForAnUnknownDialogueAnswersNothingShe) {
    service::ussd_request req{"smpp-op", "77:996555123456", "+996555123456", "*1313#", "1", ""};
    req.stepwise = true;
    auto r = svc.handle(req);
    EXPECT_TRUE(r.end);
    EXPECT_EQ(db.find_session("smpp-op:77:996555123456"), std::nullopt)
        << "no session was opened with her answer as its first input";
}

TEST_F(UssdService, AReleasedDialogueIsOverAndCanBeResumed) {
    service::ussd_request req{"smpp-op", "2b:996555123456", "+996555123456", "*1313#", "", ""};
    svc.handle(req);
    req.stepwise = true;
    req.text = "2";
    svc.handle(req);
    req.text = "3";
    svc.handle(req);
    svc.release("smpp-op", "2b:996555123456");
    EXPECT_EQ(svc.active_sessions(), 0u);
    EXPECT_EQ(db.find_session("smpp-op:2b:996555123456")->status,
              gw::store::session_status::abandoned);
    service::ussd_request again{"smpp-op", "2c:996555123456", "+996555123456", "*1313#", "", ""};
    auto offer = svc.handle(again);
    EXPECT_FALSE(offer.end);
    EXPECT_NE(offer.text.find("\n2 "), std::string::npos) << "offered to go on: " << offer.text;
}

// The SMPP channel answers a batch of hops after one write for all of them.
TEST_F(UssdService, HopsWhoseCallerFlushesAreWrittenOnlyWhenItFlushes) {
    service::ussd_request req{"smpp-op", "2d:996555123456", "+996555123456", "*1313#", "", ""};
    req.caller_flushes = true;
    EXPECT_FALSE(svc.handle(req).end);
    EXPECT_EQ(db.find_session("smpp-op:2d:996555123456"), std::nullopt) << "not yet";
    svc.flush_sessions();
    ASSERT_TRUE(db.find_session("smpp-op:2d:996555123456"));

    req.stepwise = true;
    req.text = "2";
    svc.handle(req);
    faults.hold_write_lock();
    EXPECT_THROW(svc.flush_sessions(), st::store_error);
    // The screen she was about to get is replaced: nothing unstored is answered.
    auto r = svc.store_failure_reply("smpp-op", "2d:996555123456");
    EXPECT_TRUE(r.end);
    EXPECT_EQ(svc.active_sessions(), 0u);
}

// A menu move is answered on the I/O thread from the session in memory
// (answer_from_memory); anything else falls back to handle(). The walk
// must read and end exactly as handle() alone walks it.
TEST_F(UssdService, MenuMovesAnsweredFromMemoryReadAsHandleWouldAnswerThem) {
    service::ussd_service batched = behind(60000ms);
    auto straight = dial("straight", "+996555000777");
    service::ussd_request req{"africastalking", "mem", "+996555123456", "*123#", "", ""};
    std::vector<bool> from_memory;
    auto hop = [&](const std::string& text) {
        req.text = text;
        auto quick = batched.answer_from_memory(req);
        from_memory.push_back(quick.has_value());
        return quick ? *quick : batched.handle(req);
    };
    auto r = hop("");
    EXPECT_EQ(r.text, straight.first().text);
    std::string text;
    for (const char* input : {"2", "3", "1"}) {
        text = text.empty() ? input : text + "*" + input;
        auto expected = straight.send(input);
        r = hop(text);
        EXPECT_EQ(r.end, expected.end);
        if (!expected.end) EXPECT_EQ(r.text, expected.text);
    }
    // The first hop (no session yet) and the last (it stores her case) go
    // to handle(); the menu moves between them do not.
    EXPECT_EQ(from_memory, (std::vector<bool>{false, true, true, false}));
    ASSERT_TRUE(r.end);
    auto mine = db.find_case(reference_in(r.text));
    ASSERT_TRUE(mine) << r.text;
    EXPECT_EQ(
        std::tie(mine->topic, mine->oblast, mine->language, mine->consent),
        std::make_tuple(std::string("employment"), std::string("osh"), std::string("ru"), true));
    EXPECT_EQ(db.count_cases(), 2u);  // hers and the straight walk's, no more
}

TEST_F(UssdService, AHopAnsweredFromMemoryIsWrittenBehindWithHerLanguage) {
    service::ussd_service batched = behind(60000ms);
    service::ussd_request req{"africastalking", "wbm", "+996555123456", "*123#", "", ""};
    batched.handle(req);
    req.text = "2";
    auto r = batched.answer_from_memory(req);
    ASSERT_TRUE(r);
    EXPECT_NE(r->text.find("Главное меню"), std::string::npos) << r->text;
    // A retry of that hop: the same screen, still from memory.
    auto again = batched.answer_from_memory(req);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->text, r->text);
    EXPECT_EQ(db.find_session("africastalking:wbm")->state.find("\"last_text\":\"2\""),
              std::string::npos);  // in the batch, not yet written
    EXPECT_FALSE(db.subscriber_language("+996555123456"));
    batched.flush_sessions();
    EXPECT_NE(db.find_session("africastalking:wbm")->state.find("\"last_text\":\"2\""),
              std::string::npos);
    EXPECT_EQ(db.subscriber_language("+996555123456").value_or(""), "ru");
}

TEST_F(UssdService, WhatMustWaitIsNeverAnsweredFromMemory) {
    service::ussd_request req{"africastalking", "wait", "+996555123456", "*123#", "", ""};
    // Every hop written through (session_flush 0): each waits for the store.
    svc.handle(req);
    req.text = "2";
    EXPECT_FALSE(svc.answer_from_memory(req));

    service::ussd_service batched = behind(1000ms);
    service::ussd_request b{"africastalking", "due", "+996555123456", "*123#", "", ""};
    EXPECT_FALSE(batched.answer_from_memory(b));  // no session in memory yet
    batched.handle(b);
    b.text = "2";
    ASSERT_TRUE(batched.answer_from_memory(b));
    clock.t += 2s;  // the batch is due: the hop that writes it runs on a worker
    b.text = "2*3";
    EXPECT_FALSE(batched.answer_from_memory(b));
    EXPECT_FALSE(batched.handle(b).end);
    b.phone = "+996555000001";  // another number with her session id
    b.text = "2*3*9";
    EXPECT_FALSE(batched.answer_from_memory(b));
    b.phone = "+996555123456";
    b.text = "1*1";  // not a continuation of her walk
    EXPECT_FALSE(batched.answer_from_memory(b));
}

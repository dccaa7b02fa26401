#include "service/referral_service.hpp"

#include <gtest/gtest.h>

#include "service/case_from_session.hpp"
#include "support/case_builder.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace std::chrono;

namespace {

class ReferralService : public ::testing::Test {
  protected:
    ReferralService() {
        auto partners =
            referral::load_partners(test::source_path("tests/data/referral/partners.yaml"));
        auto rules = referral::load_rules(test::source_path("tests/data/referral/rules"));
        setup = std::make_shared<service::routing_setup>(
            service::routing_setup{partners.value, rules.value});
        service::referral_settings s;
        s.notify_channel = "kannel";
        s.accepted_text = [](const std::string& lang) {
            return lang == "ru" ? "Ваше обращение {ref} принято." : "{ref} кабыл алынды.";
        };
        svc = std::make_unique<service::referral_service>(*db, clock, setup, s);
    }

    store::case_record new_case(const std::string& topic, const std::string& oblast,
                                bool consent = true, bool notify = false) {
        ++n;
        return test::a_case("test:" + std::to_string(n))
            .phone("+99655500" + std::to_string(1000 + n))
            .topic(topic)
            .oblast(oblast)
            .consent(consent)
            .notify_sms(notify)
            .store_in(*db, to_unix_seconds(clock.t));
    }

    test::temp_dir dir;
    test::fake_clock clock;
    std::unique_ptr<store::store> db =
        store::open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    std::shared_ptr<service::routing_setup> setup;
    std::unique_ptr<service::referral_service> svc;
    int n = 0;
};

}  // namespace

TEST_F(ReferralService, RoutesWithExplanationDeadlineWebhookAndFocalSms) {
    auto c = new_case("legal_aid", "osh");
    auto r = svc->route_case(c);
    EXPECT_EQ(r.partner, "legal_osh");
    EXPECT_EQ(r.status, store::referral_status::new_);
    EXPECT_EQ(r.rule, "legal-osh");
    EXPECT_NE(r.explanation.find("matched: oblast=osh, topic=legal_aid"), std::string::npos)
        << r.explanation;
    // 4 working hours from Monday 12:00: 12-13, lunch, 14-17.
    EXPECT_EQ(r.due_at, to_unix_seconds(clock.t) + 5 * 3600);
    auto events = db->referral_events(r.id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].action, "created");
    auto hooks = db->outbound_to("legal_osh");
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_EQ(hooks[0].channel, "webhook:legal_osh");
    EXPECT_NE(hooks[0].body.find(c.reference), std::string::npos);
    EXPECT_EQ(hooks[0].body.find(c.phone), std::string::npos) << "webhook payload stays minimal";
    auto focal = db->outbound_to("+996700000101");
    ASSERT_EQ(focal.size(), 1u);
    EXPECT_NE(focal[0].body.find(c.reference), std::string::npos);
    // Routing again does nothing.
    EXPECT_EQ(svc->route_case(c).id, r.id);
    EXPECT_EQ(db->case_referrals(c.id).size(), 1u);
}

// Her END waits for one commit: the case, its referral, the referral's
// event and the partner's messages are written together.
TEST_F(ReferralService, ANewCaseIsStoredWithItsFirstReferralInOneCommit) {
    store::new_case c =
        test::a_case("hop:1").phone("+996555001234").topic("legal_aid").oblast("osh").consent(true);
    const long long commits_before = db->commit_counts().commits;
    auto made = svc->store_new_case(c, to_unix_seconds(clock.t));
    EXPECT_EQ(db->commit_counts().commits, commits_before + 1);
    EXPECT_TRUE(made.written_now);
    const store::case_record& stored = made.record;
    EXPECT_EQ(stored.status, store::case_status::new_);
    auto referrals = db->case_referrals(stored.id);
    ASSERT_EQ(referrals.size(), 1u);
    EXPECT_EQ(referrals[0].partner, "legal_osh");
    EXPECT_EQ(referrals[0].rule, "legal-osh");
    auto hooks = db->outbound_to("legal_osh");
    ASSERT_EQ(hooks.size(), 1u);
    EXPECT_NE(hooks[0].body.find(stored.reference), std::string::npos)
        << "the message quotes the code the case was stored under";
    ASSERT_EQ(db->outbound_to("+996700000101").size(), 1u);

    // The aggregator retries the hop: the same case, nothing new written.
    auto again = svc->store_new_case(c, to_unix_seconds(clock.t) + 5);
    EXPECT_FALSE(again.written_now);
    EXPECT_EQ(again.record.reference, stored.reference);
    EXPECT_EQ(db->case_referrals(stored.id).size(), 1u);
    EXPECT_EQ(db->outbound_to("legal_osh").size(), 1u);

    // A case stored alone before (its routing failed) is routed on a retry.
    store::new_case alone_case = test::a_case("hop:2").topic("legal_aid").oblast("osh");
    auto alone = service::store_case(*db, alone_case, to_unix_seconds(clock.t));
    ASSERT_TRUE(db->case_referrals(alone.id).empty());
    EXPECT_EQ(svc->store_new_case(alone_case, to_unix_seconds(clock.t)).record.id, alone.id);
    EXPECT_EQ(db->case_referrals(alone.id).size(), 1u);

    // Nobody to take it: the operators' from the start, in the same write.
    auto unplaced = svc->store_new_case(test::a_case("hop:3").topic("migration").oblast("osh"),
                                        to_unix_seconds(clock.t))
                        .record;
    ASSERT_EQ(db->hotline_queue(10).size(), 1u);
    EXPECT_EQ(db->hotline_queue(10)[0].c.id, unplaced.id);
    ASSERT_EQ(db->case_referrals(unplaced.id).size(), 1u);
    EXPECT_EQ(db->case_referrals(unplaced.id)[0].status, store::referral_status::escalated);
}

TEST_F(ReferralService, NoRuleMeansOperators) {
    auto c = new_case("migration", "osh");
    auto r = svc->route_case(c);
    EXPECT_EQ(r.partner, "");
    EXPECT_EQ(r.status, store::referral_status::escalated);
    EXPECT_NE(r.explanation.find("operators"), std::string::npos);
}

TEST_F(ReferralService, AcceptSendsHerADiscreetSmsOnlyIfSheAsked) {
    auto quiet = new_case("legal_aid", "osh", true, false);
    auto r1 = svc->route_case(quiet);
    ASSERT_TRUE(std::holds_alternative<store::referral_record>(
        svc->act("legal_osh", r1.id, service::partner_action::accept, "", "partner:legal_osh")));
    EXPECT_TRUE(db->outbound_to(quiet.phone).empty());

    auto asked = new_case("legal_aid", "osh", true, true);
    auto r2 = svc->route_case(asked);
    svc->act("legal_osh", r2.id, service::partner_action::accept, "", "partner:legal_osh");
    auto sms = db->outbound_to(asked.phone);
    ASSERT_EQ(sms.size(), 1u);
    EXPECT_EQ(sms[0].body, "Ваше обращение " + asked.reference + " принято.");
    EXPECT_EQ(sms[0].body.find("legal"), std::string::npos);
}

TEST_F(ReferralService, LifecycleIsEnforcedAndAudited) {
    auto c = new_case("legal_aid", "osh");
    auto r = svc->route_case(c);
    using A = service::partner_action;
    auto err = [&](auto v) { return std::get<service::action_error>(v).kind; };
    EXPECT_EQ(err(svc->act("legal_osh", r.id, A::start, "", "p")),
              errc::conflict);  // not accepted yet
    EXPECT_EQ(err(svc->act("legal_osh", r.id, A::decline, "", "p")), errc::bad_request);  // reason
    EXPECT_EQ(err(svc->act("employment", r.id, A::accept, "", "p")),
              errc::not_found);  // not theirs
    svc->act("legal_osh", r.id, A::accept, "", "partner:legal_osh");
    svc->act("legal_osh", r.id, A::note, "called her, meeting Friday", "partner:legal_osh");
    svc->act("legal_osh", r.id, A::start, "", "partner:legal_osh");
    auto closed = svc->act("legal_osh", r.id, A::close, "court claim filed", "partner:legal_osh");
    EXPECT_EQ(std::get<store::referral_record>(closed).status, store::referral_status::closed);
    EXPECT_EQ(err(svc->act("legal_osh", r.id, A::accept, "", "p")), errc::conflict);
    std::vector<std::string> actions;
    for (const auto& e : db->referral_events(r.id)) actions.push_back(e.action);
    EXPECT_EQ(actions,
              (std::vector<std::string>{"created", "accepted", "noted", "in_progress", "closed"}));
    EXPECT_EQ(db->find_referral(r.id)->outcome, "court claim filed");
}

TEST_F(ReferralService, DeclinedGoesToTheNextPartnerThenToOperators) {
    auto c = new_case("legal_aid", "osh");
    auto first = svc->route_case(c);
    svc->act("legal_osh", first.id, service::partner_action::decline, "no lawyer free", "p");
    auto refs = db->case_referrals(c.id);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(refs[0].status, store::referral_status::declined);
    EXPECT_EQ(refs[0].reason, "no lawyer free");
    EXPECT_EQ(refs[1].partner, "legal_backup");
    EXPECT_NE(refs[1].explanation.find("legal_osh already had this case"), std::string::npos)
        << refs[1].explanation;
    svc->act("legal_backup", refs[1].id, service::partner_action::decline, "out of area", "p");
    refs = db->case_referrals(c.id);
    ASSERT_EQ(refs.size(), 3u);
    EXPECT_EQ(refs[2].partner, "");
    EXPECT_EQ(refs[2].status, store::referral_status::escalated);
}

TEST_F(ReferralService, OverdueReferralsAreReroutedOnTheSlaClock) {
    auto c = new_case("legal_aid", "osh");
    auto r = svc->route_case(c);
    clock.t += hours(4);  // 16:00: still inside the 4 working hours (lunch break)
    EXPECT_EQ(svc->sweep(), 0u);
    clock.t += hours(2);  // 18:00: past 17:00
    EXPECT_EQ(svc->sweep(), 1u);
    auto refs = db->case_referrals(c.id);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(refs[0].status, store::referral_status::overdue);
    EXPECT_EQ(refs[1].partner, "legal_backup");
    auto events = db->referral_events(r.id);
    EXPECT_EQ(events.back().action, "overdue");
    EXPECT_EQ(events.back().actor, "system");
}

TEST_F(ReferralService, SweepRoutesCasesLeftUnrouted) {
    auto c = new_case("employment", "osh");  // stored, then the process died before routing
    EXPECT_EQ(svc->sweep(), 1u);
    EXPECT_EQ(db->case_referrals(c.id).size(), 1u);
    EXPECT_EQ(svc->sweep(), 0u);
}

TEST_F(ReferralService, SmsCommandsOnlyFromTheFocalPoint) {
    auto c = new_case("legal_aid", "osh");
    auto r = svc->route_case(c);
    auto answer = svc->handle_sms_command("+996555999999", "ACCEPT " + c.reference);
    ASSERT_TRUE(answer) << "a command, from a number that is no focal point";
    EXPECT_FALSE(answer->reply) << "so nothing is said to it";
    auto reply = [&](const std::string& phone, const std::string& text) {
        auto a = svc->handle_sms_command(phone, text);
        return a && a->reply ? *a->reply : std::string("(none)");
    };
    EXPECT_EQ(svc->ignored_commands(), 1u);
    EXPECT_EQ(db->find_referral(r.id)->status, store::referral_status::new_);

    EXPECT_EQ(reply("+996700000101", "кабыл " + c.reference), c.reference + ": accepted");
    EXPECT_EQ(db->find_referral(r.id)->status, store::referral_status::accepted);
    EXPECT_EQ(reply("+996700000101", "done r-" + c.reference.substr(2) + " helped"),
              c.reference + ": closed");
    EXPECT_EQ(db->find_referral(r.id)->outcome, "helped");
    // The wrong partner's focal point, and text that is not a command.
    EXPECT_EQ(reply("+996700000102", "ACCEPT " + c.reference), c.reference + ": not found");
    EXPECT_FALSE(svc->handle_sms_command("+996700000101", "жок"))
        << "a woman's answer 'жок' is not a command";
}

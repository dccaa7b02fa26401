// The store's contract, aggregate by aggregate, run against every backend:
// SQLite (a file per test) and PostgreSQL (a database per test on the
// server tests/postgres/run.sh starts; skipped when none was started).
// What one backend does, the other must do the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "store/store.hpp"
#include "support/case_builder.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace gw::store;

namespace {

new_case sample(const std::string& origin, const std::string& phone = "+996555123456") {
    return gw::test::a_case(origin)
        .phone(phone)
        .language("ky")
        .details("ишке орношуу, паспорт жок")
        .consent()
        .status(case_status::new_);
}

// Every field a case reads back with.
auto fields_of(const case_record& c) {
    return std::tie(c.id, c.reference, c.origin_key, c.phone, c.channel, c.language, c.topic,
                    c.subtopic, c.oblast, c.target_group, c.details, c.consent, c.urgent,
                    c.safe_to_call, c.status, c.created_at, c.notify_sms, c.session_id,
                    c.assigned_to, c.outcome, c.closed_at, c.sms_channel, c.transcript, c.contact,
                    c.call_time, c.needs_hotline);
}

outbound_message sms(const std::string& channel, const std::string& to, long long due_ms = 0) {
    outbound_message m;
    m.channel = channel;
    m.recipient = to;
    m.body = "Сиздин кайрылууңуз катталды";
    m.purpose = "menu_reply";
    m.next_attempt_at_ms = due_ms;
    m.created_at = 100;
    return m;
}

class StoreContract : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        if (GetParam() == "postgres") {
            auto server = test::pg_database::server_url();
            if (!server) GTEST_SKIP() << "no PostgreSQL for this run (tests/postgres/run.sh)";
            pg_ = std::make_unique<test::pg_database>(*server);
        }
        store_ = open();
    }
    std::unique_ptr<store::store> open() {
        if (pg_) {
            postgres_options options;
            options.claim_timeout_s = -1;  // one node here: every unfinished claim is its own
            return open_postgres_store(pg_->url(), test::test_sealer(), options);
        }
        return open_sqlite_store(dir_.file("g.db"), test::test_sealer());
    }
    store::store& s() { return *store_; }

    test::temp_dir dir_;
    std::unique_ptr<test::pg_database> pg_;
    std::unique_ptr<store::store> store_;
};

TEST_P(StoreContract, ACaseIsKeptExactlyAsGivenAndFoundByReferenceOrId) {
    auto c = sample("ussd:a:1");
    c.safe_to_call = false;
    c.transcript = "1 > 2 > 3";
    c.contact = "call_time";
    c.call_time = "evening";
    c.session_id = "ussd:a";
    auto stored = s().create_case(c, "R-1234567", 1700000000);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->reference, "R-1234567");
    auto found = s().find_case("R-1234567");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, stored->id);
    EXPECT_EQ(found->phone, "+996555123456");
    EXPECT_EQ(found->details, "ишке орношуу, паспорт жок");
    EXPECT_EQ(found->transcript, "1 > 2 > 3");
    EXPECT_EQ(found->safe_to_call, false);
    EXPECT_EQ(found->call_time, "evening");
    EXPECT_EQ(found->created_at, 1700000000);
    EXPECT_EQ(found->status, case_status::new_);
    EXPECT_EQ(s().find_case_by_id(stored->id)->reference, "R-1234567");
    EXPECT_FALSE(s().find_case("R-0000000"));
    EXPECT_EQ(s().count_cases(), 1u);
}

// Issue #15: she reads out the last digits of her number; the store finds
// her cases through a keyed hash of them, never a scan of numbers.
TEST_P(StoreContract, CasesAreFoundByTheLastDigitsOfHerNumberUntilItIsForgotten) {
    auto first = s().create_case(sample("e:1", "+996555123456"), "R-1000001", 10);
    auto second = s().create_case(sample("e:2", "+79161113456"), "R-1000002", 100);
    ASSERT_TRUE(s().create_case(sample("e:3", "+996700009999"), "R-1000003", 30));
    ASSERT_TRUE(first && second);
    auto found = s().find_cases_by_number_ending("3456", 20);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].reference, "R-1000002") << "newest first";
    EXPECT_EQ(found[1].reference, "R-1000001");
    EXPECT_EQ(s().find_cases_by_number_ending("3456", 1).size(), 1u);
    EXPECT_TRUE(s().find_cases_by_number_ending("0000", 20).empty());
    EXPECT_TRUE(s().find_cases_by_number_ending("56", 20).empty()) << "too few digits";

    case_update close;
    close.status = case_status::closed;
    close.outcome = "done";
    s().update_case(first->id, close, {40, "operator:aida", "closed", first->id, ""}, {});
    s().purge_personal_data(50, 200);  // the first: closed before 50; the second is newer
    found = s().find_cases_by_number_ending("3456", 20);
    ASSERT_EQ(found.size(), 1u) << "retention forgets the ending with the number";
    EXPECT_EQ(found[0].reference, "R-1000002");
}

TEST_P(StoreContract, ATakenReferenceWritesNothingAndTheSameEventGivesTheSameCase) {
    ASSERT_TRUE(s().create_case(sample("a"), "R-1111111", 1));
    EXPECT_FALSE(s().create_case(sample("b"), "R-1111111", 2));
    EXPECT_EQ(s().count_cases(), 1u);
    auto again = s().create_case(sample("a"), "R-2222222", 3);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->reference, "R-1111111");
    EXPECT_EQ(again->created_at, 1);
}

// Her case, its first referral and her session after it are one commit:
// no moment, not even a crash between two writes, when the case is stored
// but not routed, or her END sent before all of it is kept.
TEST_P(StoreContract, ACaseItsFirstReferralAndHerSessionAreWrittenTogetherOrNotAtAll) {
    first_referral first;
    first.referral.partner = "legal_aid_osh";
    first.referral.status = referral_status::new_;
    first.referral.rule = "osh-legal";
    first.referral.created_at = 5;
    first.created = {0, "system", "created", "to legal_aid_osh", 5};
    first.outbox = {sms("kannel", "+996700000001")};
    written_with_case with{
        first, session_record{"ussd:r1", "+996555123456", "ussd", "{\"end\":\"R-3000001\"}",
                              gw::store::session_status::finished, 1, 5, "ky"}};
    const long long commits_before = s().commit_counts().commits;
    new_case full = gw::test::a_case("r:1")
                        .phone("+996555123456")
                        .language("ky")
                        .details("ишке орношуу, паспорт жок")
                        .consent()
                        .session_id("ussd:r1")
                        .transcript("{\"screen\":\"done\"}")
                        .contact("call_time")
                        .safe_to_call(true)
                        .status(case_status::new_);
    full.call_time = "evening";
    auto made = s().create_case_with(full, "R-3000001", 5, with);
    ASSERT_TRUE(made);
    EXPECT_TRUE(made->written_now);
    const case_record* stored = &made->record;
    // What it answers is what a read finds (it is not read back).
    auto found = s().find_case("R-3000001");
    ASSERT_TRUE(found);
    EXPECT_EQ(fields_of(*stored), fields_of(*found));
    if (!pg_) {
        EXPECT_EQ(s().commit_counts().commits, commits_before + 1) << "one commit";
    }
    auto session = s().find_session("ussd:r1");
    ASSERT_TRUE(session);
    EXPECT_EQ(session->state, "{\"end\":\"R-3000001\"}");
    EXPECT_EQ(session->status, gw::store::session_status::finished);
    EXPECT_EQ(s().subscriber_language("+996555123456"), "ky");
    auto referrals = s().case_referrals(stored->id);
    ASSERT_EQ(referrals.size(), 1u);
    EXPECT_EQ(referrals[0].partner, "legal_aid_osh");
    EXPECT_EQ(referrals[0].case_reference, "R-3000001");
    auto events = s().referral_events(referrals[0].id);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].detail, "to legal_aid_osh");
    EXPECT_EQ(s().outbound_to("+996700000001").size(), 1u);
    EXPECT_TRUE(s().hotline_queue(10).empty()) << "a partner has it";

    // A retry of the same event: the case stored first, nothing written.
    written_with_case retry = with;
    retry.session->state = "{\"end\":\"R-3000002\"}";
    auto again = s().create_case_with(sample("r:1"), "R-3000002", 6, retry);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->written_now);
    EXPECT_EQ(again->record.reference, "R-3000001");
    EXPECT_EQ(s().case_referrals(stored->id).size(), 1u);
    EXPECT_EQ(s().outbound_to("+996700000001").size(), 1u);
    EXPECT_EQ(s().find_session("ussd:r1")->state, "{\"end\":\"R-3000001\"}");

    // A taken reference: neither the case nor its referral.
    written_with_case other = with;
    other.session->id = "ussd:r2";
    EXPECT_FALSE(s().create_case_with(sample("r:2"), "R-3000001", 7, other));
    EXPECT_FALSE(s().find_session("ussd:r2"));
    EXPECT_EQ(s().count_cases(), 1u);
    EXPECT_EQ(s().outbound_to("+996700000001").size(), 1u);

    // No partner: the operators have it from the start, as the case says.
    first_referral to_operators;
    to_operators.referral.status = referral_status::escalated;
    to_operators.referral.created_at = 8;
    to_operators.created = {0, "system", "created", "to operators", 8};
    to_operators.hotline_takes_case = true;
    auto unplaced = s().create_case_with(sample("r:3"), "R-3000003", 8, {to_operators, {}});
    ASSERT_TRUE(unplaced);
    auto queue = s().hotline_queue(10);
    ASSERT_EQ(queue.size(), 1u);
    EXPECT_EQ(queue[0].c.reference, "R-3000003");
    EXPECT_TRUE(s().unrouted_cases(10).empty());
}

TEST_P(StoreContract, TheServiceDrawsCodesAndUrgentCasesGoToTheOperators) {
    auto plain = service::store_case(s(), sample("p"), 10);
    EXPECT_TRUE(std::regex_match(plain.reference, std::regex("R-[0-9]{7}")));
    EXPECT_EQ(plain.status, case_status::new_);
    auto c = sample("u");
    c.urgent = true;
    auto urgent = service::store_case(s(), c, 11);
    EXPECT_EQ(urgent.status, case_status::escalated);
    // Both in the queue: the urgent one first; the other only until routed.
    auto queue = s().hotline_queue(10);
    ASSERT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue[0].c.reference, urgent.reference);
    s().create_referral(
        {0, plain.id, "", "legal_osh", referral_status::new_, "", "", "", "", 0, 12, 12},
        {0, "system", "created", "to legal_osh", 12}, {}, false);
    queue = s().hotline_queue(10);
    ASSERT_EQ(queue.size(), 1u);
    EXPECT_EQ(s().hotline_queue_length(), 1u);
}

TEST_P(StoreContract, SessionsResumeAndRememberHerLanguage) {
    s().save_session({"at:1", "+996555000111", "ussd", "{\"a\":1}",
                      gw::store::session_status::active, 100, 110});
    s().save_sessions(
        {{"at:2", "+996555000111", "ussd", "{}", gw::store::session_status::active, 200, 210},
         {"at:3", "+996555000111", "ussd", "{}", gw::store::session_status::finished, 300, 310,
          "ru"}});
    EXPECT_EQ(s().find_session("at:1")->state, "{\"a\":1}");
    EXPECT_EQ(s().find_resumable_session("+996555000111", 0, "at:9")->id, "at:2");
    EXPECT_FALSE(s().find_resumable_session("+996555000111", 250, "at:9"));
    EXPECT_EQ(s().find_resumable_session("+996555000111", 0, "at:2")->id, "at:1");
    EXPECT_EQ(s().abandon_idle_sessions(150), 1u);
    EXPECT_EQ(s().find_session("at:1")->status, gw::store::session_status::abandoned);
    s().set_session_status("at:2", gw::store::session_status::resumed);
    EXPECT_EQ(s().find_resumable_session("+996555000111", 0, "x")->id, "at:1");
    EXPECT_EQ(s().subscriber_language("+996555000111"), "ru");
    s().set_subscriber_language("+996555000111", "ky");
    EXPECT_EQ(s().subscriber_language("+996555000111"), "ky");
    EXPECT_FALSE(s().subscriber_language("+996555000999"));
}

TEST_P(StoreContract, AnInboundMessageIsRecordedOnceWithWhatItCaused) {
    session_record session{"sms:kannel:+79161234567",
                           "+79161234567",
                           "sms",
                           "{}",
                           gw::store::session_status::active,
                           1,
                           1};
    inbound_record in{"kannel", "m-1", "+79161234567", "1", 100};
    EXPECT_TRUE(s().commit_inbound(in, &session, {sms("kannel", "+79161234567")}));
    EXPECT_FALSE(s().commit_inbound(in, &session, {sms("kannel", "+79161234567")}))
        << "a duplicate delivery";
    EXPECT_EQ(s().find_inbound("kannel", "m-1")->phone, "+79161234567");
    EXPECT_EQ(s().outbound_to("+79161234567").size(), 1u);
    EXPECT_TRUE(s().find_session("sms:kannel:+79161234567"));
    s().set_no_sms("+79161234567", true);
    EXPECT_TRUE(s().no_sms("+79161234567"));
    EXPECT_EQ(s().enqueue_outbound(sms("kannel", "+79161234567")), 0) << "she said STOP";
}

TEST_P(StoreContract, TheOutboxClaimsByLaneAndAppliesReportsThatCameEarly) {
    const long long a = s().enqueue_outbound(sms("kannel", "+996555000001", 10));
    const long long b = s().enqueue_outbound(sms("webhook", "legal_osh", 5));
    const long long c = s().enqueue_outbound(sms("kannel", "+996555000002", 1000));
    auto webhooks = s().claim_due_outbound(100, 10, {{"webhook"}, {}});
    ASSERT_EQ(webhooks.size(), 1u);
    EXPECT_EQ(webhooks[0].id, b);
    EXPECT_EQ(webhooks[0].status, message_status::sending);
    auto rest = s().claim_due_outbound(100, 10, {{}, {"webhook"}});
    ASSERT_EQ(rest.size(), 1u) << "c is not due yet";
    EXPECT_EQ(rest[0].id, a);
    EXPECT_EQ(rest[0].recipient, "+996555000001");
    EXPECT_TRUE(s().claim_due_outbound(100, 10).empty()) << "claimed once";

    // The delivery report overtakes the aggregator's answer.
    EXPECT_FALSE(s().record_delivery_report("kannel", "P-1", message_status::delivered, "", 101));
    s().mark_sent(a, "P-1", 102);
    EXPECT_EQ(s().find_outbound(a)->status, message_status::delivered);
    EXPECT_TRUE(s().record_delivery_report("kannel", "P-1", message_status::failed, "", 103));
    EXPECT_EQ(s().find_outbound(a)->status, message_status::failed);

    s().mark_retry(b, 1, 50, "timeout", 104);
    EXPECT_EQ(s().find_outbound(b)->status, message_status::queued);
    s().mark_dead(b, 5, "gone", 105);
    ASSERT_EQ(s().dead_outbound(10).size(), 1u);
    EXPECT_TRUE(s().retry_outbound(b, 106, {106, "operator:aida", "retried", 0, "message"}));
    EXPECT_FALSE(s().retry_outbound(b, 107, {107, "operator:aida", "retried", 0, "message"}));
    auto claimed = s().claim_due_outbound(1000 * 1000, 10);
    EXPECT_EQ(claimed.size(), 2u);  // b again, and c now due
    EXPECT_EQ(s().requeue_unfinished(), 2u);
    auto counts = s().outbox_counts();
    EXPECT_EQ(counts["queued"], 2u);
    EXPECT_EQ(counts["failed"], 1u);
    EXPECT_TRUE(s().opt_out_recipient_of("kannel", "P-1"));
    EXPECT_TRUE(s().no_sms("+996555000001"));
    (void)c;
}

TEST_P(StoreContract, ReferralsMoveOnlyFromTheStatesGivenAndKeepTheirTrail) {
    auto c = service::store_case(s(), sample("r"), 100);
    auto r = s().create_referral({0, c.id, "", "legal_osh", referral_status::new_, "rule-1",
                                  "matched", "", "", 150, 100, 100},
                                 {0, "system", "created", "to legal_osh", 100},
                                 {sms("webhook", "legal_osh")}, false);
    EXPECT_GT(r.id, 0);
    EXPECT_EQ(s().find_referral(r.id)->case_reference, c.reference);
    EXPECT_EQ(s().open_referral_counts()["legal_osh"], 1u);
    EXPECT_EQ(s().overdue_referrals(200).size(), 1u);
    EXPECT_FALSE(
        s().transition_referral(r.id, {referral_status::accepted}, referral_status::in_progress,
                                {r.id, "partner:legal_osh", "started", "", 110}, {}, "", ""));
    auto declined = s().transition_referral(
        r.id, {referral_status::new_}, referral_status::declined,
        {r.id, "partner:legal_osh", "declined", "no lawyer", 120}, {}, "no lawyer this week", "");
    ASSERT_TRUE(declined);
    EXPECT_EQ(declined->reason, "no lawyer this week");
    EXPECT_EQ(s().find_referral(r.id)->reason, "no lawyer this week");
    auto events = s().referral_events(r.id);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].detail, "no lawyer");
    EXPECT_EQ(s().partner_referrals("legal_osh", referral_status::declined, 10, 0).size(), 1u);
    EXPECT_TRUE(s().partner_referrals("legal_osh", referral_status::new_, 10, 0).empty());
    EXPECT_EQ(s().case_referrals(c.id).size(), 1u);

    // Routing a new case again (another node's sweep): nothing more.
    auto again = s().create_referral(
        {0, c.id, "", "legal_other", referral_status::new_, "", "", "", "", 0, 125, 125},
        {0, "system", "created", "to legal_other", 125}, {}, false,
        /*first_of_case=*/true);
    EXPECT_EQ(again.id, r.id);
    EXPECT_EQ(s().case_referrals(c.id).size(), 1u);

    // No partner: the operators hold the case.
    s().create_referral(
        {0, c.id, "", "", referral_status::new_, "", "no rule matched", "", "", 0, 130, 130},
        {0, "system", "created", "to operators", 130}, {}, true);
    EXPECT_EQ(s().hotline_queue_length(), 1u);

    s().set_partner_paused("legal_osh", true, {140, "operator:aida", "paused", 0, "legal_osh"});
    EXPECT_EQ(s().paused_partners(), std::set<std::string>{"legal_osh"});
    s().set_partner_paused("legal_osh", false, {141, "operator:aida", "resumed", 0, "legal_osh"});
    EXPECT_TRUE(s().paused_partners().empty());
}

TEST_P(StoreContract, OperatorsAreSignedOutOnlyWhenTheServiceSaysSo) {
    operator_account a{0, "aida", "Aida", "operator", "hash-1", true, 100};
    a.id = s().create_operator(a, {100, "system", "operator_added", 0, "aida"});
    EXPECT_THROW(s().create_operator(a, {100, "system", "operator_added", 0, "aida"}), store_error);
    s().create_operator_session("token-1", a.id, 100, 1000, {100, "operator:aida", "login", 0, ""});
    EXPECT_EQ(s().operator_for_session("token-1", 200)->username, "aida");
    EXPECT_FALSE(s().operator_for_session("token-1", 2000)) << "expired";
    a.display_name = "Aida A.";
    s().update_operator(a, {110, "operator:boss", "operator_changed", 0, "name"}, false);
    EXPECT_EQ(s().operator_for_session("token-1", 200)->display_name, "Aida A.");
    a.password_hash = "hash-2";
    s().update_operator(a, {120, "operator:boss", "operator_changed", 0, "password"}, true);
    EXPECT_FALSE(s().operator_for_session("token-1", 200));
    s().create_operator_session("token-2", a.id, 130, 1000, {130, "operator:aida", "login", 0, ""});
    s().end_operator_session("token-2");
    EXPECT_FALSE(s().operator_for_session("token-2", 200));
    EXPECT_EQ(s().operators().size(), 1u);
    EXPECT_EQ(s().find_operator("aida")->password_hash, "hash-2");
}

TEST_P(StoreContract, TheHotlineClaimsNotesAndClosesWithAnAuditTrail) {
    auto c = sample("h");
    c.urgent = true;
    auto rec = service::store_case(s(), c, 100);
    auto r = s().create_referral(
        {0, rec.id, "", "crisis_osh", referral_status::new_, "", "", "", "", 0, 100, 100},
        {0, "system", "created", "to crisis_osh", 100}, {}, false);
    case_update claim;
    claim.expect_assigned = "";
    claim.assigned_to = "aida";
    claim.status = case_status::claimed;
    ASSERT_TRUE(s().update_case(rec.id, claim, {110, "operator:aida", "claimed", rec.id, ""}, {}));
    EXPECT_FALSE(s().update_case(rec.id, claim, {111, "operator:bek", "claimed", rec.id, ""}, {}))
        << "someone else holds it";
    s().add_case_note({0, rec.id, "aida", "she will call back at six", 120},
                      {120, "operator:aida", "noted", rec.id, ""});
    EXPECT_EQ(s().case_notes(rec.id).at(0).text, "she will call back at six");
    case_update close;
    close.status = case_status::closed;
    close.outcome = "консультация берилди";
    close.close_open_referrals = "the hotline closed the case";
    auto closed = s().update_case(rec.id, close, {130, "operator:aida", "closed", rec.id, ""},
                                  {sms("kannel", "+996555123456")});
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->closed_at, 130);
    EXPECT_EQ(s().find_case(rec.reference)->outcome, "консультация берилди");
    EXPECT_EQ(s().find_referral(r.id)->status, referral_status::closed);
    EXPECT_EQ(s().hotline_queue_length(), 0u);
    auto trail = s().audit_trail(rec.id, 50);
    std::vector<std::string> actions;
    for (const auto& line : trail) actions.push_back(line.action);
    EXPECT_EQ(actions,
              (std::vector<std::string>{"closed", "closed", "noted", "claimed", "created"}));
    EXPECT_EQ(trail.front().case_reference, rec.reference);
    s().record_audit({140, "operator:aida", "viewed", rec.id, ""});
    EXPECT_EQ(s().audit_trail(0, 1).at(0).action, "viewed");
    EXPECT_EQ(s().case_session(rec.id), std::nullopt);
}

TEST_P(StoreContract, CountsSurviveForgettingHerData) {
    auto rec = service::store_case(s(), sample("old"), 1700000000);
    case_update close;
    close.status = case_status::closed;
    close.outcome = "done";
    s().update_case(rec.id, close, {1700000100, "operator:aida", "closed", rec.id, ""}, {});
    s().save_session({"at:old", "+996555123456", "ussd", "{}", gw::store::session_status::finished,
                      1700000000, 1700000000});
    auto before = s().statistics();
    auto report = s().purge_personal_data(1800000000, 1800000000);
    EXPECT_EQ(report.cases, 1u);
    EXPECT_EQ(report.sessions, 1u);
    auto forgotten = s().find_case(rec.reference);
    ASSERT_TRUE(forgotten);
    EXPECT_EQ(forgotten->phone, "");
    EXPECT_EQ(forgotten->details, "");
    EXPECT_EQ(forgotten->outcome, "");
    EXPECT_EQ(s().statistics().size(), before.size());
    EXPECT_EQ(s().purge_personal_data(1800000000, 1800000000).cases, 0u) << "once";
    bool cases_row = false;
    for (const auto& row : before)
        if (row.metric == "cases" && row.month == "2023-11" && row.oblast == "osh")
            cases_row = true;
    EXPECT_TRUE(cases_row);
}

// The programme dashboard's counts (issue #15): weeks are ISO weeks in UTC
// named by their Monday; the period is [from, to); the funnel's stages are
// read from the referral trail as the services write it.
TEST_P(StoreContract, TheDashboardCountsCasesReferralsAndSmsOfThePeriod) {
    const long long monday = 1704067200;  // 2024-01-01T00:00Z, a Monday
    const long long week = 7 * 86400;
    auto make = [&](const std::string& origin, const std::string& oblast, const std::string& topic,
                    const std::string& channel, const std::string& group, long long at) {
        auto c = sample(origin);
        c.oblast = oblast;
        c.topic = topic;
        c.channel = channel;
        c.target_group = group;
        return *s().create_case(c, "R-" + std::to_string(1000000 + at % 1000000), at);
    };
    auto a = make("a", "osh", "legal_aid", "ussd", "", monday + 36000);
    auto b = make("b", "osh", "employment", "sms", "migrant", monday + week - 1);  // Sunday night
    auto c = make("c", "batken", "legal_aid", "ussd", "", monday + week);          // next Monday
    make("d", "talas", "legal_aid", "ussd", "", monday + 2 * week);  // after the period
    make("e", "talas", "legal_aid", "ussd", "", monday - 1);         // before it
    const dashboard_filter all{monday, monday + 2 * week, ""};

    auto cases = s().case_counts(all);
    ASSERT_EQ(cases.size(), 3u);
    EXPECT_EQ(cases[0].week, "2024-01-01");
    EXPECT_EQ(cases[0].topic, "employment");
    EXPECT_EQ(cases[0].oblast, "osh");
    EXPECT_EQ(cases[0].channel, "sms");
    EXPECT_EQ(cases[0].target_group, "migrant");
    EXPECT_EQ(cases[0].count, 1);
    EXPECT_EQ(cases[1].week, "2024-01-01");
    EXPECT_EQ(cases[1].topic, "legal_aid");
    EXPECT_EQ(cases[2].week, "2024-01-08");
    EXPECT_EQ(cases[2].oblast, "batken");
    EXPECT_EQ(s().case_counts({monday, monday + 2 * week, "osh"}).size(), 2u);
    EXPECT_TRUE(s().case_counts({monday, monday + 2 * week, "naryn"}).empty());

    auto refer = [&](const case_record& k, const std::string& partner, long long at,
                     long long due) {
        referral_record r{0,
                          k.id,
                          "",
                          partner,
                          partner.empty() ? referral_status::escalated : referral_status::new_,
                          "",
                          "",
                          "",
                          "",
                          due,
                          at,
                          at};
        return s().create_referral(r, {0, "system", "created", "to " + partner, at}, {},
                                   partner.empty());
    };
    auto move = [&](const referral_record& r, const std::string& from, const std::string& to,
                    const std::string& actor, const std::string& action, long long at) {
        ASSERT_TRUE(s().transition_referral(
            r.id, {*domain::referral_status_named(from)}, *domain::referral_status_named(to),
            {r.id, actor, action, "", at}, {}, to == "declined" ? "no lawyer" : "",
            to == "closed" ? "helped" : ""));
    };
    const long long t = monday + 40000;
    // legal_osh: accepted in time and done; declined late and routed on;
    // overdue (the sweep) and routed on to the operators.
    auto r1 = refer(a, "legal_osh", t, t + 3600);
    move(r1, "new", "accepted", "partner:legal_osh", "accepted", t + 1800);
    move(r1, "accepted", "closed", "sms:legal_osh", "closed", t + 7200);
    auto r2 = refer(b, "legal_osh", t, t + 3600);
    move(r2, "new", "declined", "partner:legal_osh", "declined", t + 7200);
    auto r3 = refer(b, "legal_other", t + 7300, t + 10000);  // never answered: overdue now
    auto r4 = refer(c, "legal_osh", t + week, t + week + 3600);
    move(r4, "new", "overdue", "system", "overdue", t + week + 4000);
    refer(c, "", t + week + 4000, 0);  // to the operators: no partner, not in the funnel
    // legal_other: accepted after 10 hours (no deadline), then the hotline
    // closed the case (not "done" by the partner).
    auto r6 = refer(c, "legal_other", t + week + 5000, 0);
    move(r6, "new", "accepted", "partner:legal_other", "accepted", t + week + 5000 + 36000);
    move(r6, "accepted", "closed", "operator:aida", "closed", t + week + 50000);
    (void)r3;

    const long long now = monday + 3 * week;
    auto funnel = s().referral_funnel(all, now);
    ASSERT_EQ(funnel.size(), 2u);
    const auto& osh = funnel[0];
    EXPECT_EQ(osh.partner, "legal_osh");
    EXPECT_EQ(osh.created, 3);
    EXPECT_EQ(osh.accepted, 1);
    EXPECT_EQ(osh.done, 1);
    EXPECT_EQ(osh.declined, 1);
    EXPECT_EQ(osh.overdue, 1);
    EXPECT_EQ(osh.rerouted, 2);
    EXPECT_EQ(osh.answered, 2);
    EXPECT_NEAR(osh.answer_hours, (0.5 + 2.0) / 2, 1e-9);
    EXPECT_EQ(osh.sla_total, 3);
    EXPECT_EQ(osh.sla_kept, 1);
    const auto& other = funnel[1];
    EXPECT_EQ(other.partner, "legal_other");
    EXPECT_EQ(other.created, 2);
    EXPECT_EQ(other.accepted, 1);
    EXPECT_EQ(other.done, 0);
    EXPECT_EQ(other.declined, 0);
    EXPECT_EQ(other.overdue, 1);  // r3: still new, its deadline passed
    EXPECT_EQ(other.rerouted, 0);
    EXPECT_EQ(other.answered, 1);
    EXPECT_NEAR(other.answer_hours, 10.0, 1e-9);
    EXPECT_EQ(other.sla_total, 1);
    EXPECT_EQ(other.sla_kept, 0);
    // Before r3's deadline it is neither overdue nor decided.
    auto earlier = s().referral_funnel(all, t + 9000);
    EXPECT_EQ(earlier[1].overdue, 0);
    EXPECT_EQ(earlier[1].sla_total, 0);
    auto in_osh = s().referral_funnel({monday, monday + 2 * week, "osh"}, now);
    ASSERT_EQ(in_osh.size(), 2u);
    EXPECT_EQ(in_osh[0].created, 2);
    EXPECT_EQ(in_osh[1].created, 1);

    auto at = [&](const std::string& channel, long long created) {
        auto m = sms(channel, "+996555000009");
        m.created_at = created;
        return s().enqueue_outbound(m);
    };
    const long long delivered = at("kannel", t), no_report = at("kannel", t),
                    dead = at("kannel", t), failed = at("twilio", t);
    at("webhook:legal_osh", t);
    at("kannel", monday - 10);  // before the period
    s().claim_due_outbound(1000 * 1000, 10);
    s().mark_sent(delivered, "K-1", t + 1);
    s().record_delivery_report("kannel", "K-1", message_status::delivered, "", t + 2);
    s().mark_sent(no_report, "K-2", t + 1);
    s().mark_dead(dead, 5, "refused", t + 1);
    s().mark_sent(failed, "T-1", t + 1);
    s().record_delivery_report("twilio", "T-1", message_status::failed, "", t + 2);
    at("kannel", t + 3);  // still queued
    s().requeue_unfinished();
    auto smsc = s().sms_counts(all);
    std::vector<std::tuple<std::string, std::string, long long>> got;
    for (const auto& r : smsc) got.emplace_back(r.channel, name(r.status), r.count);
    EXPECT_EQ(got, (std::vector<std::tuple<std::string, std::string, long long>>{
                       {"kannel", "dead", 1},
                       {"kannel", "delivered", 1},
                       {"kannel", "queued", 1},
                       {"kannel", "sent", 1},
                       {"twilio", "failed", 1}}));
}

TEST_P(StoreContract, WritesFromManyThreadsAreEachKept) {
    constexpr int threads = 8, per_thread = 15;
    std::vector<std::thread> pool;
    std::atomic<int> refused{0};
    operator_account first{0, "aida", "Aida", "operator", "hash", true, 1};
    s().create_operator(first, {1, "system", "operator_added", 0, "aida"});
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                service::store_case(s(), sample("t" + std::to_string(t) + ":" + std::to_string(i)),
                                    1);
                if (i % 5 == 0) try {
                        s().create_operator(first, {1, "system", "operator_added", 0, "aida"});
                    } catch (const store_error&) {
                        ++refused;
                    }
            }
        });
    for (auto& th : pool) th.join();
    EXPECT_EQ(s().count_cases(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_EQ(refused.load(), threads * per_thread / 5);
    EXPECT_GE(s().commit_counts().writes, threads * per_thread);
}

TEST_P(StoreContract, ALeaseHasOneHolderUntilItExpires) {
    EXPECT_TRUE(s().hold_lease("maintenance", "node-a", 100, 30));
    EXPECT_FALSE(s().hold_lease("maintenance", "node-b", 110, 30)) << "node-a holds it";
    EXPECT_TRUE(s().hold_lease("maintenance", "node-a", 120, 30)) << "renewed until 150";
    EXPECT_FALSE(s().hold_lease("maintenance", "node-b", 140, 30));
    EXPECT_TRUE(s().hold_lease("other-job", "node-b", 140, 30)) << "leases are per job";
    EXPECT_TRUE(s().hold_lease("maintenance", "node-b", 151, 30)) << "node-a stopped renewing";
    EXPECT_FALSE(s().hold_lease("maintenance", "node-a", 152, 30));
}

TEST_P(StoreContract, RateWindowsAndLogInBackOffAreCountedPerKey) {
    EXPECT_EQ(s().count_event("ussd-number:+996555123456", 60), 1);
    EXPECT_EQ(s().count_event("ussd-number:+996555123456", 60), 2);
    EXPECT_EQ(s().count_event("ussd-number:+996555000000", 60), 1) << "another number";
    EXPECT_EQ(s().count_event("ussd-number:+996555123456", 120), 1) << "the next window";
    EXPECT_FALSE(s().find_throttle("account:aida"));
    auto st = s().update_throttle("account:aida", [](throttle_state& t) {
        ++t.failures;
        t.last = 100;
        t.blocked_until = 101;
    });
    EXPECT_EQ(st.failures, 1);
    EXPECT_EQ(s().find_throttle("account:aida")->blocked_until, 101);
    s().update_throttle("account:aida", [](throttle_state& t) { ++t.failures; });
    EXPECT_EQ(s().find_throttle("account:aida")->failures, 2);
    s().update_throttle("account:aida", [](throttle_state& t) { t = {}; });
    EXPECT_FALSE(s().find_throttle("account:aida")) << "no failures: forgotten";
}

TEST_P(StoreContract, AnotherDataKeyIsRefused) {
    store_.reset();
    auto other = *data_sealer::from_hex(std::string(64, '7'));
    if (pg_)
        EXPECT_THROW(open_postgres_store(pg_->url(), other), store_error);
    else
        EXPECT_THROW(open_sqlite_store(dir_.file("g.db"), other), store_error);
    EXPECT_NO_THROW(open());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace

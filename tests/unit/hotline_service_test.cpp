// The hotline console's logic without a server: accounts and log-in
// back-off, the queue, what operators and supervisors may do, the audit
// trail, statistics and retention.
#include "service/hotline_service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "app/json_http.hpp"
#include "app/partner_api.hpp"
#include "menu/loader.hpp"
#include "service/operator_accounts.hpp"
#include "service/session_codec.hpp"
#include "support/case_builder.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;

namespace {

class Hotline : public ::testing::Test {
  protected:
    Hotline() {
        auto partners =
            referral::load_partners(test::source_path("tests/data/referral/partners.yaml"));
        auto rules = referral::load_rules(test::source_path("tests/data/referral/rules"));
        referrals = std::make_unique<service::referral_service>(
            *db, clock,
            std::make_shared<service::routing_setup>(
                service::routing_setup{partners.value, rules.value}),
            service::referral_settings{"kannel"});
        accounts = std::make_unique<service::operator_accounts>(
            *db, clock,
            service::account_settings{std::chrono::seconds{3600}, 3, std::chrono::seconds{60}});
        service::reply_template t{
            "received",
            {{"ru", "Получено"}, {"ky", "Алынды"}},
            {{"ru", "Ваше обращение {ref} получено."}, {"ky", "{ref} алынды."}}};
        auto menu =
            std::make_shared<const menu::menu>(menu::load_menu(test::source_path("menus")).value);
        hotline = std::make_unique<service::hotline_service>(
            *db, clock, *referrals, menu, service::hotline_settings{"kannel", {t}});
        aida = add("aida", "operator");
        bermet = add("bermet", "operator");
        gulnara = add("gulnara", "supervisor");
    }

    service::operator_identity add(const std::string& name, const std::string& role) {
        auto a = accounts->add("cli", name, name, role, "correct horse battery");
        EXPECT_TRUE(std::holds_alternative<store::operator_account>(a));
        return {name, name, *service::role_named(role)};
    }

    store::case_record urgent_case() {
        ++n;
        store::new_case c = test::a_case("t:" + std::to_string(n))
                                .phone("+99655512345" + std::to_string(n % 10))
                                .topic("urgent")
                                .urgent()
                                .safe_to_call(true)
                                .session_id("africastalking:s" + std::to_string(n));
        service::stored_state st;
        st.engine.language = "ru";
        st.engine.screen = "urgent_done_call";
        st.engine.trail = {"language",           "main",
                           "urgent_start",       "urgent_contact",
                           "urgent_create_call", "urgent_done_call"};
        st.engine.vars = {{"topic", "urgent"}, {"oblast", "osh"}, {"safe_to_call", "yes"}};
        const long long now = to_unix_seconds(clock.now());
        db->save_session({c.session_id, c.phone, "ussd", service::encode_state(st),
                          gw::store::session_status::finished, now, now});
        auto rec = gw::service::store_case(*db, c, to_unix_seconds(clock.now()));
        referrals->route_case(rec);
        return rec;
    }

    template <class T>
    static int status_of(const service::outcome<T>& o) {
        auto* e = std::get_if<service::action_error>(&o);
        return e ? app::http_status(e->kind) : 200;
    }

    test::temp_dir dir;
    test::fake_clock clock;
    std::unique_ptr<store::store> db =
        store::open_sqlite_store(dir.file("g.db"), test::test_sealer());
    std::unique_ptr<service::referral_service> referrals;
    std::unique_ptr<service::operator_accounts> accounts;
    std::unique_ptr<service::hotline_service> hotline;
    service::operator_identity aida, bermet, gulnara;
    int n = 0;
};

}  // namespace

TEST_F(Hotline, PasswordsAreArgon2idAndSessionsExpire) {
    auto a = db->find_operator("aida");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->password_hash.rfind("$argon2id$", 0), 0u) << a->password_hash;
    EXPECT_EQ(a->password_hash.find("correct horse"), std::string::npos);

    auto ok = accounts->login("aida", "correct horse battery", "10.0.0.5");
    ASSERT_TRUE(std::holds_alternative<service::login_ok>(ok));
    const auto token = std::get<service::login_ok>(ok).token;
    EXPECT_EQ(accounts->authenticate(token)->username, "aida");
    EXPECT_FALSE(accounts->authenticate(std::string(64, 'a')));
    clock.t += std::chrono::seconds(3601);
    EXPECT_FALSE(accounts->authenticate(token)) << "a session lasts session_ttl";
}

TEST_F(Hotline, WrongPasswordsGet401ThenABackOffPerAccountAndAddress) {
    auto refused = [&](const std::string& user, const std::string& pw, const std::string& ip) {
        auto r = accounts->login(user, pw, ip);
        struct answer {
            int status;
            long long retry_after;
        };
        auto* no = std::get_if<service::action_error>(&r);
        return no ? answer{app::http_status(no->kind), no->retry_after} : answer{200, 0};
    };
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(refused("aida", "wrong password!", "10.0.0.9").status, 401);
    auto r = refused("aida", "wrong password!", "10.0.0.9");
    EXPECT_EQ(r.status, 401);  // the 4th failure starts the wait
    auto blocked = refused("aida", "correct horse battery", "10.0.0.9");
    EXPECT_EQ(blocked.status, 429) << "the attacker's address waits, even with the right password";
    EXPECT_GE(blocked.retry_after, 1);
    // Issue: "log-in back-off locks out the real operator".
    EXPECT_EQ(refused("aida", "correct horse battery", "10.0.0.7").status, 200)
        << "the operator at her own address is not locked out by someone else's guesses";
    // Guesses sprayed over many names from one office address: her
    // colleague at that address still gets in.
    for (int i = 0; i < 12; ++i) refused("x" + std::to_string(i), "guess", "10.0.0.5");
    EXPECT_EQ(refused("bermet", "correct horse battery", "10.0.0.5").status, 200);
    // One wrong password per period keeps nobody out for good.
    clock.t += std::chrono::seconds(2);
    EXPECT_EQ(refused("aida", "correct horse battery", "10.0.0.9").status, 200);
    EXPECT_EQ(refused("nobody", "correct horse battery", "10.0.0.1").status, 401);
    // Failed log-ins of real accounts are audited.
    bool seen = false;
    for (const auto& e : db->audit_trail(0, 100)) seen = seen || e.action == "login_failed";
    EXPECT_TRUE(seen);
}

TEST_F(Hotline, AnAccountUnderAttackFromManyAddressesOnlySlowsThem) {
    auto status = [&](const std::string& pw, const std::string& ip) {
        auto r = accounts->login("aida", pw, ip);
        auto* no = std::get_if<service::action_error>(&r);
        return no ? app::http_status(no->kind) : 200;
    };
    // Past the ceiling (5 x 3 failures across addresses), each further
    // address waits after its first wrong guess, not its fourth.
    for (int i = 0; i < 16; ++i) status("guess", "192.0.2." + std::to_string(i));
    EXPECT_EQ(status("guess", "198.51.100.1"), 401);
    EXPECT_EQ(status("guess again", "198.51.100.1"), 429);
    EXPECT_EQ(status("correct horse battery", "10.0.0.7"), 200) << "a clean address gets in";
}

TEST_F(Hotline, DisabledAccountsAreSignedOutAndWeakPasswordsRefused) {
    auto ok =
        std::get<service::login_ok>(accounts->login("bermet", "correct horse battery", "1.1.1.1"));
    service::operator_change off;
    off.active = false;
    accounts->change(gulnara.actor(), "bermet", off);
    EXPECT_FALSE(accounts->authenticate(ok.token));
    EXPECT_EQ(std::get<service::action_error>(
                  accounts->login("bermet", "correct horse battery", "1.1.1.2"))
                  .kind,
              errc::unauthorized);
    auto weak = accounts->add("cli", "new1", "New", "operator", "short");
    EXPECT_EQ(std::get<service::action_error>(weak).kind, errc::bad_request);
    auto taken = accounts->add("cli", "aida", "Aida", "operator", "long enough password");
    EXPECT_EQ(std::get<service::action_error>(taken).kind, errc::conflict);
    auto bad_role = accounts->add("cli", "x1", "X", "root", "long enough password");
    EXPECT_EQ(std::get<service::action_error>(bad_role).kind, errc::bad_request);
}

TEST_F(Hotline, UrgentCaseIsFirstInTheQueueWithItsReasons) {
    referrals->route_case(test::a_case("plain")
                              .phone("+996555000111")
                              .channel("sms")
                              .language("ky")
                              .topic("migration")  // no rule: escalated to operators
                              .oblast("talas")
                              .store_in(*db, to_unix_seconds(clock.now()) - 100));
    auto c = urgent_case();
    auto q = hotline->queue(aida, "all");
    ASSERT_EQ(q.items.size(), 2u);
    EXPECT_EQ(db->hotline_queue_length(), 2u) << "the /metrics gauge counts the same cases";
    EXPECT_EQ(q.items[0].c.reference, c.reference);
    EXPECT_EQ(q.items[0].reasons, (std::vector<std::string>{"urgent", "callback"}));
    EXPECT_EQ(q.items[0].c.phone.find("99655512345"), std::string::npos) << "masked in the list";
    EXPECT_EQ(q.items[1].reasons, (std::vector<std::string>{"escalated"}));
    EXPECT_TRUE(hotline->queue(aida, "mine").items.empty());
}

TEST_F(Hotline, ClaimNoteReplyCloseAreEnforcedAndAudited) {
    auto c = urgent_case();
    EXPECT_EQ(status_of(hotline->add_note(aida, c.reference, "x")), 409) << "claim first";
    EXPECT_EQ(status_of(hotline->claim(aida, c.reference, false)), 200);
    EXPECT_EQ(status_of(hotline->claim(bermet, c.reference, false)), 409);
    EXPECT_EQ(status_of(hotline->claim(bermet, c.reference, true)), 409)
        << "only supervisors take over";
    EXPECT_EQ(status_of(hotline->add_note(bermet, c.reference, "x")), 409);

    auto view = std::get<service::case_view>(hotline->open_case(aida, c.reference));
    EXPECT_TRUE(view.phone_visible);
    EXPECT_EQ(view.c.phone, c.phone);
    ASSERT_EQ(view.transcript.size(), 5u);
    EXPECT_EQ(view.transcript[2].screen, "urgent_start");
    EXPECT_NE(view.transcript[4].text.find(c.reference), std::string::npos) << "{ref} filled in";
    EXPECT_EQ(view.referrals[0].r.explanation.find(test::source_path("")), std::string::npos)
        << "no server paths for operators: " << view.referrals[0].r.explanation;
    EXPECT_EQ(view.choices.at("safe_to_call"), "yes");
    ASSERT_FALSE(view.referrals.empty());
    EXPECT_FALSE(view.referrals[0].r.explanation.empty());
    ASSERT_EQ(view.templates.size(), 1u);
    EXPECT_EQ(view.templates[0].text, "Ваше обращение " + c.reference + " получено.");
    auto other_view = std::get<service::case_view>(hotline->open_case(bermet, c.reference));
    EXPECT_FALSE(other_view.phone_visible);
    EXPECT_EQ(other_view.c.phone.find("99655512345"), std::string::npos);

    EXPECT_EQ(
        status_of(hotline->add_note(aida, c.reference, "<script>alert(1)</script> позвонила")),
        200);
    EXPECT_EQ(status_of(hotline->add_note(aida, c.reference, "   ")), 400);
    EXPECT_EQ(status_of(hotline->reply(aida, c.reference, "nope")), 400);
    auto sent = hotline->reply(aida, c.reference, "received");
    ASSERT_EQ(status_of(sent), 200);
    auto out = db->outbound_to(c.phone);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body, "Ваше обращение " + c.reference + " получено.");
    EXPECT_EQ(out[0].purpose, "operator_reply");
    EXPECT_EQ(out[0].body.find("urgent"), std::string::npos);

    db->set_no_sms(c.phone, true);
    EXPECT_EQ(status_of(hotline->reply(aida, c.reference, "received")), 409) << "STOP is honoured";

    EXPECT_EQ(status_of(hotline->close(aida, c.reference, "")), 400) << "an outcome is needed";
    auto closed = hotline->close(aida, c.reference, "Консультация дана");
    ASSERT_EQ(status_of(closed), 200);
    EXPECT_EQ(std::get<store::case_record>(closed).status, store::case_status::closed);
    EXPECT_TRUE(hotline->queue(aida, "all").items.empty());
    EXPECT_EQ(status_of(hotline->add_note(aida, c.reference, "late")), 409);
    // Its referrals end with it: they no longer count against the partner.
    for (const auto& r : db->case_referrals(c.id))
        EXPECT_EQ(r.status, store::referral_status::closed) << r.partner;
    EXPECT_TRUE(db->open_referral_counts().empty());

    EXPECT_EQ(status_of(hotline->audit(aida, c.reference, 100)), 403);
    auto trail =
        std::get<std::vector<store::audit_record>>(hotline->audit(gulnara, c.reference, 100));
    std::vector<std::string> steps;
    for (auto it = trail.rbegin(); it != trail.rend(); ++it)
        if (it->actor == "operator:aida") steps.push_back(it->action);
    // Closing is recorded for the case and for the referral it closed
    // (same second: the two tables' lines may come in either order).
    EXPECT_EQ(std::count(steps.begin(), steps.end(), "closed"), 2);
    steps.erase(std::remove(steps.begin(), steps.end(), "closed"), steps.end());
    EXPECT_EQ(steps, (std::vector<std::string>{"claimed", "viewed", "noted", "replied"}));
    bool partner_event = false;
    for (const auto& e : trail) partner_event = partner_event || e.action == "created";
    EXPECT_TRUE(partner_event) << "referral events are part of the case's audit trail";
    for (const auto& e : trail) EXPECT_EQ(e.case_reference, c.reference);
}

TEST_F(Hotline, ReferRevokeAndPausedPartners) {
    auto c = urgent_case();
    hotline->claim(aida, c.reference, false);
    EXPECT_EQ(status_of(hotline->refer(aida, c.reference, "nobody", "")), 400);
    ASSERT_EQ(status_of(hotline->refer(aida, c.reference, "legal_osh", "she wants a lawyer")), 200);
    EXPECT_EQ(status_of(hotline->refer(aida, c.reference, "legal_osh", "")), 409);
    auto refs = db->case_referrals(c.id);
    ASSERT_EQ(refs.back().partner, "legal_osh");
    EXPECT_NE(refs.back().explanation.find("operator:aida"), std::string::npos);
    EXPECT_EQ(status_of(hotline->revoke(aida, refs.back().id, "")), 400);
    ASSERT_EQ(status_of(hotline->revoke(aida, refs.back().id, "she changed her mind")), 200);
    EXPECT_EQ(db->find_referral(refs.back().id)->status, store::referral_status::revoked);

    EXPECT_EQ(status_of(hotline->set_paused(aida, "crisis", true)), 403);
    ASSERT_EQ(status_of(hotline->set_paused(gulnara, "crisis", true)), 200);
    auto next = urgent_case();  // the urgent rule's partner is paused
    EXPECT_NE(db->case_referrals(next.id).back().partner, "crisis");
}

TEST_F(Hotline, StatisticsSuppressSmallCounts) {
    for (int i = 0; i < 6; ++i) urgent_case();
    EXPECT_EQ(status_of(hotline->statistics_csv(aida)), 403);
    auto csv = std::get<std::string>(hotline->statistics_csv(gulnara));
    EXPECT_EQ(
        csv.rfind("metric,month,oblast,topic,language,channel,partner,status,count,average_hours\n",
                  0),
        0u);
    EXPECT_NE(csv.find("cases,2027-03,osh,urgent,ru,ussd,,,6,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("sessions,"), std::string::npos) << csv;
    EXPECT_EQ(csv.find("+996"), std::string::npos);
    EXPECT_EQ(service::csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
    EXPECT_EQ(service::csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
}

TEST_F(Hotline, RetentionForgetsPersonalDataButKeepsCounts) {
    auto c = urgent_case();
    hotline->claim(aida, c.reference, false);
    hotline->add_note(aida, c.reference, "private words");
    hotline->close(aida, c.reference, "done");
    auto r = hotline->apply_retention(30);
    EXPECT_EQ(r.cases, 0u) << "closed today: kept";
    EXPECT_EQ(r.sessions, 0u);
    clock.t += std::chrono::hours(24 * 31);
    r = hotline->apply_retention(30);
    EXPECT_EQ(r.cases, 1u);
    EXPECT_GE(r.sessions, 1u);
    auto back = db->find_case(c.reference);
    EXPECT_EQ(back->phone, "");
    EXPECT_EQ(back->outcome, "");
    EXPECT_TRUE(db->case_notes(c.id).empty());
    EXPECT_FALSE(db->case_session(c.id)->state.size() > 0);
    EXPECT_EQ(db->count_cases(), 1u) << "the case row (and its counts) stays";
    auto csv = std::get<std::string>(hotline->statistics_csv(gulnara));
    EXPECT_NE(csv.find("cases,2027-03,osh,urgent,ru,ussd,,,<5,"), std::string::npos) << csv;
    // The audit trail itself is never rewritten.
    EXPECT_FALSE(db->audit_trail(c.id, 100).empty());
}

TEST_F(Hotline, RepliesGoBackThroughTheAggregatorSheWroteThrough) {
    store::new_case c = test::a_case("sms-case")
                            .phone("+79161234567")  // working in Russia
                            .channel("sms")
                            .sms_channel("twilio")
                            .topic("migration")
                            .oblast("");
    auto rec = gw::service::store_case(*db, c, to_unix_seconds(clock.now()));
    referrals->route_case(rec);
    EXPECT_EQ(db->find_case(rec.reference)->sms_channel, "twilio");
    hotline->claim(aida, rec.reference, false);
    ASSERT_EQ(status_of(hotline->reply(aida, rec.reference, "received")), 200);
    auto out = db->outbound_to(c.phone);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].channel, "twilio") << "not the default channel (kannel)";
}

TEST_F(Hotline, WithdrawnReferralsShowThePartnerNeitherHerNumberNorTheHotlinesReason) {
    auto rec = test::a_case("consented")
                   .phone("+996555777888")
                   .consent()
                   .store_in(*db, to_unix_seconds(clock.now()));
    auto r = referrals->route_case(rec);
    ASSERT_EQ(r.partner, "legal_osh");
    auto read = [&] {
        http::request req;
        req.method = "GET";
        req.target = "/api/partner/v1/referrals/" + std::to_string(r.id);
        http::split_target(req);
        req.headers.emplace_back("Authorization", "Bearer token-legal-osh");
        return nlohmann::json::parse(app::handle_partner_api(req, *referrals, *db).body);
    };
    EXPECT_EQ(read()["contact"]["phone"], rec.phone) << "open, with her consent";
    // A supervisor withdraws it without claiming the case first.
    ASSERT_EQ(status_of(hotline->revoke(gulnara, r.id, "the partner's staff knows her family")),
              200);
    auto after = read();
    EXPECT_FALSE(after["contact"].contains("phone"));
    for (const auto& e : after["history"])
        EXPECT_EQ(e["detail"].get<std::string>().find("family"), std::string::npos);
    // And the case is back in the hotline's queue.
    bool queued = false;
    for (const auto& item : hotline->queue(aida, "all").items)
        queued = queued || item.c.id == rec.id;
    EXPECT_TRUE(queued);
}

TEST_F(Hotline, ANoteWithAReferralIsSealedLikeAnyNote) {
    auto c = urgent_case();
    hotline->claim(aida, c.reference, false);
    ASSERT_EQ(
        status_of(hotline->refer(aida, c.reference, "legal_osh", "she stays at her sister's")),
        200);
    for (const auto& r : db->case_referrals(c.id))
        EXPECT_EQ(r.explanation.find("sister"), std::string::npos) << "explanations are not sealed";
    auto notes = db->case_notes(c.id);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].text.find("she stays at her sister's"), std::string::npos);
}

TEST_F(Hotline, ANewPasswordSignsTheAccountOutEverywhere) {
    auto ok =
        std::get<service::login_ok>(accounts->login("aida", "correct horse battery", "1.1.1.1"));
    ASSERT_TRUE(accounts->authenticate(ok.token));
    service::operator_change reset;
    reset.password = "a brand new passphrase";
    accounts->change(gulnara.actor(), "aida", reset);
    EXPECT_FALSE(accounts->authenticate(ok.token))
        << "a stolen token must die with the old password";
    service::operator_change rename;
    rename.display_name = "Aida K.";
    auto again =
        std::get<service::login_ok>(accounts->login("aida", "a brand new passphrase", "1.1.1.1"));
    accounts->change(gulnara.actor(), "aida", rename);
    EXPECT_TRUE(accounts->authenticate(again.token)) << "other changes keep her signed in";
}

TEST_F(Hotline, RetentionSparesCasesWithOpenOrRecentlyFinishedReferrals) {
    auto rec = test::a_case("slow")
                   .phone("+996555000999")
                   .details("her words")
                   .store_in(*db, to_unix_seconds(clock.now()));
    auto r = referrals->route_case(rec);
    referrals->act("legal_osh", r.id, service::partner_action::accept, "", "partner:legal_osh");
    clock.t += std::chrono::hours(24 * 400);  // a quiet, still open referral
    EXPECT_EQ(hotline->apply_retention(365).cases, 0u);
    EXPECT_EQ(db->find_case(rec.reference)->details, "her words");
    referrals->act("legal_osh", r.id, service::partner_action::close, "done", "partner:legal_osh");
    EXPECT_EQ(hotline->apply_retention(365).cases, 0u)
        << "finished today: kept for the retention period";
    clock.t += std::chrono::hours(24 * 366);
    EXPECT_EQ(hotline->apply_retention(365).cases, 1u);
    EXPECT_EQ(db->find_case(rec.reference)->details, "");
}

TEST_F(Hotline, TheTranscriptIsTheOneOfTheCaseNotOfHerNextConversation) {
    service::stored_state then;
    then.engine.language = "ru";
    then.engine.trail = {"language", "main", "legal_aid_menu"};
    store::new_case c = test::a_case("sms-transcript")
                            .phone("+79161234500")
                            .channel("sms")
                            .oblast("")
                            .session_id("sms:+79161234500")
                            .transcript(service::encode_state(then));
    auto rec = gw::service::store_case(*db, c, to_unix_seconds(clock.now()));
    // She starts over: the same SMS session row now holds another walk.
    service::stored_state now;
    now.engine.trail = {"language", "main", "employment_menu"};
    db->save_session({c.session_id, c.phone, "sms", service::encode_state(now),
                      gw::store::session_status::active, 1, 1});
    auto view = std::get<service::case_view>(hotline->open_case(gulnara, rec.reference));
    ASSERT_EQ(view.transcript.size(), 3u);
    EXPECT_EQ(view.transcript[2].screen, "legal_aid_menu");
}

// Issue #15: she reads out her code or the last digits of her number; the
// operator finds the case, the search is audited without the digits.
TEST_F(Hotline, SearchFindsACaseByItsCodeOrTheLastDigitsOfHerNumber) {
    auto c = urgent_case();  // +996555123451
    for (const std::string q : {c.reference, c.reference.substr(2), "r" + c.reference.substr(2),
                                " " + c.reference + " "}) {
        auto found = hotline->search(aida, q);
        ASSERT_EQ(status_of(found), 200) << q;
        const auto& list = std::get<std::vector<store::case_record>>(found);
        ASSERT_EQ(list.size(), 1u) << q;
        EXPECT_EQ(list[0].reference, c.reference);
        EXPECT_TRUE(list[0].phone.empty()) << "a list carries nothing of hers";
    }
    auto by_ending = hotline->search(aida, "3451");
    ASSERT_EQ(status_of(by_ending), 200);
    ASSERT_EQ(std::get<std::vector<store::case_record>>(by_ending).size(), 1u);
    EXPECT_TRUE(
        std::get<std::vector<store::case_record>>(hotline->search(aida, "R-0000000")).empty());
    EXPECT_TRUE(std::get<std::vector<store::case_record>>(hotline->search(aida, "9999")).empty());
    for (const std::string bad : {"", "12", "R-12", "R3451", "abcd", "12345678", "%"}) {
        auto refused = hotline->search(aida, bad);
        EXPECT_EQ(status_of(refused), 400) << bad;
        EXPECT_EQ(std::get<service::action_error>(refused).code, "search_invalid") << bad;
    }
    bool audited = false;
    for (const auto& e : db->audit_trail(0, 100))
        if (e.action == "searched" && e.actor == "operator:aida") {
            audited = true;
            EXPECT_EQ(e.detail.find("3451"), std::string::npos) << e.detail;
        }
    EXPECT_TRUE(audited);
}

TEST_F(Hotline, ProgrammeStaffSeeNoCaseAndPartnersForACaseListLikelyOnesFirst) {
    auto c = urgent_case();
    auto programme = add("asel", "programme");
    EXPECT_EQ(status_of(hotline->open_case(programme, c.reference)), 403);
    EXPECT_EQ(status_of(hotline->search(programme, c.reference)), 403);
    EXPECT_EQ(status_of(hotline->partners_for(programme, c.reference)), 403);

    auto partners = hotline->partners_for(aida, c.reference);
    ASSERT_EQ(status_of(partners), 200);
    const auto& list = std::get<std::vector<service::partner_status>>(partners);
    ASSERT_EQ(list.size(), hotline->partners().size());
    EXPECT_EQ(list[0].id, "crisis") << "the urgent rule's partner first";
    EXPECT_TRUE(list[0].suggested);
    EXPECT_FALSE(list.back().suggested);
    EXPECT_EQ(status_of(hotline->partners_for(aida, "R-0000000")), 404);
}

TEST_F(Hotline, LabelsSayEveryValueAndPartnerInBothLanguages) {
    auto labels = hotline->labels();
    for (const char* lang : {"ky", "ru"}) {
        EXPECT_FALSE(labels[lang]["topic"]["legal_aid"].empty()) << lang;
        EXPECT_FALSE(labels[lang]["subtopic"]["general"].empty()) << lang;
        EXPECT_FALSE(labels[lang]["oblast"]["osh"].empty()) << lang;
        EXPECT_FALSE(labels[lang]["partner"]["legal_osh"].empty()) << lang;
    }
    EXPECT_EQ(labels["ru"]["subtopic"]["general"], "общий вопрос");
}

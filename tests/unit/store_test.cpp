#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <regex>
#include <set>

#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace gw::store;

namespace {
new_case sample(const std::string& origin) {
    new_case c;
    c.origin_key = origin;
    c.phone = "+996555123456";
    c.channel = "ussd";
    c.language = "ky";
    c.topic = "legal_aid";
    c.oblast = "osh";
    c.consent = true;
    return c;
}
}  // namespace

TEST(Store, CreatesSchemaAndMigratesOnce) {
    test::temp_dir dir;
    { open_sqlite_store(dir.file("g.db"), gw::test::test_sealer()); }
    { open_sqlite_store(dir.file("g.db"), gw::test::test_sealer()); }  // second open: nothing to do
    SQLite::Database db(dir.file("g.db"));
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), sqlite_schema_version());
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(Store, RefusesANewerSchema) {
    test::temp_dir dir;
    {
        SQLite::Database db(dir.file("g.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA user_version = 999");
    }
    EXPECT_THROW(open_sqlite_store(dir.file("g.db"), gw::test::test_sealer()), store_error);
}

TEST(Store, CaseGetsAReferenceAndIsReadableByIt) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    case_record c = s->create_case(sample("ussd:a:1:create"), 1700000000);
    EXPECT_TRUE(std::regex_match(c.reference, std::regex("R-[0-9]{7}"))) << c.reference;
    EXPECT_EQ(c.status, "new");
    auto found = s->find_case(c.reference);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->topic, "legal_aid");
    EXPECT_EQ(found->oblast, "osh");
    EXPECT_TRUE(found->consent);
    EXPECT_EQ(found->created_at, 1700000000);
    EXPECT_FALSE(found->safe_to_call.has_value());
    EXPECT_FALSE(s->find_case("R-0000000x"));
}

TEST(Store, CaseCreationIsIdempotentPerOrigin) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    auto a = s->create_case(sample("same"), 1);
    auto b = s->create_case(sample("same"), 2);
    EXPECT_EQ(a.reference, b.reference);
    EXPECT_EQ(s->count_cases(), 1u);
    std::set<std::string> refs;
    for (int i = 0; i < 200; ++i) refs.insert(s->create_case(sample(std::to_string(i)), 3).reference);
    EXPECT_EQ(refs.size(), 200u);
    EXPECT_EQ(s->count_cases(), 201u);
}

TEST(Store, UrgentCasesAreEscalated) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    auto c = sample("u");
    c.urgent = true;
    c.safe_to_call = false;
    auto r = s->create_case(c, 1);
    EXPECT_EQ(r.status, "escalated");
    EXPECT_EQ(s->find_case(r.reference)->safe_to_call, false);
}

TEST(Store, CasesSurviveReopening) {
    test::temp_dir dir;
    std::string ref;
    {
        auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
        ref = s->create_case(sample("x"), 1).reference;
    }
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    EXPECT_TRUE(s->find_case(ref));
}

TEST(Store, SubscriberLanguage) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    EXPECT_FALSE(s->subscriber_language("+996555000111"));
    s->set_subscriber_language("+996555000111", "ru");
    EXPECT_EQ(s->subscriber_language("+996555000111"), "ru");
    s->set_subscriber_language("+996555000111", "ky");
    EXPECT_EQ(s->subscriber_language("+996555000111"), "ky");
}

TEST(Store, SessionsAndResumeCandidates) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    s->save_session({"at:1", "+996555000111", "ussd", "{}", "active", 100, 110});
    s->save_session({"at:2", "+996555000111", "ussd", "{}", "active", 200, 210});
    s->save_session({"at:3", "+996555000111", "ussd", "{}", "finished", 300, 310});
    auto r = s->find_resumable_session("+996555000111", 0, "at:9");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "at:2");
    EXPECT_FALSE(s->find_resumable_session("+996555000111", 250, "at:9"));
    EXPECT_EQ(s->find_resumable_session("+996555000111", 0, "at:2")->id, "at:1");
    EXPECT_EQ(s->abandon_idle_sessions(150), 1u);
    EXPECT_EQ(s->find_session("at:1")->status, "abandoned");
    // abandoned sessions may still be resumed within the window
    s->set_session_status("at:2", "resumed");
    EXPECT_EQ(s->find_resumable_session("+996555000111", 0, "x")->id, "at:1");
}

TEST(Store, UnopenableFileIsAStoreError) {
    EXPECT_THROW(open_sqlite_store("/proc/definitely/not/here.db", gw::test::test_sealer()), store_error);
}

TEST(Store, AnOptOutReportedByTheAggregatorStopsSmsToHer) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    outbound_message m;
    m.channel = "twilio";
    m.recipient = "+79161234567";
    m.body = "hi";
    m.purpose = "menu_reply";
    const long long id = s->enqueue_outbound(m);
    s->mark_sent(id, "SM7", 100);
    EXPECT_FALSE(s->opt_out_recipient_of("twilio", "SM-unknown"));
    EXPECT_FALSE(s->opt_out_recipient_of("kannel", "SM7")) << "ids are per channel";
    EXPECT_FALSE(s->no_sms("+79161234567"));
    EXPECT_TRUE(s->opt_out_recipient_of("twilio", "SM7"));
    EXPECT_TRUE(s->no_sms("+79161234567"));
    EXPECT_EQ(s->enqueue_outbound(m), 0) << "nothing more is queued to her";
}

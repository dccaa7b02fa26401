#include "store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "support/case_builder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace gw::store;

namespace {
new_case sample(const std::string& origin) {
    return gw::test::a_case(origin).phone("+996555123456").language("ky").consent();
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
    case_record c = gw::service::store_case(*s, sample("ussd:a:1:create"), 1700000000);
    EXPECT_TRUE(std::regex_match(c.reference, std::regex("R-[0-9]{7}"))) << c.reference;
    EXPECT_EQ(c.status, case_status::new_);
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
    auto a = gw::service::store_case(*s, sample("same"), 1);
    auto b = gw::service::store_case(*s, sample("same"), 2);
    EXPECT_EQ(a.reference, b.reference);
    EXPECT_EQ(s->count_cases(), 1u);
    std::set<std::string> refs;
    for (int i = 0; i < 200; ++i)
        refs.insert(gw::service::store_case(*s, sample(std::to_string(i)), 3).reference);
    EXPECT_EQ(refs.size(), 200u);
    EXPECT_EQ(s->count_cases(), 201u);
}

TEST(Store, ATakenReferenceIsRefusedAndNothingWritten) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    auto first = s->create_case(sample("a"), "R-1234567", 1);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->reference, "R-1234567");
    EXPECT_FALSE(s->create_case(sample("b"), "R-1234567", 2)) << "the caller draws another code";
    EXPECT_EQ(s->count_cases(), 1u);
    // The same event again: the case it made, whatever code is offered.
    auto again = s->create_case(sample("a"), "R-7654321", 3);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->reference, "R-1234567");
    EXPECT_EQ(again->created_at, 1);
}

TEST(Store, UrgentCasesAreEscalated) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    auto c = sample("u");
    c.urgent = true;
    c.safe_to_call = false;
    auto r = gw::service::store_case(*s, c, 1);
    EXPECT_EQ(r.status, case_status::escalated);
    EXPECT_EQ(s->find_case(r.reference)->safe_to_call, false);
}

TEST(Store, CasesSurviveReopening) {
    test::temp_dir dir;
    std::string ref;
    {
        auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
        ref = gw::service::store_case(*s, sample("x"), 1).reference;
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
    s->save_session(
        {"at:1", "+996555000111", "ussd", "{}", gw::store::session_status::active, 100, 110});
    s->save_session(
        {"at:2", "+996555000111", "ussd", "{}", gw::store::session_status::active, 200, 210});
    s->save_session(
        {"at:3", "+996555000111", "ussd", "{}", gw::store::session_status::finished, 300, 310});
    auto r = s->find_resumable_session("+996555000111", 0, "at:9");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "at:2");
    EXPECT_FALSE(s->find_resumable_session("+996555000111", 250, "at:9"));
    EXPECT_EQ(s->find_resumable_session("+996555000111", 0, "at:2")->id, "at:1");
    EXPECT_EQ(s->abandon_idle_sessions(150), 1u);
    EXPECT_EQ(s->find_session("at:1")->status, gw::store::session_status::abandoned);
    // abandoned sessions may still be resumed within the window
    s->set_session_status("at:2", gw::store::session_status::resumed);
    EXPECT_EQ(s->find_resumable_session("+996555000111", 0, "x")->id, "at:1");
}

TEST(Store, UnopenableFileIsAStoreError) {
    EXPECT_THROW(open_sqlite_store("/proc/definitely/not/here.db", gw::test::test_sealer()),
                 store_error);
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

// Group commit: writes from many threads at once share transactions (and
// fsyncs) yet each is kept, or refused, on its own.
TEST(Store, WritesFromManyThreadsAreEachKeptAndAFailingOneSpoilsNoOther) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    operator_account first{0, "aida", "Aida", "operator", "hash", true, 1700000000};
    s->create_operator(first, {1700000000, "system", "operator_created", 0, "aida"});

    constexpr int threads = 16, per_thread = 20;
    std::vector<std::vector<case_record>> made(threads);
    std::atomic<int> refused{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                made[t].push_back(gw::service::store_case(
                    *s, sample("ussd:t" + std::to_string(t) + ":" + std::to_string(i)),
                    1700000000));
                // The same user name again: refused by the unique index,
                // inside a batch that also holds other threads' cases.
                if (i % 5 == 0) try {
                        s->create_operator(first,
                                           {1700000000, "system", "operator_created", 0, "aida"});
                    } catch (const store_error&) {
                        ++refused;
                    }
            }
        });
    for (auto& th : pool) th.join();

    EXPECT_EQ(refused.load(), threads * per_thread / 5);
    EXPECT_EQ(s->count_cases(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_EQ(s->operators().size(), 1u);
    std::set<std::string> references;
    for (const auto& cases : made)
        for (const auto& c : cases) {
            references.insert(c.reference);
            auto found = s->find_case(c.reference);
            ASSERT_TRUE(found) << c.reference;
            EXPECT_EQ(found->origin_key, c.origin_key);
        }
    EXPECT_EQ(references.size(), static_cast<std::size_t>(threads * per_thread));
    const commit_stats stats = s->commit_counts();
    EXPECT_GE(stats.writes, threads * per_thread + 1);
    EXPECT_LE(stats.commits, stats.writes);
    EXPECT_GE(stats.durable_commits, 1);                     // cases are fsynced...
    EXPECT_LE(stats.durable_commits, threads * per_thread);  // ...never more than once each
}

// A case is durable before create_case returns, whatever else the batch held:
// a second connection (another process) reads it at once.
TEST(Store, ACaseIsCommittedBeforeCreateCaseReturns) {
    test::temp_dir dir;
    auto s = open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    case_record c = gw::service::store_case(*s, sample("ussd:x:1"), 1700000000);
    SQLite::Database other(dir.file("g.db"));
    SQLite::Statement q(other, "SELECT count(*) FROM cases WHERE reference = ?");
    q.bind(1, c.reference);
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getInt(), 1);
}

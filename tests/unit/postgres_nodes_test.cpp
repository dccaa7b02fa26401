// Two gateway nodes on one PostgreSQL: each store object here is what one
// node holds. Whatever runs on both, every message is claimed once, every
// event stored once, and the audit trail cannot be rewritten even by SQL
// the gateway's role may run. Skipped without tests/postgres/run.sh.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <vector>

#include "service/operator_auth.hpp"
#include "store/health.hpp"
#include "store/store.hpp"
#include "support/case_builder.hpp"
#include "support/postgres.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace gw::store;

namespace {

class PostgresNodes : public ::testing::Test {
  protected:
    void SetUp() override {
        auto server = test::pg_database::server_url();
        if (!server) GTEST_SKIP() << "no PostgreSQL for this run (tests/postgres/run.sh)";
        db_ = std::make_unique<test::pg_database>(*server);
        node_a_ = open_postgres_store(db_->url(), test::test_sealer());
        node_b_ = open_postgres_store(db_->url(), test::test_sealer());
    }
    std::unique_ptr<test::pg_database> db_;
    std::unique_ptr<store::store> node_a_, node_b_;
};

TEST_F(PostgresNodes, EveryMessageIsClaimedByOneWorkerOnly) {
    constexpr int messages = 400;
    for (int i = 0; i < messages; ++i) {
        outbound_message m;
        m.channel = "kannel";
        m.recipient = "+99655500" + std::to_string(1000 + i);
        m.body = "reply";
        m.purpose = "menu_reply";
        node_a_->enqueue_outbound(m);
    }
    std::mutex mutex;
    std::map<long long, int> claims;
    std::vector<std::thread> workers;
    for (auto* node : {node_a_.get(), node_b_.get()})
        for (int w = 0; w < 3; ++w)
            workers.emplace_back([&, node] {
                for (;;) {
                    auto batch = node->claim_due_outbound(1LL << 50, 7);
                    if (batch.empty()) return;
                    std::lock_guard lock(mutex);
                    for (const auto& m : batch) ++claims[m.id];
                }
            });
    for (auto& w : workers) w.join();
    EXPECT_EQ(claims.size(), static_cast<std::size_t>(messages));
    for (const auto& [id, n] : claims) EXPECT_EQ(n, 1) << "message " << id;
}

TEST_F(PostgresNodes, OnlyADeadNodesClaimsAreTakenBack) {
    outbound_message m;
    m.channel = "kannel";
    m.recipient = "+996555000123";
    m.body = "reply";
    m.purpose = "menu_reply";
    node_a_->enqueue_outbound(m);
    ASSERT_EQ(node_a_->claim_due_outbound(1LL << 50, 10).size(), 1u);
    // Node B starts (or sweeps) while A is sending: A's fresh claim stays A's.
    EXPECT_EQ(node_b_->requeue_unfinished(), 0u);
    // A died: once its claim is older than the timeout, it is queued again.
    postgres_options impatient;
    impatient.claim_timeout_s = -1;
    auto node_c = open_postgres_store(db_->url(), test::test_sealer(), impatient);
    EXPECT_EQ(node_c->requeue_unfinished(), 1u);
    EXPECT_EQ(node_b_->claim_due_outbound(1LL << 50, 10).size(), 1u);
}

TEST_F(PostgresNodes, TheSameEventOnTwoNodesMakesOneCase) {
    new_case c =
        test::a_case("sms:kannel:m-77:case").phone("+79161234567").channel("sms").oblast("");
    std::vector<std::string> references(8);
    std::vector<std::thread> nodes;
    for (int i = 0; i < 8; ++i)
        nodes.emplace_back([&, i] {
            references[i] = service::store_case(i % 2 ? *node_a_ : *node_b_, c, 100).reference;
        });
    for (auto& t : nodes) t.join();
    EXPECT_EQ(std::set<std::string>(references.begin(), references.end()).size(), 1u);
    EXPECT_EQ(node_a_->count_cases(), 1u);

    inbound_record in{"kannel", "m-77", "+79161234567", "", 100};
    std::atomic<int> recorded{0};
    nodes.clear();
    for (int i = 0; i < 8; ++i)
        nodes.emplace_back([&, i] {
            if ((i % 2 ? *node_a_ : *node_b_).commit_inbound(in, nullptr, {})) ++recorded;
        });
    for (auto& t : nodes) t.join();
    EXPECT_EQ(recorded.load(), 1) << "a retried SMS is answered once cluster-wide";
}

TEST_F(PostgresNodes, ANewCaseRoutedByTwoNodesAtOnceGetsOneReferral) {
    auto rec = test::a_case("ussd:x:1")
                   .phone("+996555123456")
                   .language("ky")
                   .oblast("")
                   .store_in(*node_a_, 1);
    std::vector<std::thread> routers;
    std::vector<long long> ids(8);
    for (int i = 0; i < 8; ++i)
        routers.emplace_back([&, i] {
            // The hop that made it on one node, the sweep on the other.
            ids[i] = (i % 2 ? *node_a_ : *node_b_)
                         .create_referral({0, rec.id, "", "legal_osh", store::referral_status::new_,
                                           "", "", "", "", 0, 2, 2},
                                          {0, "system", "created", "to legal_osh", 2}, {[] {
                                              outbound_message m;
                                              m.channel = "kannel";
                                              m.recipient = "+996555000777";
                                              m.body = "focal point";
                                              m.purpose = "partner_notification";
                                              return m;
                                          }()},
                                          false, /*first_of_case=*/true)
                         .id;
        });
    for (auto& t : routers) t.join();
    EXPECT_EQ(std::set<long long>(ids.begin(), ids.end()).size(), 1u);
    EXPECT_EQ(node_b_->case_referrals(rec.id).size(), 1u);
    EXPECT_EQ(node_b_->outbound_to("+996555000777").size(), 1u) << "one SMS to the focal point";
}

TEST_F(PostgresNodes, WrongPasswordsOnOneNodeCountOnTheOther) {
    service::login_throttle on_a(3, 900, node_a_.get()), on_b(3, 900, node_b_.get());
    for (int i = 0; i < 3; ++i) (i % 2 ? on_a : on_b).failed("account:aida", 1000);
    EXPECT_EQ(on_a.wait("account:aida", 1000), 0) << "three free failures";
    on_b.failed("account:aida", 1000);
    EXPECT_EQ(on_a.wait("account:aida", 1000), 1) << "the fourth, on the other node";
    on_a.failed("account:aida", 1000);
    EXPECT_EQ(on_b.wait("account:aida", 1000), 2);
    // Failures at the same moment on both nodes are all counted.
    std::vector<std::thread> tries;
    for (int i = 0; i < 8; ++i)
        tries.emplace_back([&, i] { (i % 2 ? on_a : on_b).failed("account:bek", 1000); });
    for (auto& t : tries) t.join();
    EXPECT_EQ(on_a.failures("account:bek", 1000), 8);
    on_b.succeeded("account:bek");
    EXPECT_EQ(on_a.failures("account:bek", 1000), 0);
    // A number's requests per minute, counted once across nodes.
    for (int i = 0; i < 4; ++i)
        (i % 2 ? *node_a_ : *node_b_).count_event("ussd-number:+996555123456", 60);
    EXPECT_EQ(node_a_->count_event("ussd-number:+996555123456", 60), 5);
}

TEST_F(PostgresNodes, TheAuditTrailCannotBeRewritten) {
    auto rec =
        test::a_case("a").phone("+996555123456").language("ky").oblast("").store_in(*node_a_, 1);
    node_a_->record_audit({1, "operator:aida", "viewed", rec.id, ""});
    auto r = node_a_->create_referral(
        {0, rec.id, "", "legal_osh", store::referral_status::new_, "", "", "", "", 0, 1, 1},
        {0, "system", "created", "to legal_osh", 1}, {}, false);
    pqxx::connection raw(db_->url());
    auto refused = [&](const std::string& sql) {
        pqxx::work tx(raw);
        try {
            tx.exec(sql);
            return false;
        } catch (const pqxx::sql_error&) {
            return true;
        }
    };
    EXPECT_TRUE(refused("UPDATE audit_log SET actor = 'nobody'"));
    EXPECT_TRUE(refused("DELETE FROM audit_log"));
    EXPECT_TRUE(refused("DELETE FROM referral_events"));
    EXPECT_TRUE(refused("UPDATE referral_events SET action = 'accepted'"));
    EXPECT_FALSE(refused("UPDATE referral_events SET detail = ''")) << "retention may blank it";
    EXPECT_EQ(node_b_->referral_events(r.id).size(), 1u);
}

TEST_F(PostgresNodes, AnUnreachableDatabaseIsAStoreErrorAndRaisesTheAlarm) {
    storage_health health;
    postgres_options options;
    options.health = &health;
    auto node = open_postgres_store(db_->url(), test::test_sealer(), options);
    EXPECT_EQ(node->count_cases(), 0u);
    {
        // Every connection of this database cut, as when its server goes away.
        pqxx::connection admin(*test::pg_database::server_url());
        pqxx::nontransaction tx(admin);
        tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                db_->url().substr(db_->url().rfind('/') + 1) + "' AND pid <> pg_backend_pid()");
    }
    EXPECT_THROW(node->count_cases(), store_error);
    EXPECT_TRUE(health.failing());
    // The pool reconnects: the next unit of work goes through.
    EXPECT_EQ(node->count_cases(), 0u);
    node->set_subscriber_language("+996555123456", "ky");
    EXPECT_FALSE(health.failing());
    EXPECT_THROW(open_postgres_store("postgresql://gateway@127.0.0.1:1/none", test::test_sealer()),
                 store_error);
}

}  // namespace

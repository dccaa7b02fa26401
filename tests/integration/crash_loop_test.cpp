// Crash safety: the real gateway is killed with SIGKILL at random moments
// while USSD sessions register cases and SMS queue replies, 50 times over.
// Afterwards every case whose END reached the phone is in the store, every
// SMS the aggregator was told was received got its reply queued once and
// delivered once when the aggregator came back, and SQLite's integrity
// check passes.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "integration/fake_aggregator.hpp"
#include "store/store.hpp"
#include "support/http_client.hpp"
#include "support/test_sealer.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

struct acknowledged {
    std::mutex m;
    std::set<std::string> cases;     // reference codes shown in an END
    std::set<std::string> messages;  // inbound SMS ids answered 200
};

// One USSD session to a registered case; records the reference if the END arrived.
void ussd_case(unsigned short port, const std::string& session, const std::string& phone,
               acknowledged& ack) {
    std::string text;
    for (const std::string in : {"", "2", "3", "4", "3", "2", "1", "2", "1"}) {
        text = text.empty() ? in : (in.empty() ? text : text + "*" + in);
        test::http_reply r;
        try {
            r = test::post_form(port, "/ussd/africastalking",
                                test::form({{"sessionId", session}, {"phoneNumber", phone}, {"text", text}}));
        } catch (const std::exception&) {
            return;  // killed under us
        }
        if (r.status != 200) return;
        std::smatch m;
        if (r.body.rfind("END ", 0) == 0) {
            if (std::regex_search(r.body, m, std::regex("R-[0-9]{7}"))) {
                std::lock_guard lock(ack.m);
                ack.cases.insert(m.str());
            }
            return;
        }
    }
}

void sms(unsigned short port, const std::string& id, const std::string& phone, acknowledged& ack) {
    try {
        auto r = test::post_form(port, "/sms/africastalking?token=t",
                                 test::form({{"from", phone}, {"to", "5555"}, {"text", "HELP"}, {"id", id}}));
        if (r.status == 200) {
            std::lock_guard lock(ack.m);
            ack.messages.insert(id);
        }
    } catch (const std::exception&) {
    }
}

}  // namespace

TEST(CrashLoop, KillNineFiftyTimesLosesNothing) {
    test::temp_dir dir;
    const unsigned short api_port = test::free_port();  // the aggregator is down during the loop
    auto config = test::write_test_config(
        dir,
        "sms:\n  base_delay_ms: 50\n  max_delay_ms: 200\n  max_attempts: 100000\n"
        "  poll_interval_ms: 50\n  per_number_limit: 0\n  per_channel_limit: 0\n"
        "  channels:\n    africastalking:\n      auth: token\n      token: t\n"
        "      send_url: http://127.0.0.1:" + std::to_string(api_port) + "/version1/messaging\n"
        "      send_username: u\n      send_password: k\n");
    acknowledged ack;
    std::mt19937 random(20261125);
    const int cycles = 50;
    int n = 0;
    for (int cycle = 0; cycle < cycles; ++cycle) {
        test::gateway_process gw(config, dir.file("gateway.log"));
        std::atomic<bool> stop{false};
        std::vector<std::thread> drivers;
        for (int d = 0; d < 4; ++d) {
            drivers.emplace_back([&, d, base = n + d * 100000] {
                for (int i = 0; !stop; ++i) {
                    std::string phone = "+99655" + std::to_string(5000000 + (base + i) % 999999);
                    if (d == 3)
                        sms(gw.port(), "crash-" + std::to_string(base) + "-" + std::to_string(i), phone, ack);
                    else
                        ussd_case(gw.port(), "crash-" + std::to_string(base) + "-" + std::to_string(i), phone, ack);
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<>(30, 250)(random)));
        gw.kill_hard();
        stop = true;
        for (auto& t : drivers) t.join();
        n += 1000;
    }
    ASSERT_GT(ack.cases.size(), 10u) << "the loop did not get far enough to mean anything";

    // Everything acknowledged is in the store, and the file is sound.
    std::size_t lost_cases = 0, lost_messages = 0;
    {
        SQLite::Database db(dir.file("gateway.db"));
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
        auto store = store::open_sqlite_store(dir.file("gateway.db"), gw::test::test_sealer());
        for (const auto& ref : ack.cases)
            if (!store->find_case(ref)) ++lost_cases;
        for (const auto& id : ack.messages)
            if (!store->find_inbound("africastalking", id)) ++lost_messages;
        // One reply queued per recorded SMS, none twice.
        SQLite::Statement q(db, "SELECT count(*) FROM outbox WHERE purpose = 'menu_reply'");
        q.executeStep();
        SQLite::Statement in(db, "SELECT count(*) FROM inbound_messages WHERE aggregator = 'africastalking'");
        in.executeStep();
        EXPECT_EQ(q.getColumn(0).getInt64(), in.getColumn(0).getInt64());
    }
    EXPECT_EQ(lost_cases, 0u);
    EXPECT_EQ(lost_messages, 0u);

    // The aggregator comes back: every queued reply is delivered exactly once.
    std::size_t queued = 0;
    {
        SQLite::Database db(dir.file("gateway.db"));
        queued = static_cast<std::size_t>(
            db.execAndGet("SELECT count(*) FROM outbox WHERE purpose = 'menu_reply'").getInt64());
    }
    test::fake_aggregator aggregator(api_port);
    test::gateway_process gw(config, dir.file("gateway.log"));
    EXPECT_TRUE(aggregator.wait_for(queued, 30s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(aggregator.received().size(), queued);
    EXPECT_EQ(gw.terminate(), 0);
    std::cout << "crash loop: " << cycles << " kill -9 cycles survived, " << ack.cases.size()
              << " cases acknowledged, " << lost_cases << " lost; " << ack.messages.size()
              << " SMS acknowledged, " << lost_messages << " lost; " << queued
              << " replies delivered once after the aggregator came back\n";
}

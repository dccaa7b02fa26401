// Crash safety: the real gateway is killed with SIGKILL at random moments
// while USSD sessions register cases and SMS queue replies, 50 times over.
// Sessions in flight go on after each restart, as the aggregator would
// retry them (session state is written behind, so the store may be several
// hops behind her). Afterwards every case whose END reached the phone is in
// the store, every stored case holds exactly the answers her presses give
// (walked again through the same menus in-process), every SMS the
// aggregator was told was received got its reply queued once and delivered
// once when the aggregator came back, and SQLite's integrity check passes.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "app/config.hpp"
#include "app/gateway.hpp"
#include "integration/fake_aggregator.hpp"
#include "store/store.hpp"
#include "support/fake_clock.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

struct acknowledged {
    std::mutex m;
    std::set<std::string> cases;               // reference codes shown in an END
    std::set<std::string> messages;            // inbound SMS ids answered 200
    std::map<std::string, std::string> walks;  // session id -> every input she pressed
};

// A legal-aid referral with varied answers: Russian, lawyer/family, need a
// lawyer, then oblast and situation drawn at random, call me, consent drawn
// at random (the consent answer creates the case).
std::vector<std::string> random_walk(std::mt19937& random) {
    auto pick = [&](int n) {
        return std::to_string(std::uniform_int_distribution<>(1, n)(random));
    };
    return {"", "2", "2", "1", pick(5), pick(5), "1", pick(2)};
}

std::string joined(const std::vector<std::string>& inputs, std::size_t upto) {
    std::string text;
    for (std::size_t i = 1; i <= upto && i < inputs.size(); ++i)
        text += (text.empty() ? "" : "*") + inputs[i];
    return text;
}

// One USSD session to a registered case, hop by hop. A hop that gets no
// answer (the gateway is down) is sent again, as the aggregator retries,
// until `stop`; the session then goes on against the next gateway.
void ussd_case(const std::atomic<unsigned short>& port, const std::atomic<bool>& stop,
               const std::string& session, const std::string& phone,
               const std::vector<std::string>& inputs, acknowledged& ack) {
    {
        std::lock_guard lock(ack.m);
        ack.walks[session] = joined(inputs, inputs.size());
    }
    for (std::size_t hop = 0; hop < inputs.size() && !stop;) {
        test::http_reply r;
        try {
            r = test::post_form(port, test::ussd_path,
                                test::form({{"sessionId", session},
                                            {"phoneNumber", phone},
                                            {"text", joined(inputs, hop)}}));
        } catch (const std::exception&) {
            std::this_thread::sleep_for(20ms);  // killed under us: try again
            continue;
        }
        if (r.status == 0 || r.status >= 500) {
            std::this_thread::sleep_for(20ms);
            continue;
        }
        if (r.status != 200) return;
        if (r.body.rfind("END ", 0) == 0) {
            std::smatch m;
            if (std::regex_search(r.body, m, std::regex("R-[0-9]{7}"))) {
                std::lock_guard lock(ack.m);
                ack.cases.insert(m.str());
            }
            return;
        }
        ++hop;
    }
}

void sms(unsigned short port, const std::string& id, const std::string& phone, acknowledged& ack) {
    try {
        auto r = test::post_form(
            port, "/sms/africastalking?token=t",
            test::form({{"from", phone}, {"to", "5555"}, {"text", "HELP"}, {"id", id}}));
        if (r.status == 200) {
            std::lock_guard lock(ack.m);
            ack.messages.insert(id);
        }
    } catch (const std::exception&) {
    }
}

// What a case made by these presses holds: the same menus, walked
// in-process on a fresh store, without crashes.
store::case_record expected_case(const std::string& config, const std::string& text) {
    test::temp_dir scratch;
    auto cfg = app::load_config(config).value;
    cfg.sqlite_path = scratch.file("oracle.db");
    test::fake_clock clock;
    app::gateway oracle(cfg, clock);
    service::ussd_request req{"africastalking", "oracle", "+996555000000", "*384#", "", ""};
    service::ussd_reply r = oracle.ussd().handle(req);
    std::size_t pos = 0;
    while (!r.end && pos <= text.size()) {
        std::size_t star = text.find('*', pos);
        req.text = text.substr(0, star);
        r = oracle.ussd().handle(req);
        if (star == std::string::npos) break;
        pos = star + 1;
    }
    std::smatch m;
    if (!std::regex_search(r.text, m, std::regex("R-[0-9]{7}"))) return {};
    return *oracle.storage().find_case(m.str());
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
        "      send_url: http://127.0.0.1:" +
            std::to_string(api_port) +
            "/version1/messaging\n"
            "      send_username: u\n      send_password: k\n");
    acknowledged ack;
    std::mt19937 random(20261125);
    const int cycles = 50;
    std::atomic<unsigned short> port{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> drivers;
    for (int d = 0; d < 4; ++d) {
        drivers.emplace_back([&, d, seed = random()] {
            std::mt19937 own(seed);
            for (int i = 0; !stop; ++i) {
                while (port == 0 && !stop) std::this_thread::sleep_for(5ms);
                const std::string id = "crash-" + std::to_string(d) + "-" + std::to_string(i);
                std::string phone = "+99655" + std::to_string(5000000 + (d * 100000 + i) % 999999);
                if (d == 3)
                    sms(port, id, phone, ack);
                else
                    ussd_case(port, stop, id, phone, random_walk(own), ack);
            }
        });
    }
    for (int cycle = 0; cycle < cycles; ++cycle) {
        test::gateway_process gw(config, dir.file("gateway.log"));
        port = gw.port();
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<>(30, 250)(random)));
        gw.kill_hard();
        port = 0;
    }
    stop = true;
    for (auto& t : drivers) t.join();
    ASSERT_GT(ack.cases.size(), 10u) << "the loop did not get far enough to mean anything";

    // Everything acknowledged is in the store, and the file is sound.
    std::size_t lost_cases = 0, lost_messages = 0;
    {
        SQLite::Database db(dir.file("gateway.db"));
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
        auto store = store::open_sqlite_store(dir.file("gateway.db"), gw::test::test_sealer());
        for (const auto& ref : ack.cases)
            if (!store->find_case(ref)) ++lost_cases;
        // Every stored case holds the answers her presses give, whether or
        // not its END reached her.
        std::map<std::string, std::string> walk_of;  // session hash -> inputs
        const auto sealer = gw::test::test_sealer();
        for (const auto& [session, text] : ack.walks)
            walk_of[sealer.lookup_hash("africastalking:" + session)] = text;
        std::map<std::string, store::case_record> expected;  // by inputs
        SQLite::Statement all(db, "SELECT reference, session_id FROM cases");
        std::size_t checked = 0;
        while (all.executeStep()) {
            auto c = store->find_case(all.getColumn(0).getString());
            auto walk = walk_of.find(all.getColumn(1).getString());
            ASSERT_TRUE(c && walk != walk_of.end()) << "a case no session walked";
            if (!expected.count(walk->second))
                expected[walk->second] = expected_case(config, walk->second);
            const auto& e = expected[walk->second];
            EXPECT_EQ(std::tie(c->topic, c->subtopic, c->oblast, c->target_group, c->language,
                               c->consent, c->notify_sms, c->urgent),
                      std::tie(e.topic, e.subtopic, e.oblast, e.target_group, e.language, e.consent,
                               e.notify_sms, e.urgent))
                << c->reference << " stored answers she never gave; she pressed " << walk->second;
            ++checked;
        }
        EXPECT_GT(checked, 10u);
        std::cout << "crash loop: " << checked
                  << " stored cases match the presses that made them\n";
        for (const auto& id : ack.messages)
            if (!store->find_inbound("africastalking", id)) ++lost_messages;
        // One reply queued per recorded SMS, none twice.
        SQLite::Statement q(db, "SELECT count(*) FROM outbox WHERE purpose = 'menu_reply'");
        q.executeStep();
        SQLite::Statement in(
            db, "SELECT count(*) FROM inbound_messages WHERE aggregator = 'africastalking'");
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

// The outbox survives a crash: an SMS reply queued while the aggregator is
// down is still queued after `kill -9`, and is sent exactly once when the
// gateway is back and the aggregator answers again.
#include <gtest/gtest.h>

#include <thread>

#include "integration/fake_aggregator.hpp"
#include "store/store.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace std::chrono_literals;

TEST(OutboxCrash, QueuedSmsSurvivesKill9WhileTheAggregatorIsDown) {
    test::temp_dir dir;
    const unsigned short api_port = test::free_port();  // nothing listens: aggregator down
    auto config = test::write_test_config(
        dir,
        "sms:\n  base_delay_ms: 100\n  max_delay_ms: 300\n  max_attempts: 1000\n"
        "  poll_interval_ms: 100\n  channels:\n    africastalking:\n      auth: token\n"
        "      token: at-secret\n      send_url: http://127.0.0.1:" +
            std::to_string(api_port) +
            "/version1/messaging\n      send_username: sandbox\n"
            "      send_password: key\n");
    const std::string phone = "+79161234567";
    {
        test::gateway_process gw(config, dir.file("gateway.log"));
        auto r = test::post_form(
            gw.port(), "/sms/africastalking?token=at-secret",
            test::form(
                {{"from", phone}, {"to", "5555"}, {"text", "ПОМОЩЬ"}, {"id", "AT-crash-1"}}));
        ASSERT_EQ(r.status, 200);
        // Let it fail against the dead aggregator a few times, then crash it.
        for (int i = 0; i < 100 && gw.log().find("attempt 2 failed") == std::string::npos; ++i)
            std::this_thread::sleep_for(20ms);
        gw.kill_hard();
    }
    {
        auto db = store::open_sqlite_store(dir.file("gateway.db"), gw::test::test_sealer());
        auto queued = db->outbound_to(phone);
        ASSERT_EQ(queued.size(), 1u);
        EXPECT_TRUE(queued[0].status == message_status::queued ||
                    queued[0].status == message_status::sending)
            << queued[0].status;
        EXPECT_GE(queued[0].attempts, 1);
    }
    test::fake_aggregator aggregator(api_port);  // the aggregator is back
    test::gateway_process gw(config, dir.file("gateway.log"));
    ASSERT_TRUE(aggregator.wait_for(1)) << gw.log();
    std::this_thread::sleep_for(500ms);  // time for a wrong second delivery to show up
    EXPECT_EQ(aggregator.received().size(), 1u);
    EXPECT_EQ(aggregator.field(0, "to"), phone);
    EXPECT_NE(aggregator.field(0, "message").find("Кыргызча"), std::string::npos);
    EXPECT_EQ(gw.terminate(), 0);
    auto db = store::open_sqlite_store(dir.file("gateway.db"), gw::test::test_sealer());
    auto sent = db->outbound_to(phone);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].status, message_status::sent);
    EXPECT_EQ(sent[0].provider_id, "ATXid_1");
    std::cout << "outbox crash: 1 message queued, gateway killed, delivered once after restart\n";
}

// Issue #16: adding an aggregator is a folder (tests/adapters/fake/, its
// codec and status map) and one registry line; config validation, the
// callback route, its auth and the metrics then know it, with no other
// file touched.
#include <gtest/gtest.h>

#include "adapters/fake/sms.hpp"
#include "adapters/registry.hpp"
#include "app/gateway.hpp"
#include "common/metrics.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gw;

TEST(NewAggregator, IsOneFolderAndOneRegistryLine) {
    adapters::register_aggregator({"fake", test::make_fake_sms});  // the one line

    test::temp_dir dir;
    auto cfg = app::load_config(test::write_test_config(
        dir, "sms:\n  channels:\n    fake:\n      auth: token\n      token: fake-secret\n"));
    for (const auto& d : cfg.diagnostics)
        EXPECT_TRUE(d.warning) << menu::format(d);  // the channel is known to the config check
    system_clock_source clock;
    app::gateway gateway(cfg.value, clock);
    auto server = app::make_http_server(server::server_options{}, gateway);
    const unsigned short port = server->start();

    auto reply = test::post_form(port, "/sms/fake?token=fake-secret",
                                 "from=%2B996555123456&to=1313&text=HELP&id=f-1");
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_FALSE(reply.body.empty()) << "the menu's first screen, in the body";
    EXPECT_EQ(test::post_form(port, "/sms/fake?token=wrong", "from=%2B996555123456&text=HI&id=f-2")
                  .status,
              403)
        << "its callbacks are authenticated like any channel's";
    EXPECT_EQ(test::post_form(port, "/sms/fake?token=fake-secret", "text=no-sender").status, 400);

    EXPECT_EQ(metrics::route_of("/sms/fake/dlr", adapters::aggregator_names()), "/sms/fake")
        << "its requests get their own metrics label";
    server->stop();
    server->wait();

    auto unknown = app::load_config(test::write_test_config(
        dir, "sms:\n  channels:\n    fake2:\n      auth: token\n      token: x\n"));
    bool refused = false;
    for (const auto& d : unknown.diagnostics)
        refused |= !d.warning && d.message.find("unknown SMS channel fake2") != std::string::npos;
    EXPECT_TRUE(refused) << "a name nobody registered is still refused";
}

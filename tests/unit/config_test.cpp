#include <gtest/gtest.h>

#include "app/config.hpp"
#include "support/temp_dir.hpp"

using namespace gw;

TEST(Config, ShippedDefaultLoadsCleanly) {
    auto c = app::load_config(test::source_path("config/gateway.yaml"));
    // Warnings are expected here: the aggregator secrets are not in this environment.
    for (const auto& d : c.diagnostics)
        if (!d.warning) ADD_FAILURE() << menu::format(d);
    EXPECT_EQ(c.value.sms.channels.size(), 4u);
    EXPECT_EQ(c.value.ussd.idle_timeout.count(), 180);
    EXPECT_EQ(c.value.ussd.screen_limit_ucs2, 80u);
    EXPECT_EQ(c.value.ussd.screen_limit_gsm7, 182u);
    EXPECT_EQ(c.value.default_region, "KG");
    // relative paths resolve against the config file
    EXPECT_EQ(c.value.menu_directory, test::source_path("menus"));
}

TEST(Config, WrongTypesAndUnknownKeysAreReportedWithLines) {
    test::temp_dir dir;
    auto path = dir.write("c.yaml",
                          "server:\n  port: many\n  colour: blue\nussd:\n  idle_timeout_s: 60\n"
                          "privacy:\n  data_key_file: key\n");
    auto c = app::load_config(path);
    ASSERT_EQ(c.diagnostics.size(), 2u);
    EXPECT_EQ(menu::format(c.diagnostics[0]), path + ":2: error: server.port: wrong type");
    EXPECT_EQ(menu::format(c.diagnostics[1]), path + ":3: warning: unknown key server.colour");
    EXPECT_EQ(c.value.ussd.idle_timeout.count(), 60);
}

TEST(Config, WithoutADataKeyTheGatewayDoesNotStart) {
    test::temp_dir dir;
    auto c = app::load_config(dir.write("c.yaml", "log:\n  level: info\n"));
    ASSERT_TRUE(menu::has_errors(c.diagnostics));
    EXPECT_NE(menu::format(c.diagnostics.back()).find("no data key"), std::string::npos);
}

TEST(Config, BrokenYaml) {
    test::temp_dir dir;
    auto c = app::load_config(dir.write("c.yaml", "server: [\n"));
    ASSERT_FALSE(c.diagnostics.empty());
    EXPECT_TRUE(menu::has_errors(c.diagnostics));
    auto missing = app::load_config(dir.file("nope.yaml"));
    EXPECT_TRUE(menu::has_errors(missing.diagnostics));
}

#include "app/config.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "app/commands.hpp"
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

namespace {
// The SMS secrets and senders the shipped config names, unset for a test.
struct unset_sms_environment {
    unset_sms_environment() {
        for (const char* v :
             {"GATEWAY_KANNEL_TOKEN", "KANNEL_SENDSMS_PASSWORD", "GATEWAY_KANNEL_SENDER",
              "GATEWAY_AT_TOKEN", "AT_API_KEY", "GATEWAY_AT_SENDER", "TWILIO_AUTH_TOKEN",
              "GATEWAY_TWILIO_SENDER", "GATEWAY_INFOBIP_PASSWORD", "INFOBIP_API_KEY",
              "GATEWAY_INFOBIP_SENDER"})
            ::unsetenv(v);
    }
};

std::string all(const std::vector<menu::diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += menu::format(d) + "\n";
    return out;
}

const app::sms_channel_config* channel(const app::config& c, const std::string& name) {
    for (const auto& ch : c.sms.channels)
        if (ch.name == name) return &ch;
    return nullptr;
}
}  // namespace

TEST(Config, UnsetSecretsAreOneLineNamingTheChannels) {
    unset_sms_environment clean;
    auto c = app::load_config(test::source_path("config/gateway.yaml"));
    std::size_t sms_lines = 0;
    for (const auto& d : c.diagnostics) {
        if (d.message.find("sms.") != std::string::npos ||
            d.message.find("SMS") != std::string::npos)
            ++sms_lines;
        EXPECT_EQ(d.message.find("GATEWAY_AT_TOKEN"), std::string::npos) << d.message;
    }
    EXPECT_EQ(sms_lines, 1u) << all(c.diagnostics);
    EXPECT_NE(all(c.diagnostics)
                  .find("warning: SMS channels not configured (secrets missing): kannel, "
                        "africastalking, twilio, infobip — they refuse callbacks until set"),
              std::string::npos)
        << all(c.diagnostics);

    // Callbacks work, sending does not: said so.
    ::setenv("GATEWAY_KANNEL_TOKEN", "t", 1);
    c = app::load_config(test::source_path("config/gateway.yaml"));
    EXPECT_NE(all(c.diagnostics).find("kannel (cannot send), africastalking"), std::string::npos)
        << all(c.diagnostics);
    ::setenv("KANNEL_SENDSMS_PASSWORD", "p", 1);
    ::setenv("GATEWAY_KANNEL_SENDER", "1414", 1);
    c = app::load_config(test::source_path("config/gateway.yaml"));
    EXPECT_NE(all(c.diagnostics).find("not configured (secrets missing): africastalking, twilio"),
              std::string::npos)
        << all(c.diagnostics);
    EXPECT_EQ(channel(c.value, "kannel")->sender, "1414") << "sender_env";
    for (const char* v :
         {"GATEWAY_KANNEL_TOKEN", "KANNEL_SENDSMS_PASSWORD", "GATEWAY_KANNEL_SENDER"})
        ::unsetenv(v);
}

TEST(Config, AChannelThatSendsNeedsASender) {
    test::temp_dir dir;
    auto path = dir.write(
        "c.yaml",
        "privacy: {data_key_file: key}\n"
        "sms:\n  channels:\n"
        "    twilio:\n      auth: twilio_signature\n      auth_token: x\n"
        "      send_url: https://api.twilio.com\n"
        "    kannel:\n      token: t\n      send_url: http://127.0.0.1:13013/cgi-bin/sendsms\n"
        "    africastalking:\n      token: t\n      send_url: "
        "https://api.africastalking.com/version1/messaging\n"
        "    infobip:\n      auth: basic\n      username: u\n      password: p\n"
        "      send_url: https://api.infobip.com\n      sender: \"HOTLINE-KYRGYZSTAN\"\n");
    auto c = app::load_config(path);
    const std::string text = all(c.diagnostics);
    EXPECT_NE(text.find(path + ":4: error: sms.channels.twilio sends SMS but has no sender (set "
                               "sender: or sender_env:): every message would be refused"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(path + ":8: error: sms.channels.kannel sends SMS but has no sender"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(path + ":11: warning: sms.channels.africastalking sends SMS but has no "
                               "sender (set sender: or sender_env:): the aggregator's default "
                               "sender is used and she cannot reply to it"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("warning: sms.channels.infobip.sender 'HOTLINE-KYRGYZSTAN' is neither a "
                        "number nor an alphanumeric sender ID of at most 11 characters"),
              std::string::npos)
        << text;

    // Receiving only (no send_url): no sender needed. Plausible senders pass.
    auto ok = app::load_config(dir.write(
        "ok.yaml",
        "privacy: {data_key_file: key}\nsms:\n  channels:\n"
        "    twilio:\n      auth: twilio_signature\n      auth_token: x\n"
        "    kannel:\n      token: t\n      send_url: http://k/cgi-bin/sendsms\n      sender: "
        "\"1414\"\n"
        "    africastalking:\n      token: t\n      send_url: https://a\n      sender: HOTLINE\n"
        "    infobip:\n      auth: basic\n      username: u\n      password: p\n"
        "      send_url: https://i\n      sender: \"+996555123456\"\n"));
    EXPECT_EQ(all(ok.diagnostics), "");
}

TEST(Config, DeliveryReportUrlsFollowTheServerAndPublicUrl) {
    test::temp_dir dir;
    auto c = app::load_config(dir.write(
        "c.yaml",
        "privacy: {data_key_file: key}\nserver:\n  address: 0.0.0.0\n  port: 9090\n"
        "sms:\n  channels:\n"
        "    kannel:\n      token: t\n      send_url: http://k/cgi-bin/sendsms\n      sender: "
        "\"1414\"\n"
        "    twilio:\n      auth: twilio_signature\n      auth_token: x\n"
        "      public_url: https://hotline.example.org/\n      send_url: https://api.twilio.com\n"
        "      sender: \"+15005550006\"\n"));
    EXPECT_EQ(all(c.diagnostics), "");
    EXPECT_EQ(channel(c.value, "kannel")->report_url, "http://127.0.0.1:9090/sms/kannel/dlr");
    EXPECT_EQ(channel(c.value, "twilio")->report_url, "https://hotline.example.org/sms/twilio/dlr");

    c = app::load_config(
        dir.write("v6.yaml",
                  "privacy: {data_key_file: key}\nserver:\n  address: \"::1\"\n  port: 9090\n"
                  "sms:\n  channels:\n"
                  "    kannel:\n      token: t\n      send_url: http://k/cgi-bin/sendsms\n      "
                  "sender: \"1414\"\n"));
    EXPECT_EQ(channel(c.value, "kannel")->report_url, "http://[::1]:9090/sms/kannel/dlr");

    // A hard-coded port that is not the gateway's: the reports would go nowhere.
    auto stale = dir.write("stale.yaml",
                           "privacy: {data_key_file: key}\nserver:\n  port: 9090\n"
                           "sms:\n  channels:\n"
                           "    kannel:\n      token: t\n      send_url: "
                           "http://k/cgi-bin/sendsms\n      sender: \"1414\"\n"
                           "      report_url: http://127.0.0.1:8080/sms/kannel/dlr\n");
    c = app::load_config(stale);
    EXPECT_EQ(all(c.diagnostics),
              stale +
                  ":6: warning: sms.channels.kannel.report_url uses port 8080 but the gateway "
                  "listens on 9090: delivery reports would not arrive\n");
    EXPECT_EQ(channel(c.value, "kannel")->report_url, "http://127.0.0.1:8080/sms/kannel/dlr");

    auto any_port = dir.write("any.yaml",
                              "privacy: {data_key_file: key}\nserver:\n  port: 0\n"
                              "sms:\n  channels:\n"
                              "    kannel:\n      token: t\n      send_url: "
                              "http://k/cgi-bin/sendsms\n      sender: \"1414\"\n");
    c = app::load_config(any_port);
    EXPECT_NE(all(c.diagnostics).find("server.port is 0 (any free port)"), std::string::npos);
    EXPECT_EQ(channel(c.value, "kannel")->report_url, "");
}

TEST(Config, CheckCommandOnTheShippedFilesAndOnAMisspeltRule) {
    unset_sms_environment clean;
    std::ostringstream out;
    EXPECT_EQ(app::check(test::source_path("config/gateway.yaml"), out), 0) << out.str();
    const std::string text = out.str();
    EXPECT_NE(text.find("check ok"), std::string::npos) << text;
    // One line about the SMS secrets, none per variable.
    EXPECT_NE(text.find("SMS channels not configured (secrets missing)"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("GATEWAY_AT_TOKEN"), std::string::npos) << text;
    EXPECT_EQ(text.find("warning: rule"), std::string::npos) << "shipped rules are not shadowed\n"
                                                             << text;

    // The shipped config with a rule on an oblast the menus never set.
    test::temp_dir dir;
    dir.write("rules/rules.yaml",
              "rules:\n  - id: chui\n    when: {topic: legal_aid, oblast: chui}\n"
              "    route_to: legal_aid_osh\n");
    auto config = test::write_test_config(
        dir, "referrals:\n  partners_file: " + test::source_path("config/partners.yaml") +
                 "\n  rules_directory: " + dir.file("rules") + "\n");
    std::ostringstream bad;
    EXPECT_EQ(app::check(config, bad), 1);
    EXPECT_NE(bad.str().find(dir.file("rules/rules.yaml") +
                             ":2: error: rule chui can never match: no menu sets oblast chui"),
              std::string::npos)
        << bad.str();
    EXPECT_NE(bad.str().find("check FAILED"), std::string::npos);
}

#pragma once
// A running gateway as the console and the dashboard meet it: the shipped
// partners and rules, Africa's Talking as the SMS channel (to a stand-in of
// its API on loopback), the outbox sending, a real HTTP server on a free
// port, and two accounts: aida (operator) and gulnara (supervisor), both
// with `operator_password`. Stopped when it goes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "app/gateway.hpp"
#include "integration/fake_aggregator.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

namespace gw::test {

class console_gateway {
  public:
    static constexpr const char* operator_password = "correct horse battery";

    console_gateway() {
        for (auto [name, role] : {std::pair{"aida", "operator"}, {"gulnara", "supervisor"}})
            EXPECT_TRUE(std::holds_alternative<store::operator_account>(
                gateway->accounts().add("cli", name, name, role, operator_password)));
    }

    temp_dir dir;
    fake_aggregator sms_api;
    running_gateway running{config_file(), {.send = true, .warnings_allowed = true}};
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;

  private:
    // The shipped partners and rules; SMS to the stand-in of Africa's Talking.
    std::string config_file() {
        std::string yaml =
            "sms:\n  base_delay_ms: 50\n  poll_interval_ms: 50\n  channels:\n"
            "    africastalking:\n      auth: token\n      token: at\n"
            "      send_url: http://127.0.0.1:" +
            std::to_string(sms_api.port()) +
            "/version1/messaging\n"
            "      send_username: sandbox\n      send_password: key\n"
            "referrals:\n  partners_file: " +
            source_path("config/partners.yaml") +
            "\n"
            "  rules_directory: " +
            source_path("referral-rules") +
            "\n"
            "  notify_channel: africastalking\n";
        return write_test_config(dir, yaml);
    }
};

}  // namespace gw::test

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
#include "net/http_client.hpp"
#include "server/http_server.hpp"
#include "support/temp_dir.hpp"

namespace gw::test {

class console_gateway {
  public:
    static constexpr const char* operator_password = "correct horse battery";

    console_gateway() {
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
        auto cfg = app::load_config(write_test_config(dir, yaml));
        for (const auto& d : cfg.diagnostics)
            if (!d.warning) ADD_FAILURE() << menu::format(d);
        gateway = std::make_unique<app::gateway>(cfg.value, clock);
        gateway->start_outbox(*transport);
        server = app::make_http_server(server::server_options{}, *gateway);
        port = server->start();
        for (auto [name, role] : {std::pair{"aida", "operator"}, {"gulnara", "supervisor"}})
            EXPECT_TRUE(std::holds_alternative<store::operator_account>(
                gateway->accounts().add("cli", name, name, role, operator_password)));
    }
    ~console_gateway() {
        server->stop();
        server->wait();
        gateway->stop_outbox();
    }
    console_gateway(const console_gateway&) = delete;
    console_gateway& operator=(const console_gateway&) = delete;

    temp_dir dir;
    system_clock_source clock;
    fake_aggregator sms_api;
    std::unique_ptr<domain::http_transport> transport = net::make_beast_transport();
    std::unique_ptr<app::gateway> gateway;
    std::unique_ptr<server::http_server> server;
    unsigned short port = 0;
};

}  // namespace gw::test

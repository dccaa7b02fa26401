#pragma once
// A gateway as `serve` runs it, behind the real HTTP server on a free
// loopback port (app::make_http_server: checks and menu moves on the I/O
// threads, the rest on workers), for integration tests. Header only: for
// test binaries that link the server (gateway_server).
//
//   test::temp_dir dir;   // first: the config is written into it
//   test::running_gateway g{test::write_test_config(dir, yaml), {.send = true}};
//   test::post_form(g.port, ...); g.gateway->storage() ...
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "app/gateway.hpp"
#include "common/clock.hpp"
#include "menu/diagnostic.hpp"
#include "net/http_client.hpp"
#include "server/http_server.hpp"

namespace gw::test {

struct gateway_setup {
    bool send = false;              // the outbox sends through the real HTTP client
    bool warnings_allowed = false;  // a config warning does not fail the test
    // The server's options; none: the config file's `server` section.
    // Address and port are always 127.0.0.1 and a free one.
    std::optional<server::server_options> server = server::server_options{};
};

class running_gateway {
  public:
    explicit running_gateway(const std::string& config_path, gateway_setup setup = {}) {
        auto cfg = app::load_config(config_path);
        for (const auto& d : cfg.diagnostics)
            if (!d.warning || !setup.warnings_allowed) ADD_FAILURE() << menu::format(d);
        gateway = std::make_unique<app::gateway>(cfg.value, clock);
        if (setup.send) {
            transport = net::make_beast_transport();
            gateway->start_outbox(*transport);
        }
        server::server_options options = setup.server ? *setup.server : cfg.value.server;
        options.address = "127.0.0.1";
        options.port = 0;
        server = app::make_http_server(options, *gateway);
        port = server->start();
    }
    // The server first (no request in flight), then the outbox.
    ~running_gateway() {
        server->stop();
        server->wait();
        if (transport) gateway->stop_outbox();
    }
    running_gateway(const running_gateway&) = delete;
    running_gateway& operator=(const running_gateway&) = delete;

    system_clock_source clock;
    std::unique_ptr<domain::http_transport> transport;
    std::unique_ptr<app::gateway> gateway;
    std::unique_ptr<server::http_server> server;
    unsigned short port = 0;
};

}  // namespace gw::test

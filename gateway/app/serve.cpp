#include <cstdio>
#include <iostream>

#include "app/commands.hpp"
#include "app/gateway.hpp"
#include "app/smpp_links.hpp"
#include "common/log.hpp"
#include "net/http_client.hpp"
#include "server/http_server.hpp"

namespace gw::app {

std::unique_ptr<server::http_server> make_http_server(const server::server_options& options,
                                                      gateway& gw) {
    auto http = std::make_unique<server::http_server>(
        options, [&gw](const http::request& r) { return gw.handle(r); });
    http->handle_first([&gw](http::request r) { return gw.handle_first(std::move(r)); });
    http->on_response([&gw](const std::string& path, int status, double seconds) {
        gw.observe(path, status, seconds);
    });
    return http;
}

int serve(const std::string& config_path) {
    auto cfg = load_config(config_path);
    for (const auto& d : cfg.diagnostics) spdlog::warn("{}", menu::format(d));
    if (menu::has_errors(cfg.diagnostics)) {
        spdlog::critical("config has errors, not starting");
        return 2;
    }
    spdlog::set_level(spdlog::level::from_str(cfg.value.log_level));

    system_clock_source clock;
    std::unique_ptr<gateway> gw;
    try {
        gw = std::make_unique<gateway>(cfg.value, clock);
    } catch (const startup_error& e) {
        spdlog::critical("not starting: {}", e.what());
        return 2;
    }
    auto transport = net::make_beast_transport();
    smpp_links links(cfg.value, *gw, clock);  // before the outbox: it sends through them
    gw->start_outbox(*transport);
    links.start();
    const server_config& s = cfg.value.server;
    const server::server_options& options = s;
    {
        auto server = make_http_server(options, *gw);
        server::http_server& http = *server;
        // Before "listening" is announced: a SIGHUP or SIGTERM sent as soon
        // as a supervisor (or a test) reads that line must find its handler.
        http.stop_on_signals();
        http.reload_on_sighup([&gw] { gw->reload(); });
        try {
            unsigned short port = http.start();
            // One write: tools (and tests) read this line while the log is busy.
            const std::string line =
                "hotline gateway listening on http://" + s.address + ":" + std::to_string(port) +
                " (database " +
                (cfg.value.postgres ? std::string("PostgreSQL") : cfg.value.sqlite_path) + ")\n";
            std::fwrite(line.data(), 1, line.size(), stdout);
            std::fflush(stdout);
        } catch (const server::descriptor_limit_error& e) {
            spdlog::critical("not starting: {}", e.what());
            return 2;
        } catch (const std::exception& e) {
            spdlog::critical("cannot listen on {}:{}: {}", s.address, s.port, e.what());
            return 2;
        }
        http.wait();
    }
    links.stop();  // unbind: the operators stop sending before the services go
    gw->stop_outbox();
    gw.reset();  // closes the store after the last request has finished
    spdlog::info("stopped cleanly");
    return 0;
}

}  // namespace gw::app

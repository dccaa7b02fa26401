// hotline-gateway: serve | check | simulate
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"SMS/USSD hotline and referral gateway"};
    cli.require_subcommand(1);
    std::string config_path = "config/gateway.yaml";

    auto* serve = cli.add_subcommand("serve", "run the HTTP gateway until SIGINT/SIGTERM");
    serve->add_option("-c,--config", config_path, "config file")->capture_default_str();

    auto* check = cli.add_subcommand("check", "validate config and menus");
    check->add_option("-c,--config", config_path, "config file")->capture_default_str();

    gw::app::simulate_options sim;
    auto* simulate = cli.add_subcommand("simulate", "walk the menus in the terminal");
    simulate->add_option("-c,--config", config_path, "config file")->capture_default_str();
    simulate->add_option("--phone", sim.phone, "caller's number")->capture_default_str();
    simulate->add_option("--db", sim.store_path, "SQLite file (default: in memory)");

    CLI11_PARSE(cli, argc, argv);
    try {
        if (*serve) return gw::app::serve(config_path);
        if (*check) return gw::app::check(config_path, std::cout);
        sim.config_path = config_path;
        return gw::app::simulate(sim, std::cin, std::cout);
    } catch (const std::exception& e) {
        std::cerr << "fatal: " << e.what() << "\n";
        return 1;
    }
}

// hotline-gateway: serve | check | preview | simulate | operator add | backup | rotate-key
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

    std::string preview_file = "menu-preview.html";
    auto* preview = cli.add_subcommand("preview", "write every screen as a phone shows it (HTML)");
    preview->add_option("-c,--config", config_path, "config file")->capture_default_str();
    preview->add_option("-o,--output", preview_file, "HTML file to write")->capture_default_str();

    gw::app::simulate_options sim;
    auto* simulate = cli.add_subcommand("simulate", "walk the menus in the terminal");
    simulate->add_option("-c,--config", config_path, "config file")->capture_default_str();
    simulate->add_option("--phone", sim.phone, "caller's number")->capture_default_str();
    simulate->add_option("--db", sim.store_path, "SQLite file (default: in memory)");

    gw::app::add_operator_options op;
    auto* operators = cli.add_subcommand("operator", "manage console accounts");
    operators->require_subcommand(1);
    auto* add = operators->add_subcommand(
        "add", "add an operator account (password from GATEWAY_OPERATOR_PASSWORD or stdin)");
    add->add_option("-c,--config", config_path, "config file")->capture_default_str();
    add->add_option("--username", op.username, "log-in name (a-z, 0-9, . _ -)")->required();
    add->add_option("--display-name", op.display_name, "name shown in the console");
    add->add_option("--role", op.role, "operator, supervisor or programme (dashboard only)")
        ->capture_default_str();

    gw::app::backup_options bk;
    auto* backup = cli.add_subcommand(
        "backup", "copy the SQLite database while the gateway runs (never the data key)");
    backup->add_option("-c,--config", config_path, "config file")->capture_default_str();
    backup->add_option("--to", bk.to, "the copy: a new file (0600), never overwritten")->required();
    backup->add_option("--step-pages", bk.step_pages, "pages copied per step")
        ->capture_default_str();
    backup->add_option("--pause-ms", bk.pause_ms, "pause between steps")->capture_default_str();

    gw::app::rotate_key_options rk;
    auto* rotate = cli.add_subcommand(
        "rotate-key", "re-seal the database under a new data key (gateway stopped; resumable)");
    rotate->add_option("-c,--config", config_path, "config file")->capture_default_str();
    auto* key_file =
        rotate->add_option("--new-key-file", rk.new_key_file, "file with the new key (64 hex)");
    auto* key_env = rotate->add_option("--new-key-env", rk.new_key_env,
                                       "environment variable with the new key (64 hex)");
    key_file->excludes(key_env);
    rotate->add_option("--batch-rows", rk.batch_rows, "rows per transaction")
        ->capture_default_str();

    CLI11_PARSE(cli, argc, argv);
    try {
        if (*serve) return gw::app::serve(config_path);
        if (*check) return gw::app::check(config_path, std::cout);
        if (*preview) return gw::app::preview(config_path, preview_file, std::cout);
        if (*backup) {
            bk.config_path = config_path;
            return gw::app::backup(bk, std::cout);
        }
        if (*rotate) {
            rk.config_path = config_path;
            return gw::app::rotate_key(rk, std::cout);
        }
        if (*operators) {
            op.config_path = config_path;
            return gw::app::add_operator(op, std::cin, std::cout);
        }
        sim.config_path = config_path;
        return gw::app::simulate(sim, std::cin, std::cout);
    } catch (const std::exception& e) {
        std::cerr << "fatal: " << e.what() << "\n";
        return 1;
    }
}

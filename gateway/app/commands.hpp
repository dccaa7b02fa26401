#pragma once
// The gateway's command-line verbs, callable from main and from tests.
#include <iosfwd>
#include <string>

namespace gw::app {

// `gateway serve`: runs until SIGINT/SIGTERM. Returns the process exit code.
int serve(const std::string& config_path);

// `gateway check`: validates config and menus; prints file:line problems
// and a per-screen page count; non-zero when anything is wrong.
int check(const std::string& config_path, std::ostream& out);

struct simulate_options {
    std::string config_path;
    std::string phone = "+996700000001";
    std::string store_path = ":memory:";  // the simulator never touches real data by default
};

struct add_operator_options {
    std::string config_path;
    std::string username;
    std::string display_name;
    std::string role = "operator";
};

// `gateway operator add`: creates a console account (the first supervisor
// is made this way). The password comes from GATEWAY_OPERATOR_PASSWORD or
// the first line of `in`; it is never taken from the command line.
int add_operator(const add_operator_options& options, std::istream& in, std::ostream& out);

// `gateway preview`: every screen, page by page, as a phone shows it (USSD
// and SMS, each language), with ids, page counts and REVIEW notes, written
// to `output` as one HTML file for reviewers. Non-zero when the menus
// have errors (the file is still written, to show them).
int preview(const std::string& config_path, const std::string& output, std::ostream& out);

// `gateway simulate`: walks the menus in a terminal as a phone would.
int simulate(const simulate_options& options, std::istream& in, std::ostream& out);

}  // namespace gw::app

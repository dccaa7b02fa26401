#include "support/temp_dir.hpp"

#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>

#include "support/test_sealer.hpp"

namespace gw::test {

temp_dir::temp_dir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (;;) {
        path_ = base / ("gw-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
        if (std::filesystem::create_directory(path_)) break;
    }
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

std::string source_path(const std::string& relative) {
    return (std::filesystem::path(GW_SOURCE_DIR) / relative).string();
}

std::string write_test_config(const temp_dir& dir, const std::string& extra,
                              const std::string& menus) {
    // A server section in `extra` gets the test's address and port added.
    const bool own_server =
        extra.rfind("server:\n", 0) == 0 || extra.find("\nserver:\n") != std::string::npos;
    std::string yaml =
        std::string(own_server ? "" : "server:\n  address: 127.0.0.1\n  port: 0\n") +
        "store:\n  sqlite_path: " + dir.file("gateway.db") +
        "\nmenus:\n  directory: " + (menus.empty() ? source_path("menus") : menus) + "\n" +
        (own_server ? std::regex_replace(extra, std::regex("(^|\n)server:\n"),
                                         "$1server:\n  address: 127.0.0.1\n  port: 0\n")
                    : extra);
    if (extra.find("referrals:") == std::string::npos)
        yaml += "referrals:\n  partners_file: " + source_path("config/partners.yaml") +
                "\n  rules_directory: " + source_path("referral-rules") + "\n";
    if (extra.find("ussd:") == std::string::npos)
        yaml += std::string("ussd:\n  token: ") + ussd_token + "\n";
    if (extra.find("privacy:") == std::string::npos)
        yaml += std::string("privacy:\n  data_key: ") + test_data_key + "\n";
    if (extra.find("console:") == std::string::npos)
        yaml += "console:\n  directory: " + source_path("gateway/console") +
                "\n  reply_templates: " + source_path("config/reply-templates.yaml") + "\n";
    return dir.write("gateway.yaml", yaml);
}

}  // namespace gw::test

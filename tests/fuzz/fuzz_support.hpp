#pragma once
// Shared by the fuzz targets: a gateway on an in-memory store with the
// shipped menus and the test partners, built once per process.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "app/gateway.hpp"
#include "common/log.hpp"

namespace gw::fuzz {

inline std::string source(const std::string& relative) {
    return std::string(GW_SOURCE_DIR) + "/" + relative;
}

inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        auto d = std::filesystem::temp_directory_path() / ("gw-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

inline app::gateway& shared_gateway() {
    static system_clock_source clock;
    static std::unique_ptr<app::gateway> gw = [] {
        auto path = scratch_dir() / "gateway.yaml";
        write_file(path,
                   "store: {sqlite_path: \":memory:\"}\n"
                   "menus: {directory: " +
                       source("menus") +
                       "}\n"
                       "limits: {ussd_per_number_per_minute: 0}\n"
                       "ussd: {token: fuzz}\n"
                       "sms: {per_number_limit: 0, per_channel_limit: 0, channels: {kannel: {auth: "
                       "none}}}\n"
                       "referrals: {partners_file: " +
                       source("tests/data/referral/partners.yaml") +
                       ", rules_directory: " + source("tests/data/referral/rules") +
                       "}\n"
                       "privacy: {data_key: "
                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff}\n"
                       "console: {directory: " +
                       source("gateway/console") +
                       ", reply_templates: " + source("config/reply-templates.yaml") +
                       "}\n"
                       "log: {level: off}\n");
        auto cfg = app::load_config(path.string());
        spdlog::set_level(spdlog::level::off);
        return std::make_unique<app::gateway>(cfg.value, clock);
    }();
    return *gw;
}

}  // namespace gw::fuzz

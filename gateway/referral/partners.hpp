#pragma once
// Partner organisations and their referral queues (config/partners.yaml):
// what they serve, when they work (Asia/Bishkek time, holidays), how many
// open referrals they take, and how they are reached (API token, webhook,
// focal-point phone for SMS).
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/diagnostic.hpp"
#include "common/phone.hpp"

namespace gw::referral {

// Minutes since local midnight, per weekday (0 = Monday), Bishkek time.
struct working_hours {
    struct span {
        int from_minute = 0;
        int to_minute = 0;
    };
    std::map<int, std::vector<span>> by_weekday;
    std::set<std::string> holidays;   // "2026-12-31", local dates
    int utc_offset_minutes = 6 * 60;  // Asia/Bishkek: UTC+6 all year (no DST since 2005)

    bool always_open() const { return by_weekday.empty(); }
    bool open_at(time_point t) const;
    // `t` plus `duration` of working time (the SLA clock only runs while open).
    time_point add_working_time(time_point t, std::chrono::minutes duration) const;
};

struct partner {
    std::string id;
    std::string name;  // as the programme writes it (logs, the partner API)
    // What operators and programme staff read, by language (`names:` in
    // partners.yaml; `check` wants one per menu language).
    std::map<std::string, std::string> names;
    std::set<std::string> oblasts;
    std::set<std::string> topics;
    std::set<std::string> languages;
    working_hours hours;
    std::size_t capacity = 0;      // open referrals at most; 0 = no limit
    std::string api_token;         // bearer token for the partner API (secret)
    std::string api_token_sha256;  // or only its SHA-256 (hex), so the file holds no secret
    std::string webhook_url;
    std::string webhook_secret;                        // "whsec_<base64>" (secret)
    std::string focal_phone;                           // E.164; may act by SMS
    std::string focal_language = "ru";                 // the language of the SMS to the focal point
    std::chrono::minutes acknowledge_within{24 * 60};  // working time
    gw::source_location where;
};

struct partner_directory {
    std::vector<partner> partners;
    const partner* find(const std::string& id) const;
    const partner* by_token(const std::string& token) const;  // constant-time compare
    const partner* by_focal_phone(const std::string& e164) const;
};

struct partners_result {
    partner_directory value;
    std::vector<gw::diagnostic> diagnostics;
};

// Reports unknown keys, dates that are not YYYY-MM-DD and focal phones that
// are not valid numbers (each with file:line); a focal phone written in a
// national form is kept as E.164, as inbound numbers are.
partners_result load_partners(const std::string& path,
                              const phone_normalizer& phones = phone_normalizer("KG", {}));
// Each partner has a name in each of `languages` (the menu's).
std::vector<gw::diagnostic> check_partner_names(const partner_directory& partners,
                                                const std::vector<std::string>& languages);

}  // namespace gw::referral

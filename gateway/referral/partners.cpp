#include "referral/partners.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/crypto.hpp"

namespace gw::referral {
namespace {

using namespace std::chrono;

struct local_time {
    int weekday;  // 0 = Monday
    int minute;   // since midnight
    std::string date;
    time_point midnight;  // start of that local day, as a UTC time point
};

local_time to_local(time_point t, int offset_minutes) {
    auto local = t + minutes(offset_minutes);
    auto days_since_epoch = floor<days>(local.time_since_epoch());
    std::time_t secs = duration_cast<seconds>(days_since_epoch).count();
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char date[16];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday);
    local_time out;
    out.weekday = (tm.tm_wday + 6) % 7;
    out.minute = static_cast<int>(
        duration_cast<minutes>(local.time_since_epoch() - days_since_epoch).count());
    out.date = date;
    out.midnight = time_point(duration_cast<system_clock::duration>(days_since_epoch)) -
                   minutes(offset_minutes);
    return out;
}

bool parse_hhmm(const std::string& s, int& minute) {
    int h = 0, m = 0;
    if (std::sscanf(s.c_str(), "%d:%d", &h, &m) != 2 || h < 0 || h > 24 || m < 0 || m > 59)
        return false;
    minute = h * 60 + m;
    return minute <= 24 * 60;
}

// A real calendar date written YYYY-MM-DD (07.01.2027 or 2027-1-7 is not).
bool iso_date(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (s[i] < '0' || s[i] > '9') return false;
    const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
              d = std::stoi(s.substr(8, 2));
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

const std::set<std::string> partner_keys = {"id",
                                            "name",
                                            "names",
                                            "oblasts",
                                            "topics",
                                            "languages",
                                            "working_hours",
                                            "holidays",
                                            "capacity",
                                            "acknowledge_within_hours",
                                            "api_token",
                                            "api_token_env",
                                            "api_token_sha256",
                                            "webhook_url",
                                            "webhook_secret",
                                            "webhook_secret_env",
                                            "focal_phone",
                                            "focal_language"};

}  // namespace

bool working_hours::open_at(time_point t) const {
    if (always_open()) return true;
    local_time l = to_local(t, utc_offset_minutes);
    if (holidays.count(l.date)) return false;
    auto it = by_weekday.find(l.weekday);
    if (it == by_weekday.end()) return false;
    for (const auto& s : it->second)
        if (l.minute >= s.from_minute && l.minute < s.to_minute) return true;
    return false;
}

time_point working_hours::add_working_time(time_point t, minutes duration) const {
    if (always_open()) return t + duration;
    auto left = duration_cast<system_clock::duration>(duration);
    // Walk day by day through open spans; bounded to a year of days.
    for (int day = 0; day < 366; ++day) {
        local_time l = to_local(t, utc_offset_minutes);
        auto it = by_weekday.find(l.weekday);
        if (!holidays.count(l.date) && it != by_weekday.end()) {
            for (const auto& s : it->second) {
                time_point from = l.midnight + minutes(s.from_minute);
                time_point to = l.midnight + minutes(s.to_minute);
                if (to <= t) continue;
                time_point start = std::max(from, t);
                if (to - start >= left) return start + left;
                left -= to - start;
            }
        }
        t = l.midnight + hours(24);
    }
    return t + left;
}

const partner* partner_directory::find(const std::string& id) const {
    for (const auto& p : partners)
        if (p.id == id) return &p;
    return nullptr;
}

const partner* partner_directory::by_token(const std::string& token) const {
    if (token.empty()) return nullptr;
    const std::string digest = sha256_hex(token);
    const partner* found = nullptr;
    for (const auto& p : partners) {
        if (!p.api_token.empty() && constant_time_equal(p.api_token, token)) found = &p;
        if (!p.api_token_sha256.empty() && constant_time_equal(p.api_token_sha256, digest))
            found = &p;
    }
    return found;
}

const partner* partner_directory::by_focal_phone(const std::string& e164) const {
    for (const auto& p : partners)
        if (!p.focal_phone.empty() && p.focal_phone == e164) return &p;
    return nullptr;
}

partners_result load_partners(const std::string& path, const phone_normalizer& phones) {
    partners_result r;
    auto& d = r.diagnostics;
    auto at = [&](const YAML::Node& n) { return gw::source_location{path, n.Mark().line + 1}; };
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        d.push_back({{path, 0}, "cannot read the partners file"});
        return r;
    } catch (const YAML::Exception& e) {
        d.push_back({{path, e.mark.line + 1}, e.msg});
        return r;
    }
    if (!root.IsMap() || !root["partners"] || !root["partners"].IsSequence()) {
        d.push_back({{path, 1}, "expected a `partners:` list"});
        return r;
    }
    static const char* weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (const auto& n : root["partners"]) {
        partner p;
        p.where = at(n);
        if (!n.IsMap()) {
            d.push_back({p.where, "each partner must be a map of keys"});
            continue;
        }
        try {
            // A misspelt key (capasity) would silently mean the default (no limit).
            for (const auto& kv : n)
                if (!partner_keys.count(kv.first.as<std::string>()))
                    d.push_back({at(kv.first), "partner " + n["id"].as<std::string>("") +
                                                   ": unknown key " + kv.first.as<std::string>()});
            p.id = n["id"].as<std::string>("");
            p.name = n["name"].as<std::string>("");
            if (const auto names = n["names"]; names) {
                if (!names.IsMap())
                    d.push_back({at(names),
                                 "partner " + p.id + ": names must be a map of language -> name"});
                else
                    for (const auto& kv : names)
                        p.names[kv.first.as<std::string>()] = kv.second.as<std::string>("");
            }
            if (p.id.empty()) d.push_back({p.where, "partner without id"});
            if (r.value.find(p.id)) d.push_back({p.where, "duplicate partner id " + p.id});
            for (const char* key : {"oblasts", "topics", "languages"}) {
                if (!n[key]) continue;
                auto& into = std::string(key) == "oblasts"  ? p.oblasts
                             : std::string(key) == "topics" ? p.topics
                                                            : p.languages;
                for (const auto& v : n[key]) into.insert(v.as<std::string>());
            }
            p.capacity = n["capacity"].as<std::size_t>(0);
            p.acknowledge_within =
                minutes(static_cast<long long>(n["acknowledge_within_hours"].as<double>(24) * 60));
            if (const auto phone = n["focal_phone"]; phone) {
                // Her SMS commands are matched on E.164: an invalid number
                // means the focal point's ACCEPT/DECLINE would be ignored.
                const std::string raw = phone.as<std::string>();
                if (auto e164 = phones.to_e164(raw); e164)
                    p.focal_phone = *e164;
                else if (!raw.empty())
                    d.push_back({at(phone), "partner " + p.id + ": focal_phone " + raw +
                                                " is not a valid phone number (write +996...)"});
            }
            p.focal_language = n["focal_language"].as<std::string>("ru");
            p.webhook_url = n["webhook_url"].as<std::string>("");
            auto secret = [&](const char* key) -> std::string {
                std::string env = n[std::string(key) + "_env"].as<std::string>("");
                if (!env.empty()) {
                    const char* v = std::getenv(env.c_str());
                    if (!v)
                        d.push_back(
                            {p.where,
                             "partner " + p.id + ": environment variable " + env + " is not set",
                             true});
                    return v ? v : "";
                }
                return n[key].as<std::string>("");
            };
            p.api_token = secret("api_token");
            p.api_token_sha256 = n["api_token_sha256"].as<std::string>("");
            p.webhook_secret = secret("webhook_secret");
            if (const auto hours = n["working_hours"]; hours) {
                for (const auto& kv : hours) {
                    const std::string day = kv.first.as<std::string>();
                    if (std::find(std::begin(weekdays), std::end(weekdays), day) ==
                        std::end(weekdays))
                        d.push_back({at(kv.first), "partner " + p.id + ": unknown weekday " + day +
                                                       " (mon, tue, wed, thu, fri, sat, sun)"});
                }
                for (int w = 0; w < 7; ++w) {
                    const auto spans = hours[weekdays[w]];
                    if (!spans) continue;
                    for (const auto& s : spans) {
                        std::string text = s.as<std::string>();
                        auto dash = text.find('-');
                        working_hours::span span;
                        if (dash == std::string::npos ||
                            !parse_hhmm(text.substr(0, dash), span.from_minute) ||
                            !parse_hhmm(text.substr(dash + 1), span.to_minute) ||
                            span.to_minute <= span.from_minute) {
                            d.push_back({at(s), "working hours must look like 09:00-18:00"});
                            continue;
                        }
                        p.hours.by_weekday[w].push_back(span);
                    }
                }
            }
            if (const auto hol = n["holidays"]; hol) {
                for (const auto& h : hol) {
                    const std::string date = h.as<std::string>();
                    if (iso_date(date))
                        p.hours.holidays.insert(date);
                    else
                        d.push_back({at(h), "partner " + p.id + ": holiday " + date +
                                                " must be written YYYY-MM-DD (e.g. 2027-01-07)"});
                }
            }
        } catch (const YAML::Exception& e) {
            d.push_back({p.where, "partner " + p.id + ": " + e.msg});
            continue;
        }
        r.value.partners.push_back(std::move(p));
    }
    return r;
}

std::vector<gw::diagnostic> check_partner_names(const partner_directory& partners,
                                                const std::vector<std::string>& languages) {
    std::vector<gw::diagnostic> d;
    for (const auto& p : partners.partners)
        for (const auto& lang : languages) {
            auto it = p.names.find(lang);
            if (it == p.names.end() || it->second.empty())
                d.push_back({p.where, "partner " + p.id + ": names." + lang +
                                          " is missing (operators and programme staff read it)"});
        }
    return d;
}

}  // namespace gw::referral

#pragma once
// The programme dashboard (issue #15), without HTTP: cases per week by
// topic, oblast, channel and target group; what became of each partner's
// referrals; SMS per channel. Built from the store's anonymous counts and
// published only through small-count suppression (service/small_counts):
// each response is one suppression problem, so a week's total is hidden or
// shown alike in every table. Not protected: differencing two responses
// (two periods a day apart, one oblast against all) — a limit of
// per-response suppression.
#include <optional>
#include <string>
#include <vector>

#include "service/small_counts.hpp"
#include "store/reporting.hpp"

namespace gw::service {

// Whole UTC days, both inclusive.
struct dashboard_period {
    std::string from, to;  // YYYY-MM-DD
    std::string oblast;    // "" = all
};

inline constexpr int dashboard_default_weeks = 12;
inline constexpr int dashboard_max_days = 731;

// The period asked for ("" = the default: the 12 ISO weeks up to `today`,
// this one included; oblast "" or "all" = all), checked; nullopt and
// `error` (English, for a 400) when a date is not a real YYYY-MM-DD, from
// is after to, the period is longer than dashboard_max_days or the oblast
// is not an id ([a-z0-9_-]{1,64}).
std::optional<dashboard_period> dashboard_period_of(const std::string& from, const std::string& to,
                                                    const std::string& oblast, long long now,
                                                    std::string& error);

// A count as it may be published.
struct published_count {
    long long value = 0;  // never to be shown unless state is shown
    cell_state state = cell_state::shown;
};

// Weeks down, one kind (topics, oblasts, ...) across.
struct week_table {
    std::vector<std::string> columns;                 // values seen in the period, sorted
    std::vector<std::vector<published_count>> cells;  // [week][column]
    std::vector<published_count> week_totals;         // shared by the four tables
    std::vector<published_count> column_totals;
    published_count total;  // shared by the four tables
};

struct funnel_row {
    std::string partner;  // "" in the total row
    published_count created, accepted, done, declined, overdue, rerouted, answered;
    published_count sla_total, sla_kept, sla_missed;
    std::optional<double> first_contact_hours;  // unset when `answered` is not shown
    std::optional<double> sla_kept_percent;     // unset unless kept and total are shown
};

struct sms_row {
    std::string channel;  // "" in the total row
    published_count messages, queued, sent, delivered, failed, no_report, dead;
    std::optional<double> delivery_rate_percent;  // unset unless delivered and sent are shown
};

struct dashboard {
    dashboard_period period;
    std::vector<std::string> weeks;  // each Monday of the period, oldest first
    week_table by_topic, by_oblast, by_channel, by_target_group;
    std::vector<funnel_row> referrals;  // by partner id
    funnel_row referrals_total;
    std::vector<sms_row> sms;  // by channel
    sms_row sms_total;
};

// What a kind's empty value (the menu did not ask) is called.
inline constexpr const char* unspecified_value = "unspecified";

dashboard build_dashboard(store::reporting_store& store, const dashboard_period& period,
                          long long now);

}  // namespace gw::service

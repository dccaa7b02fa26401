#include "service/dashboard.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

namespace gw::service {
namespace {

using namespace std::chrono;

std::optional<sys_days> parse_date(const std::string& s) {
    static const std::regex shape("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    if (!std::regex_match(s, shape)) return std::nullopt;
    const year_month_day d{year{std::stoi(s.substr(0, 4))},
                           month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                           day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
    if (!d.ok()) return std::nullopt;
    return sys_days(d);
}

std::string format_date(sys_days d) {
    const year_month_day ymd(d);
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return out;
}

sys_days monday_of(sys_days d) {
    const unsigned since_monday = (weekday(d).c_encoding() + 6) % 7;
    return d - days(since_monday);
}

long long unix_seconds(sys_days d) {
    return duration_cast<seconds>(d.time_since_epoch()).count();
}

// Cells of one suppression problem, read back once it is solved.
class cells {
  public:
    std::size_t add(long long v) { return table_.add(v); }
    void sum(std::size_t total, std::vector<std::size_t> parts) {
        table_.add_sum(total, std::move(parts));
    }
    void solve() { states_ = suppress_small_counts(table_); }
    published_count operator[](std::size_t i) const { return {table_.values()[i], states_.at(i)}; }

  private:
    count_table table_;
    std::vector<cell_state> states_;
};

std::optional<double> one_decimal(double v) {
    return std::round(v * 10.0) / 10.0;
}

std::optional<double> percent(const published_count& part, const published_count& whole) {
    if (part.state != cell_state::shown || whole.state != cell_state::shown || whole.value <= 0)
        return std::nullopt;
    return one_decimal(100.0 * static_cast<double>(part.value) / static_cast<double>(whole.value));
}

// One kind of the weeks tables, as cell indexes until solved.
struct week_cells {
    std::vector<std::string> columns;
    std::vector<std::vector<std::size_t>> cell;  // [week][column]
    std::vector<std::size_t> column_total;
};

week_cells add_week_table(cells& c, const std::vector<store::case_count>& rows,
                          const std::map<std::string, std::size_t>& week_index,
                          const std::vector<std::size_t>& week_total, std::size_t grand,
                          const std::function<std::string(const store::case_count&)>& kind) {
    std::set<std::string> seen;
    for (const auto& r : rows) seen.insert(kind(r).empty() ? unspecified_value : kind(r));
    week_cells w;
    w.columns.assign(seen.begin(), seen.end());
    std::map<std::string, std::size_t> column;
    for (std::size_t i = 0; i < w.columns.size(); ++i) column[w.columns[i]] = i;
    std::vector<std::vector<long long>> value(week_total.size(),
                                              std::vector<long long>(w.columns.size(), 0));
    for (const auto& r : rows) {
        auto week = week_index.find(r.week);
        if (week == week_index.end()) continue;  // not expected: the store filters the period
        value[week->second][column[kind(r).empty() ? unspecified_value : kind(r)]] += r.count;
    }
    std::vector<long long> per_column(w.columns.size(), 0);
    for (const auto& week : value) {
        w.cell.emplace_back();
        for (std::size_t k = 0; k < week.size(); ++k) {
            w.cell.back().push_back(c.add(week[k]));
            per_column[k] += week[k];
        }
        c.sum(week_total[w.cell.size() - 1], w.cell.back());
    }
    for (std::size_t k = 0; k < w.columns.size(); ++k) {
        w.column_total.push_back(c.add(per_column[k]));
        std::vector<std::size_t> parts;
        for (const auto& week : w.cell) parts.push_back(week[k]);
        c.sum(w.column_total.back(), parts);
    }
    c.sum(grand, w.column_total);
    return w;
}

week_table publish(const cells& c, const week_cells& w, const std::vector<std::size_t>& week_total,
                   std::size_t grand) {
    week_table t;
    t.columns = w.columns;
    for (const auto& week : w.cell) {
        t.cells.emplace_back();
        for (std::size_t i : week) t.cells.back().push_back(c[i]);
    }
    for (std::size_t i : week_total) t.week_totals.push_back(c[i]);
    for (std::size_t i : w.column_total) t.column_totals.push_back(c[i]);
    t.total = c[grand];
    return t;
}

// A partner's funnel as cell indexes; the two not published ("not
// accepted", "accepted, not done") are there because the difference of
// two shown counts would give them away.
struct funnel_cells {
    std::size_t created, accepted, done, declined, overdue, rerouted, answered;
    std::size_t sla_total, sla_kept, sla_missed, not_accepted, not_done;
    double answer_hours = 0;
    long long answered_n = 0;
};

std::vector<std::size_t funnel_cells::*> funnel_members() {
    return {&funnel_cells::created,    &funnel_cells::accepted,     &funnel_cells::done,
            &funnel_cells::declined,   &funnel_cells::overdue,      &funnel_cells::rerouted,
            &funnel_cells::answered,   &funnel_cells::sla_total,    &funnel_cells::sla_kept,
            &funnel_cells::sla_missed, &funnel_cells::not_accepted, &funnel_cells::not_done};
}

funnel_cells add_funnel(cells& c, const store::partner_funnel& f) {
    funnel_cells x;
    x.created = c.add(f.created);
    x.accepted = c.add(f.accepted);
    x.done = c.add(f.done);
    x.declined = c.add(f.declined);
    x.overdue = c.add(f.overdue);
    x.rerouted = c.add(f.rerouted);
    x.answered = c.add(f.answered);
    x.sla_total = c.add(f.sla_total);
    x.sla_kept = c.add(f.sla_kept);
    x.sla_missed = c.add(f.sla_total - f.sla_kept);
    x.not_accepted = c.add(f.created - f.accepted);
    x.not_done = c.add(f.accepted - f.done);
    x.answer_hours = f.answer_hours;
    x.answered_n = f.answered;
    c.sum(x.created, {x.accepted, x.not_accepted});
    c.sum(x.accepted, {x.done, x.not_done});
    c.sum(x.sla_total, {x.sla_kept, x.sla_missed});
    return x;
}

funnel_row publish(const cells& c, const funnel_cells& x, const std::string& partner) {
    funnel_row r;
    r.partner = partner;
    r.created = c[x.created];
    r.accepted = c[x.accepted];
    r.done = c[x.done];
    r.declined = c[x.declined];
    r.overdue = c[x.overdue];
    r.rerouted = c[x.rerouted];
    r.answered = c[x.answered];
    r.sla_total = c[x.sla_total];
    r.sla_kept = c[x.sla_kept];
    r.sla_missed = c[x.sla_missed];
    if (r.answered.state == cell_state::shown && r.answered.value > 0)
        r.first_contact_hours = one_decimal(x.answer_hours);
    r.sla_kept_percent = percent(r.sla_kept, r.sla_total);
    return r;
}

struct sms_cells {
    std::size_t messages, queued, sent, delivered, failed, no_report, dead;
};

std::vector<std::size_t sms_cells::*> sms_members() {
    return {&sms_cells::messages, &sms_cells::queued,    &sms_cells::sent, &sms_cells::delivered,
            &sms_cells::failed,   &sms_cells::no_report, &sms_cells::dead};
}

struct sms_values {
    long long queued = 0, delivered = 0, failed = 0, no_report = 0, dead = 0;
};

sms_cells add_sms(cells& c, const sms_values& v) {
    sms_cells x;
    const long long sent = v.delivered + v.failed + v.no_report;
    x.messages = c.add(v.queued + sent + v.dead);
    x.queued = c.add(v.queued);
    x.sent = c.add(sent);
    x.delivered = c.add(v.delivered);
    x.failed = c.add(v.failed);
    x.no_report = c.add(v.no_report);
    x.dead = c.add(v.dead);
    c.sum(x.messages, {x.queued, x.sent, x.dead});
    c.sum(x.sent, {x.delivered, x.failed, x.no_report});
    return x;
}

sms_row publish(const cells& c, const sms_cells& x, const std::string& channel) {
    sms_row r;
    r.channel = channel;
    r.messages = c[x.messages];
    r.queued = c[x.queued];
    r.sent = c[x.sent];
    r.delivered = c[x.delivered];
    r.failed = c[x.failed];
    r.no_report = c[x.no_report];
    r.dead = c[x.dead];
    r.delivery_rate_percent = percent(r.delivered, r.sent);
    return r;
}

// Column sums over rows: every member of the total row is the sum of the
// same member of each row.
template <class Row>
void add_column_sums(cells& c, const std::vector<Row>& rows, const Row& total,
                     const std::vector<std::size_t Row::*>& members) {
    for (auto m : members) {
        std::vector<std::size_t> parts;
        for (const auto& r : rows) parts.push_back(r.*m);
        c.sum(total.*m, parts);
    }
}

}  // namespace

std::optional<dashboard_period> dashboard_period_of(const std::string& from, const std::string& to,
                                                    const std::string& oblast, long long now,
                                                    std::string& error) {
    const sys_days today = floor<days>(sys_seconds(seconds(now)));
    std::optional<sys_days> f, t;
    if (to.empty())
        t = today;
    else if (!(t = parse_date(to))) {
        error = "to must be a date YYYY-MM-DD";
        return std::nullopt;
    }
    if (from.empty())
        f = monday_of(*t) - weeks(dashboard_default_weeks - 1);
    else if (!(f = parse_date(from))) {
        error = "from must be a date YYYY-MM-DD";
        return std::nullopt;
    }
    if (*f > *t) {
        error = "from must not be after to";
        return std::nullopt;
    }
    if ((*t - *f).count() + 1 > dashboard_max_days) {
        error = "the period must be at most " + std::to_string(dashboard_max_days) + " days";
        return std::nullopt;
    }
    static const std::regex id("[a-z0-9_-]{1,64}");
    if (!oblast.empty() && oblast != "all" && !std::regex_match(oblast, id)) {
        error = "oblast must be an oblast id or all";
        return std::nullopt;
    }
    return dashboard_period{format_date(*f), format_date(*t), oblast == "all" ? "" : oblast};
}

dashboard build_dashboard(store::reporting_store& store, const dashboard_period& period,
                          long long now) {
    const sys_days from = *parse_date(period.from), to = *parse_date(period.to);
    const store::dashboard_filter filter{unix_seconds(from), unix_seconds(to + days(1)),
                                         period.oblast};
    dashboard d;
    d.period = period;
    std::map<std::string, std::size_t> week_index;
    for (sys_days w = monday_of(from); w <= to; w += weeks(1)) {
        week_index[format_date(w)] = d.weeks.size();
        d.weeks.push_back(format_date(w));
    }

    // One problem for the whole response: the four weeks tables share their
    // week totals and grand total, which must be hidden or shown alike.
    cells c;
    const auto case_rows = store.case_counts(filter);
    std::vector<long long> per_week(d.weeks.size(), 0);
    for (const auto& r : case_rows) {
        auto w = week_index.find(r.week);
        if (w != week_index.end()) per_week[w->second] += r.count;
    }
    std::vector<std::size_t> week_total;
    long long all = 0;
    for (long long n : per_week) {
        week_total.push_back(c.add(n));
        all += n;
    }
    const std::size_t grand = c.add(all);
    c.sum(grand, week_total);
    auto topic = add_week_table(c, case_rows, week_index, week_total, grand,
                                [](const store::case_count& r) { return r.topic; });
    auto oblast = add_week_table(c, case_rows, week_index, week_total, grand,
                                 [](const store::case_count& r) { return r.oblast; });
    auto channel = add_week_table(c, case_rows, week_index, week_total, grand,
                                  [](const store::case_count& r) { return r.channel; });
    auto group = add_week_table(c, case_rows, week_index, week_total, grand,
                                [](const store::case_count& r) { return r.target_group; });

    const auto funnel_rows = store.referral_funnel(filter, now);
    std::vector<funnel_cells> funnels;
    store::partner_funnel sum;
    double hours = 0;
    for (const auto& f : funnel_rows) {
        funnels.push_back(add_funnel(c, f));
        sum.created += f.created;
        sum.accepted += f.accepted;
        sum.done += f.done;
        sum.declined += f.declined;
        sum.overdue += f.overdue;
        sum.rerouted += f.rerouted;
        sum.answered += f.answered;
        sum.sla_total += f.sla_total;
        sum.sla_kept += f.sla_kept;
        hours += f.answer_hours * static_cast<double>(f.answered);
    }
    if (sum.answered > 0) sum.answer_hours = hours / static_cast<double>(sum.answered);
    const funnel_cells funnel_total = add_funnel(c, sum);
    add_column_sums(c, funnels, funnel_total, funnel_members());

    std::map<std::string, sms_values> by_channel;
    for (const auto& r : store.sms_counts(filter)) {
        auto& v = by_channel[r.channel];
        switch (r.status) {
            case store::message_status::delivered:
                v.delivered += r.count;
                break;
            case store::message_status::failed:
                v.failed += r.count;
                break;
            case store::message_status::sent:
                v.no_report += r.count;
                break;
            case store::message_status::dead:
                v.dead += r.count;
                break;
            case store::message_status::queued:
            case store::message_status::sending:
                v.queued += r.count;
                break;
        }
    }
    std::vector<sms_cells> sms;
    sms_values sms_sum;
    for (const auto& [name, v] : by_channel) {
        sms.push_back(add_sms(c, v));
        sms_sum.queued += v.queued;
        sms_sum.delivered += v.delivered;
        sms_sum.failed += v.failed;
        sms_sum.no_report += v.no_report;
        sms_sum.dead += v.dead;
    }
    const sms_cells sms_total = add_sms(c, sms_sum);
    add_column_sums(c, sms, sms_total, sms_members());

    c.solve();
    d.by_topic = publish(c, topic, week_total, grand);
    d.by_oblast = publish(c, oblast, week_total, grand);
    d.by_channel = publish(c, channel, week_total, grand);
    d.by_target_group = publish(c, group, week_total, grand);
    for (std::size_t i = 0; i < funnels.size(); ++i)
        d.referrals.push_back(publish(c, funnels[i], funnel_rows[i].partner));
    d.referrals_total = publish(c, funnel_total, "");
    std::size_t i = 0;
    for (const auto& [name, v] : by_channel) d.sms.push_back(publish(c, sms[i++], name));
    d.sms_total = publish(c, sms_total, "");
    return d;
}

}  // namespace gw::service

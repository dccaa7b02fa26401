#include "app/dashboard_api.hpp"

#include <cstdio>
#include <sstream>

#include "app/json_http.hpp"
#include "common/form.hpp"
#include "service/dashboard.hpp"

namespace gw::app {
namespace {

using nlohmann::json;
using service::cell_state;
using service::published_count;

// What a suppressed count is published as.
constexpr const char* small_mark = "<5";
constexpr const char* hidden_mark = "x";

json count_json(const published_count& c) {
    switch (c.state) {
        case cell_state::shown:
            return c.value;
        case cell_state::small:
            return small_mark;
        case cell_state::hidden:
            return hidden_mark;
    }
    return hidden_mark;
}

std::string count_text(const published_count& c) {
    return c.state == cell_state::shown ? std::to_string(c.value)
                                        : count_json(c).get<std::string>();
}

json rate_json(const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
}

std::string rate_text(const std::optional<double>& v) {
    if (!v) return "";
    char out[32];
    std::snprintf(out, sizeof out, "%.1f", *v);
    return out;
}

json table_json(const service::week_table& t, const std::vector<std::string>& weeks) {
    json rows = json::array();
    for (std::size_t w = 0; w < weeks.size(); ++w) {
        json counts = json::object();
        for (std::size_t k = 0; k < t.columns.size(); ++k)
            counts[t.columns[k]] = count_json(t.cells[w][k]);
        rows.push_back(
            {{"week", weeks[w]}, {"counts", counts}, {"total", count_json(t.week_totals[w])}});
    }
    json totals = json::object();
    for (std::size_t k = 0; k < t.columns.size(); ++k)
        totals[t.columns[k]] = count_json(t.column_totals[k]);
    return {
        {"columns", t.columns}, {"rows", rows}, {"totals", totals}, {"total", count_json(t.total)}};
}

json funnel_json(const service::funnel_row& r) {
    return {{"partner", r.partner},
            {"created", count_json(r.created)},
            {"accepted", count_json(r.accepted)},
            {"done", count_json(r.done)},
            {"declined", count_json(r.declined)},
            {"overdue", count_json(r.overdue)},
            {"rerouted", count_json(r.rerouted)},
            {"answered", count_json(r.answered)},
            {"first_contact_hours", rate_json(r.first_contact_hours)},
            {"sla_total", count_json(r.sla_total)},
            {"sla_kept", count_json(r.sla_kept)},
            {"sla_missed", count_json(r.sla_missed)},
            {"sla_kept_percent", rate_json(r.sla_kept_percent)}};
}

json sms_json(const service::sms_row& r) {
    return {{"channel", r.channel},
            {"messages", count_json(r.messages)},
            {"queued", count_json(r.queued)},
            {"sent", count_json(r.sent)},
            {"delivered", count_json(r.delivered)},
            {"failed", count_json(r.failed)},
            {"no_report", count_json(r.no_report)},
            {"dead", count_json(r.dead)},
            {"delivery_rate_percent", rate_json(r.delivery_rate_percent)}};
}

json dashboard_json(const service::dashboard& d) {
    json funnel = json::array(), sms = json::array();
    for (const auto& r : d.referrals) funnel.push_back(funnel_json(r));
    for (const auto& r : d.sms) sms.push_back(sms_json(r));
    return {{"period",
             {{"from", d.period.from},
              {"to", d.period.to},
              {"oblast", d.period.oblast.empty() ? "all" : d.period.oblast},
              {"weeks", d.weeks}}},
            {"suppression",
             {{"below", service::suppress_below}, {"small", small_mark}, {"hidden", hidden_mark}}},
            {"cases",
             {{"topic", table_json(d.by_topic, d.weeks)},
              {"oblast", table_json(d.by_oblast, d.weeks)},
              {"channel", table_json(d.by_channel, d.weeks)},
              {"target_group", table_json(d.by_target_group, d.weeks)}}},
            {"referrals", {{"rows", funnel}, {"total", funnel_json(d.referrals_total)}}},
            {"sms", {{"rows", sms}, {"total", sms_json(d.sms_total)}}}};
}

void csv_line(std::ostringstream& out, const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i)
        out << (i ? "," : "") << service::csv_field(fields[i]);
    out << '\n';
}

void table_csv(std::ostringstream& out, const std::string& title, const service::week_table& t,
               const std::vector<std::string>& weeks) {
    csv_line(out, {title});
    std::vector<std::string> header{"week"};
    header.insert(header.end(), t.columns.begin(), t.columns.end());
    header.push_back("total");
    csv_line(out, header);
    for (std::size_t w = 0; w < weeks.size(); ++w) {
        std::vector<std::string> line{weeks[w]};
        for (const auto& c : t.cells[w]) line.push_back(count_text(c));
        line.push_back(count_text(t.week_totals[w]));
        csv_line(out, line);
    }
    std::vector<std::string> totals{"total"};
    for (const auto& c : t.column_totals) totals.push_back(count_text(c));
    totals.push_back(count_text(t.total));
    csv_line(out, totals);
    out << '\n';
}

std::vector<std::string> funnel_fields(const service::funnel_row& r, const std::string& name) {
    return {name,
            count_text(r.created),
            count_text(r.accepted),
            count_text(r.done),
            count_text(r.declined),
            count_text(r.overdue),
            count_text(r.rerouted),
            count_text(r.answered),
            rate_text(r.first_contact_hours),
            count_text(r.sla_total),
            count_text(r.sla_kept),
            count_text(r.sla_missed),
            rate_text(r.sla_kept_percent)};
}

std::vector<std::string> sms_fields(const service::sms_row& r, const std::string& name) {
    return {name,
            count_text(r.messages),
            count_text(r.queued),
            count_text(r.sent),
            count_text(r.delivered),
            count_text(r.failed),
            count_text(r.no_report),
            count_text(r.dead),
            rate_text(r.delivery_rate_percent)};
}

std::string dashboard_csv(const service::dashboard& d) {
    std::ostringstream out;
    table_csv(out, "cases by week and topic", d.by_topic, d.weeks);
    table_csv(out, "cases by week and oblast", d.by_oblast, d.weeks);
    table_csv(out, "cases by week and channel", d.by_channel, d.weeks);
    table_csv(out, "cases by week and target group", d.by_target_group, d.weeks);
    csv_line(out, {"referrals by partner"});
    csv_line(out, {"partner", "created", "accepted", "done", "declined", "overdue", "rerouted",
                   "answered", "first_contact_hours", "sla_total", "sla_kept", "sla_missed",
                   "sla_kept_percent"});
    for (const auto& r : d.referrals) csv_line(out, funnel_fields(r, r.partner));
    csv_line(out, funnel_fields(d.referrals_total, "all partners"));
    out << '\n';
    csv_line(out, {"sms by channel"});
    csv_line(out, {"channel", "messages", "queued", "sent", "delivered", "failed", "no_report",
                   "dead", "delivery_rate_percent"});
    for (const auto& r : d.sms) csv_line(out, sms_fields(r, r.channel));
    csv_line(out, sms_fields(d.sms_total, "all channels"));
    return out.str();
}

}  // namespace

http::response handle_dashboard(const http::request& req, const service::operator_identity& who,
                                service::hotline_service& hotline) {
    if (req.method != "GET") return json_error(405, "method not allowed");
    if (!who.sees_dashboard())
        return json_error(403, "the dashboard is for supervisors and programme staff");
    const bool csv = req.path.size() >= 4 && req.path.compare(req.path.size() - 4, 4, ".csv") == 0;

    auto query = parse_form(req.query);
    if (!query) return json_error(400, "bad query string");
    for (const auto& [name, value] : query->all())
        if (name != "from" && name != "to" && name != "oblast")
            return json_error(400, "unknown parameter (from, to and oblast only)");
    auto field = [&](const char* name) {
        const std::string* v = query->find(name);
        return v ? *v : std::string();
    };
    const long long now = to_unix_seconds(hotline.dashboard_clock().now());
    std::string error;
    auto period =
        service::dashboard_period_of(field("from"), field("to"), field("oblast"), now, error);
    if (!period) return json_error(400, error);

    auto& store = hotline.dashboard_store();
    const auto d = service::build_dashboard(store, *period, now);
    if (!csv) return json_response(200, dashboard_json(d));

    store.record_audit({now, who.actor(), "exported_statistics", 0, "dashboard"});
    http::response r;
    r.content_type = "text/csv; charset=utf-8";
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"hotline-dashboard-" +
                                                      d.period.from + "-" + d.period.to + ".csv\"");
    r.body = dashboard_csv(d);
    return r;
}

}  // namespace gw::app

// The programme dashboard's counts: groups only, never a row of one woman.
// Weeks are ISO weeks in UTC, named by their Monday (as with SQLite).
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {
namespace {

const statement sql_case_counts{
    "SELECT to_char(date_trunc('week', to_timestamp(created_at) AT TIME ZONE 'UTC'), "
    "'YYYY-MM-DD') AS week, topic, oblast, channel, target_group, count(*) AS n FROM cases "
    "WHERE created_at >= :from::bigint AND created_at < :to::bigint AND (:oblast::text = '' OR "
    "oblast = :oblast::text) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"};

// As sqlite/dashboard.cpp: the first answer is what partner_response
// measures; "done" is a close by the partner; overdue as the SLA sweep sees it.
const statement sql_referral_funnel{
    "SELECT r.partner AS partner, count(*) AS created, "
    "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id "
    "AND e.action = 'accepted')) AS accepted, "
    "count(*) FILTER (WHERE r.status = 'closed' AND EXISTS (SELECT 1 FROM referral_events e "
    "WHERE e.referral_id = r.id AND e.action = 'closed' AND (e.actor LIKE 'partner:%' OR "
    "e.actor LIKE 'sms:%'))) AS done, "
    "count(*) FILTER (WHERE r.status = 'declined') AS declined, "
    "count(*) FILTER (WHERE r.status = 'overdue' OR (r.status = 'new' AND r.due_at > 0 AND "
    "r.due_at < :now::bigint)) AS overdue, "
    "count(*) FILTER (WHERE r.status IN ('declined', 'overdue', 'revoked') AND EXISTS (SELECT 1 "
    "FROM referrals n WHERE n.case_id = r.case_id AND n.id > r.id)) AS rerouted, "
    "count(f.first_at) AS answered, "
    "coalesce(avg((f.first_at - r.created_at) / 3600.0), 0)::float8 AS answer_hours, "
    "count(*) FILTER (WHERE r.due_at > 0 AND (f.first_at IS NOT NULL OR r.due_at < "
    ":now::bigint)) AS sla_total, "
    "count(*) FILTER (WHERE r.due_at > 0 AND f.first_at <= r.due_at) AS sla_kept "
    "FROM referrals r JOIN cases c ON c.id = r.case_id "
    "LEFT JOIN (SELECT referral_id, min(at) AS first_at FROM referral_events WHERE action IN "
    "('accepted', 'declined') GROUP BY referral_id) f ON f.referral_id = r.id "
    "WHERE r.partner <> '' AND r.created_at >= :from::bigint AND r.created_at < :to::bigint AND "
    "(:oblast::text = '' OR c.oblast = :oblast::text) GROUP BY r.partner ORDER BY r.partner"};

const statement sql_sms_counts{
    "SELECT channel, status, count(*) AS n FROM outbox WHERE created_at >= :from::bigint AND "
    "created_at < :to::bigint AND channel NOT LIKE 'webhook:%' GROUP BY channel, status "
    "ORDER BY 1, 2"};

params period(const dashboard_filter& f) {
    return params().set(":from", f.from).set(":to", f.to);
}

}  // namespace

std::vector<case_count> pg_reporting::case_counts(const dashboard_filter& f) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<case_count> out;
        for (const auto& row : u.exec(sql_case_counts, period(f).set(":oblast", f.oblast))) {
            case_count r;
            r.week = row["week"].as<std::string>();
            r.topic = row["topic"].as<std::string>();
            r.oblast = row["oblast"].as<std::string>();
            r.channel = row["channel"].as<std::string>();
            r.target_group = row["target_group"].as<std::string>();
            r.count = row["n"].as<long long>();
            out.push_back(std::move(r));
        }
        return out;
    });
}

std::vector<partner_funnel> pg_reporting::referral_funnel(const dashboard_filter& f,
                                                          long long now) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<partner_funnel> out;
        for (const auto& row :
             u.exec(sql_referral_funnel, period(f).set(":oblast", f.oblast).set(":now", now))) {
            partner_funnel r;
            r.partner = row["partner"].as<std::string>();
            r.created = row["created"].as<long long>();
            r.accepted = row["accepted"].as<long long>();
            r.done = row["done"].as<long long>();
            r.declined = row["declined"].as<long long>();
            r.overdue = row["overdue"].as<long long>();
            r.rerouted = row["rerouted"].as<long long>();
            r.answered = row["answered"].as<long long>();
            r.answer_hours = row["answer_hours"].as<double>();
            r.sla_total = row["sla_total"].as<long long>();
            r.sla_kept = row["sla_kept"].as<long long>();
            out.push_back(std::move(r));
        }
        return out;
    });
}

std::vector<sms_count> pg_reporting::sms_counts(const dashboard_filter& f) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<sms_count> out;
        for (const auto& row : u.exec(sql_sms_counts, period(f))) {
            sms_count r;
            r.channel = row["channel"].as<std::string>();
            r.status = stored_message_status(row["status"].as<std::string>());
            r.count = row["n"].as<long long>();
            out.push_back(std::move(r));
        }
        return out;
    });
}

}  // namespace gw::store::postgres

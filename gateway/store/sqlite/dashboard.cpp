// The programme dashboard's counts: groups only, never a row of one woman.
// Weeks are ISO weeks in UTC, named by their Monday.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {
namespace {

// 'weekday 0' moves to the next Sunday (or stays on one); six days back
// is that week's Monday.
const std::string sql_case_counts =
    "SELECT date(created_at, 'unixepoch', 'weekday 0', '-6 days') AS week, topic, oblast, "
    "channel, target_group, count(*) AS n FROM cases WHERE created_at >= :from AND created_at "
    "< :to AND (:oblast = '' OR oblast = :oblast) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

// The first answer is what the partner_response statistic measures (the
// first accepted or declined); "done" is a close by the partner (API or
// SMS), not the hotline closing the case; overdue as the SLA sweep sees it.
const std::string sql_referral_funnel =
    "SELECT r.partner AS partner, count(*) AS created, "
    "sum(EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = r.id AND e.action = "
    "'accepted')) AS accepted, "
    "sum(r.status = 'closed' AND EXISTS (SELECT 1 FROM referral_events e WHERE e.referral_id = "
    "r.id AND e.action = 'closed' AND (e.actor LIKE 'partner:%' OR e.actor LIKE 'sms:%'))) AS "
    "done, "
    "sum(r.status = 'declined') AS declined, "
    "sum(r.status = 'overdue' OR (r.status = 'new' AND r.due_at > 0 AND r.due_at < :now)) AS "
    "overdue, "
    "sum(r.status IN ('declined', 'overdue', 'revoked') AND EXISTS (SELECT 1 FROM referrals n "
    "WHERE n.case_id = r.case_id AND n.id > r.id)) AS rerouted, "
    "count(f.first_at) AS answered, "
    "coalesce(avg((f.first_at - r.created_at) / 3600.0), 0) AS answer_hours, "
    "sum(r.due_at > 0 AND (f.first_at IS NOT NULL OR r.due_at < :now)) AS sla_total, "
    "sum(r.due_at > 0 AND f.first_at IS NOT NULL AND f.first_at <= r.due_at) AS sla_kept "
    "FROM referrals r JOIN cases c ON c.id = r.case_id "
    "LEFT JOIN (SELECT referral_id, min(at) AS first_at FROM referral_events WHERE action IN "
    "('accepted', 'declined') GROUP BY referral_id) f ON f.referral_id = r.id "
    "WHERE r.partner <> '' AND r.created_at >= :from AND r.created_at < :to AND (:oblast = '' "
    "OR c.oblast = :oblast) GROUP BY r.partner ORDER BY r.partner";

const std::string sql_sms_counts =
    "SELECT channel, status, count(*) AS n FROM outbox WHERE created_at >= :from AND "
    "created_at < :to AND channel NOT LIKE 'webhook:%' GROUP BY channel, status ORDER BY 1, 2";

void bind_period(SQLite::Statement& st, const dashboard_filter& f) {
    bind_param(st, ":from", f.from);
    bind_param(st, ":to", f.to);
}

}  // namespace

std::vector<case_count> sqlite_reporting::case_counts(const dashboard_filter& f) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_case_counts);
        bind_period(st, f);
        bind_param(st, ":oblast", f.oblast);
        std::vector<case_count> out;
        while (st.executeStep()) {
            case_count r;
            r.week = st.getColumn("week").getString();
            r.topic = st.getColumn("topic").getString();
            r.oblast = st.getColumn("oblast").getString();
            r.channel = st.getColumn("channel").getString();
            r.target_group = st.getColumn("target_group").getString();
            r.count = st.getColumn("n").getInt64();
            out.push_back(std::move(r));
        }
        return out;
    });
}

std::vector<partner_funnel> sqlite_reporting::referral_funnel(const dashboard_filter& f,
                                                              long long now) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_referral_funnel);
        bind_period(st, f);
        bind_param(st, ":oblast", f.oblast);
        bind_param(st, ":now", now);
        std::vector<partner_funnel> out;
        while (st.executeStep()) {
            partner_funnel r;
            r.partner = st.getColumn("partner").getString();
            r.created = st.getColumn("created").getInt64();
            r.accepted = st.getColumn("accepted").getInt64();
            r.done = st.getColumn("done").getInt64();
            r.declined = st.getColumn("declined").getInt64();
            r.overdue = st.getColumn("overdue").getInt64();
            r.rerouted = st.getColumn("rerouted").getInt64();
            r.answered = st.getColumn("answered").getInt64();
            r.answer_hours = st.getColumn("answer_hours").getDouble();
            r.sla_total = st.getColumn("sla_total").getInt64();
            r.sla_kept = st.getColumn("sla_kept").getInt64();
            out.push_back(std::move(r));
        }
        return out;
    });
}

std::vector<sms_count> sqlite_reporting::sms_counts(const dashboard_filter& f) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_sms_counts);
        bind_period(st, f);
        std::vector<sms_count> out;
        while (st.executeStep()) {
            sms_count r;
            r.channel = st.getColumn("channel").getString();
            r.status = stored_message_status(st.getColumn("status").getString());
            r.count = st.getColumn("n").getInt64();
            out.push_back(std::move(r));
        }
        return out;
    });
}

}  // namespace gw::store::sqlite

// Anonymous counts for the programme, and forgetting: personal data older
// than the retention limit is blanked (rows stay, so counts survive).
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {
namespace {

const std::string month_of = "to_char(to_timestamp(%s) AT TIME ZONE 'UTC', 'YYYY-MM')";
std::string month(const std::string& column) {
    std::string out = month_of;
    return out.replace(out.find("%s"), 2, column);
}

const statement sql_statistics{
    "SELECT 'sessions' AS metric, " + month("started_at") +
    " AS month, '' AS oblast, '' AS topic, '' AS language, channel, '' AS partner, status, "
    "count(*) AS n, 0::float8 AS average_hours FROM sessions GROUP BY 2, 6, 8 "
    "UNION ALL SELECT 'cases', " +
    month("created_at") +
    ", oblast, topic, language, channel, '', '', count(*), 0 FROM cases GROUP BY 2, 3, 4, 5, 6 "
    "UNION ALL SELECT 'referrals', " +
    month("r.created_at") +
    ", c.oblast, c.topic, c.language, '', r.partner, r.status, count(*), 0 FROM referrals r "
    "JOIN cases c ON c.id = r.case_id GROUP BY 2, 3, 4, 5, 7, 8 "
    "UNION ALL SELECT 'partner_response', " +
    month("r.created_at") +
    ", '', '', '', '', r.partner, '', count(*), avg((f.first_at - r.created_at) / 3600.0)::float8 "
    "FROM referrals r JOIN (SELECT referral_id, min(at) AS first_at FROM referral_events WHERE "
    "action IN ('accepted', 'declined') GROUP BY referral_id) f ON f.referral_id = r.id "
    "WHERE r.partner <> '' GROUP BY 2, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"};

const statement sql_purge_sessions{
    "UPDATE sessions SET state = '', phone = '', phone_sealed = NULL, id_sealed = NULL, "
    "status = CASE WHEN status = 'active' THEN 'abandoned' ELSE status END WHERE "
    "updated_at < :before::bigint AND (phone <> '' OR length(state) > 0)"};
// A case is done when the hotline closed it, or when it never needed the
// hotline and no referral of it is still open.
const std::string done_cases =
    "SELECT id FROM cases WHERE purged_at = 0 AND ((status = 'closed' AND closed_at < "
    ":before::bigint) OR (needs_hotline = 0 AND status <> 'claimed' AND created_at < "
    ":before::bigint AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND "
    "(r.status IN ('new', 'accepted', 'in_progress', 'escalated') OR r.updated_at >= "
    ":before::bigint))))";
const statement sql_purge_notes{"DELETE FROM case_notes WHERE case_id IN (" + done_cases + ")"};
const statement sql_purge_referrals{
    "UPDATE referrals SET reason = '', outcome = '' WHERE case_id IN (" + done_cases + ")"};
const statement sql_purge_events{
    "UPDATE referral_events SET detail = '' WHERE length(detail) > 0 AND referral_id IN (SELECT "
    "id FROM referrals WHERE case_id IN (" +
    done_cases + "))"};
const statement sql_purge_cases{
    "UPDATE cases SET phone = '', phone_sealed = NULL, phone_ending = '', details = '', "
    "outcome = NULL, "
    "transcript = NULL, purged_at = :now::bigint WHERE id IN (" +
    done_cases + ")"};
const statement sql_purge_inbound{
    "UPDATE inbound_messages SET phone = '', reply = '' WHERE received_at < :before::bigint AND "
    "(length(phone) > 0 OR reply <> '')"};
const statement sql_purge_outbox{
    "UPDATE outbox SET recipient = '', recipient_sealed = NULL, body = '' WHERE created_at < "
    ":before::bigint AND status IN ('sent', 'delivered', 'failed', 'dead') AND (body <> '' OR "
    "recipient <> '')"};
const statement sql_purge_operator_sessions{
    "DELETE FROM operator_sessions WHERE expires_at < :now::bigint"};

const statement sql_hold_lease{
    "INSERT INTO leases (job, holder, until) VALUES (:job, :holder, :until::bigint) "
    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until "
    "WHERE leases.holder = excluded.holder OR leases.until < :now::bigint"};

}  // namespace

bool pg_reporting::hold_lease(const std::string& job, const std::string& holder, long long now,
                              long long seconds) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_hold_lease, params()
                                            .set(":job", job)
                                            .set(":holder", holder)
                                            .set(":until", now + seconds)
                                            .set(":now", now));
        u.commit();
        return r.affected_rows() > 0;
    });
}

std::vector<stat_row> pg_reporting::statistics() {
    return db_.read(__func__, [&](unit& u) {
        std::vector<stat_row> out;
        for (const auto& row : u.exec(sql_statistics)) {
            stat_row r;
            r.metric = row["metric"].as<std::string>();
            r.month = row["month"].as<std::string>();
            r.oblast = row["oblast"].as<std::string>();
            r.topic = row["topic"].as<std::string>();
            r.language = row["language"].as<std::string>();
            r.channel = row["channel"].as<std::string>();
            r.partner = row["partner"].as<std::string>();
            r.status = row["status"].as<std::string>();
            r.count = row["n"].as<long long>();
            r.average_hours = row["average_hours"].as<double>();
            out.push_back(std::move(r));
        }
        return out;
    });
}

retention_report pg_reporting::purge_personal_data(long long before, long long now) {
    return db_.write(__func__, [&](unit& u) {
        retention_report r;
        const auto p = params().set(":before", before).set(":now", now);
        auto run = [&](const statement& st) {
            return static_cast<std::size_t>(u.exec(st, p).affected_rows());
        };
        r.sessions = run(sql_purge_sessions);
        run(sql_purge_notes);
        run(sql_purge_referrals);
        run(sql_purge_events);
        r.cases = run(sql_purge_cases);
        r.inbound = run(sql_purge_inbound);
        r.outbox = run(sql_purge_outbox);
        r.operator_sessions = run(sql_purge_operator_sessions);
        u.commit();
        // Old row versions are left for VACUUM (autovacuum), which the
        // operator's routine runs; PostgreSQL has no WAL to truncate here.
        return r;
    });
}

}  // namespace gw::store::postgres

// Anonymous counts for the programme, and forgetting: personal data older
// than the retention limit is blanked (rows stay, so counts survive) and
// the write-ahead log that still held it is emptied.
#include <sqlite3.h>

#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {
namespace {

const std::string sql_statistics =
    "SELECT 'sessions' AS metric, strftime('%Y-%m', started_at, 'unixepoch') AS month, '' AS "
    "oblast, '' AS topic, '' AS language, channel, '' AS partner, status, count(*) AS n, 0 AS "
    "average_hours FROM sessions GROUP BY 2, 6, 8 "
    "UNION ALL SELECT 'cases', strftime('%Y-%m', created_at, 'unixepoch'), oblast, topic, "
    "language, channel, '', '', count(*), 0 FROM cases GROUP BY 2, 3, 4, 5, 6 "
    "UNION ALL SELECT 'referrals', strftime('%Y-%m', r.created_at, 'unixepoch'), c.oblast, "
    "c.topic, c.language, '', r.partner, r.status, count(*), 0 FROM referrals r JOIN cases c ON "
    "c.id = r.case_id GROUP BY 2, 3, 4, 5, 7, 8 "
    "UNION ALL SELECT 'partner_response', strftime('%Y-%m', r.created_at, 'unixepoch'), '', '', "
    "'', '', r.partner, '', count(*), avg((f.first_at - r.created_at) / 3600.0) FROM referrals r "
    "JOIN (SELECT referral_id, min(at) AS first_at FROM referral_events WHERE action IN "
    "('accepted', 'declined') GROUP BY referral_id) f ON f.referral_id = r.id WHERE r.partner "
    "<> '' GROUP BY 2, 7 "
    "ORDER BY 1, 2, 3, 4, 5, 6, 7, 8";

const std::string sql_purge_sessions =
    "UPDATE sessions SET state = '', phone = '', phone_sealed = NULL, id_sealed = NULL, "
    "status = CASE WHEN status = 'active' THEN 'abandoned' ELSE status END WHERE "
    "updated_at < :before AND (phone <> '' OR state <> '')";
// A case is done when the hotline closed it, or when it never needed the
// hotline and no referral of it is still open.
const std::string done_cases =
    "SELECT id FROM cases WHERE purged_at = 0 AND ((status = 'closed' AND closed_at < :before) "
    "OR (needs_hotline = 0 AND status <> 'claimed' AND created_at < :before AND NOT EXISTS "
    "(SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND (r.status IN ('new', "
    "'accepted', 'in_progress', 'escalated') OR r.updated_at >= :before))))";
const std::string sql_purge_notes = "DELETE FROM case_notes WHERE case_id IN (" + done_cases + ")";
const std::string sql_purge_referrals =
    "UPDATE referrals SET reason = '', outcome = '' WHERE case_id IN (" + done_cases + ")";
const std::string sql_purge_events =
    "UPDATE referral_events SET detail = '' WHERE detail <> '' AND referral_id IN (SELECT id "
    "FROM referrals WHERE case_id IN (" +
    done_cases + "))";
const std::string sql_purge_cases =
    "UPDATE cases SET phone = '', phone_sealed = NULL, phone_ending = '', details = '', "
    "outcome = NULL, "
    "transcript = NULL, purged_at = :now WHERE id IN (" +
    done_cases + ")";
const std::string sql_purge_inbound =
    "UPDATE inbound_messages SET phone = '', reply = '' WHERE received_at < :before AND "
    "(phone <> '' OR reply <> '')";
const std::string sql_purge_outbox =
    "UPDATE outbox SET recipient = '', recipient_sealed = NULL, body = '' WHERE created_at < "
    ":before AND status IN ('sent', 'delivered', 'failed', 'dead') AND (body <> '' OR "
    "recipient <> '')";
const std::string sql_purge_operator_sessions =
    "DELETE FROM operator_sessions WHERE expires_at < :now";

const std::string sql_hold_lease =
    "INSERT INTO leases (job, holder, until) VALUES (:job, :holder, :until) "
    "ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until "
    "WHERE leases.holder = excluded.holder OR leases.until < :now";

}  // namespace

bool sqlite_reporting::hold_lease(const std::string& job, const std::string& holder, long long now,
                                  long long seconds) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_hold_lease);
        bind_param(st, ":job", job);
        bind_param(st, ":holder", holder);
        bind_param(st, ":until", now + seconds);
        bind_param(st, ":now", now);
        const bool held = st.exec() > 0;
        tx.commit();
        return held;
    });
}

std::vector<stat_row> sqlite_reporting::statistics() {
    return db_.read(__func__, [&](connection& c) {
        std::vector<stat_row> out;
        auto& st = c.cached(sql_statistics);
        while (st.executeStep()) {
            stat_row r;
            r.metric = st.getColumn("metric").getString();
            r.month = st.getColumn("month").getString();
            r.oblast = st.getColumn("oblast").getString();
            r.topic = st.getColumn("topic").getString();
            r.language = st.getColumn("language").getString();
            r.channel = st.getColumn("channel").getString();
            r.partner = st.getColumn("partner").getString();
            r.status = st.getColumn("status").getString();
            r.count = st.getColumn("n").getInt64();
            r.average_hours = st.getColumn("average_hours").getDouble();
            out.push_back(std::move(r));
        }
        return out;
    });
}

retention_report sqlite_reporting::purge_personal_data(long long before, long long now) {
    // Its own transaction, outside the group commit: it may take a while,
    // and the checkpoint after it needs the write connection to itself.
    retention_report report = db_.exclusive(__func__, [&](connection& c) {
        SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
        retention_report r;
        auto run = [&](const std::string& sql) {
            auto& st = c.cached(sql);
            if (sql.find(":before") != std::string::npos) bind_param(st, ":before", before);
            if (sql.find(":now") != std::string::npos) bind_param(st, ":now", now);
            return static_cast<std::size_t>(st.exec());
        };
        r.sessions = run(sql_purge_sessions);
        run(sql_purge_notes);
        run(sql_purge_referrals);
        run(sql_purge_events);
        r.cases = run(sql_purge_cases);
        r.inbound = run(sql_purge_inbound);
        r.outbox = run(sql_purge_outbox);
        r.operator_sessions = run(sql_purge_operator_sessions);
        tx.commit();
        return r;
    });
    // Old page images in the WAL still hold what was just blanked: copy the
    // WAL into the (securely overwritten) database and empty it.
    report.wal_truncated = db_.exclusive(__func__, [&](connection& c) {
        int log_frames = 0, copied = 0;
        return sqlite3_wal_checkpoint_v2(c.db.getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                         &log_frames, &copied) == SQLITE_OK;
        // else a reader elsewhere; the next run tries again
    });
    return report;
}

}  // namespace gw::store::sqlite

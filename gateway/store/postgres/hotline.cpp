// The hotline's side of cases: its queue, claims and closing, notes
// (sealed) and the audit trail, which only ever grows.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {
namespace {

// Open cases in the hotline's hands, and recent ones not routed yet
// (routing failed or has not run yet: the sweep retries, someone must know).
const std::string hotline_queue_condition =
    "status <> 'closed' AND (needs_hotline = 1 OR (id > (SELECT max(id) - 1000 FROM cases) "
    "AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id)))";
const statement sql_queue_length{"SELECT count(*) AS n FROM cases WHERE " +
                                 hotline_queue_condition};
const statement sql_queue{
    std::string("SELECT ") + case_columns +
    ", (SELECT r.status FROM referrals r WHERE r.case_id = cases.id ORDER BY r.id DESC LIMIT 1) "
    "AS latest_referral_status, EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id "
    "AND r.status = 'overdue') AS overdue FROM cases WHERE " +
    hotline_queue_condition + " ORDER BY urgent DESC, created_at, id LIMIT :limit::bigint"};
// The case's row locked: two operators on two nodes take turns.
const statement sql_case_for_update{std::string("SELECT ") + case_columns +
                                    " FROM cases WHERE id = :id::bigint FOR UPDATE"};
const statement sql_update_case{
    "UPDATE cases SET assigned_to = :assigned_to, status = :status, outcome = :outcome::bytea, "
    "closed_at = :closed_at::bigint, needs_hotline = :needs_hotline::integer WHERE id = "
    ":id::bigint"};
const statement sql_close_open_referrals{
    "UPDATE referrals SET status = 'closed', updated_at = :now::bigint WHERE case_id = "
    ":case_id::bigint AND status IN ('new', 'accepted', 'in_progress', 'overdue', 'escalated') "
    "RETURNING id"};
const statement sql_insert_note{
    "INSERT INTO case_notes (case_id, author, text, at) VALUES (:case_id::bigint, :author, "
    ":text::bytea, :at::bigint)"};
const statement sql_case_notes{
    "SELECT id, case_id, author, text, at FROM case_notes WHERE case_id = :case_id::bigint "
    "ORDER BY id"};
const statement sql_put_audit{
    "INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES (:at::bigint, :actor, "
    ":action, :case_id::bigint, :detail)"};
// Operator audit lines and referral events (odd keys, details sealed) together.
const statement sql_audit_trail{
    "SELECT at, actor, action, case_id, detail, reference, k FROM ("
    "SELECT a.at, a.actor, a.action, COALESCE(a.case_id, 0) AS case_id, "
    "convert_to(a.detail, 'UTF8') AS detail, COALESCE(c.reference, '') AS reference, "
    "a.id * 2 AS k FROM audit_log a LEFT JOIN cases c ON c.id = a.case_id "
    "WHERE :case_id::bigint = 0 OR a.case_id = :case_id::bigint "
    "UNION ALL SELECT e.at, e.actor, e.action, r.case_id, e.detail, c.reference, e.id * 2 + 1 "
    "FROM referral_events e JOIN referrals r ON r.id = e.referral_id JOIN cases c ON "
    "c.id = r.case_id WHERE :case_id::bigint = 0 OR r.case_id = :case_id::bigint) t "
    "ORDER BY at DESC, k DESC LIMIT :limit::bigint"};

}  // namespace

void put_audit(unit& u, const audit_entry& e) {
    params p;
    if (e.case_id)
        p.set(":case_id", e.case_id);
    else
        p.null(":case_id");
    u.exec(sql_put_audit, p.set(":at", e.at)
                              .set(":actor", e.actor)
                              .set(":action", e.action)
                              .set(":detail", e.detail));
}

std::size_t pg_hotline::hotline_queue_length() {
    return db_.read(__func__,
                    [&](unit& u) { return u.exec(sql_queue_length)[0]["n"].as<std::size_t>(); });
}

std::vector<queue_entry> pg_hotline::hotline_queue(std::size_t limit) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<queue_entry> out;
        for (const auto& row : u.exec(sql_queue, params().set(":limit", limit))) {
            queue_entry e;
            e.c = read_case(db_, row);
            if (!row["latest_referral_status"].is_null())
                e.latest_referral =
                    stored_referral_status(row["latest_referral_status"].as<std::string>());
            e.overdue = row["overdue"].as<bool>();
            out.push_back(std::move(e));
        }
        return out;
    });
}

std::optional<case_record> pg_hotline::update_case(long long case_id, const case_update& upd,
                                                   const audit_entry& audit,
                                                   const std::vector<outbound_message>& outbox) {
    return db_.write(__func__, [&](unit& u) -> std::optional<case_record> {
        auto got = u.exec(sql_case_for_update, params().set(":id", case_id));
        if (got.empty()) return std::nullopt;
        case_record c = read_case(db_, got[0]);
        if (upd.expect_assigned && c.assigned_to != *upd.expect_assigned) return std::nullopt;
        if (upd.assigned_to) c.assigned_to = *upd.assigned_to;
        if (upd.status) c.status = *upd.status;
        if (upd.outcome) c.outcome = *upd.outcome;
        const bool closed = c.status == case_status::closed;
        if (closed && upd.status) c.closed_at = audit.at;
        u.exec(sql_update_case, params()
                                    .set(":id", case_id)
                                    .set(":assigned_to", c.assigned_to)
                                    .set(":status", c.status)
                                    .set(":outcome", db_.sealed(c.outcome))
                                    .set(":closed_at", c.closed_at)
                                    .set(":needs_hotline", !closed));
        if (upd.close_open_referrals) {
            auto ids = u.exec(sql_close_open_referrals,
                              params().set(":case_id", case_id).set(":now", audit.at));
            for (const auto& row : ids)
                put_referral_event(db_, u,
                                   {row["id"].as<long long>(), audit.actor, "closed",
                                    *upd.close_open_referrals, audit.at});
        }
        put_audit(u, audit);
        for (const auto& m : outbox) put_outbound(db_, u, m);
        u.commit();
        return c;
    });
}

void pg_hotline::add_case_note(const case_note& n, const audit_entry& audit) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_insert_note, params()
                                    .set(":case_id", n.case_id)
                                    .set(":author", n.author)
                                    .set(":text", db_.sealed(n.text))
                                    .set(":at", n.at));
        put_audit(u, audit);
        u.commit();
    });
}

std::vector<case_note> pg_hotline::case_notes(long long case_id) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<case_note> out;
        for (const auto& row : u.exec(sql_case_notes, params().set(":case_id", case_id)))
            out.push_back({row["id"].as<long long>(), row["case_id"].as<long long>(),
                           row["author"].as<std::string>(), db_.unseal(row["text"]),
                           row["at"].as<long long>()});
        return out;
    });
}

void pg_hotline::record_audit(const audit_entry& e) {
    db_.write(__func__, [&](unit& u) {
        put_audit(u, e);
        u.commit();
    });
}

std::vector<audit_record> pg_hotline::audit_trail(long long case_id, std::size_t limit) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<audit_record> out;
        for (const auto& row :
             u.exec(sql_audit_trail, params().set(":case_id", case_id).set(":limit", limit))) {
            audit_record a;
            a.at = row["at"].as<long long>();
            a.actor = row["actor"].as<std::string>();
            a.action = row["action"].as<std::string>();
            a.case_id = row["case_id"].as<long long>();
            const bool referral_event = row["k"].as<long long>() % 2 != 0;
            a.detail = referral_event ? db_.unseal(row["detail"])
                                      : pqxx::binarystring(row["detail"]).str();
            a.case_reference = row["reference"].as<std::string>();
            out.push_back(std::move(a));
        }
        return out;
    });
}

}  // namespace gw::store::postgres

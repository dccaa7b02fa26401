// The hotline's side of cases: its queue, claims and closing, notes
// (sealed) and the audit trail, which only ever grows.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {
namespace {

// Open cases in the hotline's hands, and recent ones not routed yet
// (routing failed or has not run yet: the sweep retries, someone must know).
const std::string hotline_queue_condition =
    "status <> 'closed' AND (needs_hotline = 1 OR (id > (SELECT max(id) - 1000 FROM cases) "
    "AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id)))";
const std::string sql_queue_length =
    "SELECT count(*) AS n FROM cases WHERE " + hotline_queue_condition;
const std::string sql_queue =
    std::string("SELECT ") + case_columns +
    ", (SELECT r.status FROM referrals r WHERE r.case_id = cases.id ORDER BY r.id DESC LIMIT 1) "
    "AS latest_referral_status, EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id "
    "AND r.status = 'overdue') AS overdue FROM cases WHERE " +
    hotline_queue_condition + " ORDER BY urgent DESC, created_at, id LIMIT :limit";
const std::string sql_case_by_id =
    std::string("SELECT ") + case_columns + " FROM cases WHERE id = :id";
const std::string sql_update_case =
    "UPDATE cases SET assigned_to = :assigned_to, status = :status, outcome = :outcome, "
    "closed_at = :closed_at, needs_hotline = :needs_hotline WHERE id = :id";
const std::string sql_open_referrals_of =
    "SELECT id FROM referrals WHERE case_id = :case_id AND status IN ('new', 'accepted', "
    "'in_progress', 'overdue', 'escalated')";
const std::string sql_close_referral =
    "UPDATE referrals SET status = 'closed', updated_at = :now WHERE id = :id";
const std::string sql_insert_note =
    "INSERT INTO case_notes (case_id, author, text, at) VALUES (:case_id, :author, :text, :at)";
const std::string sql_case_notes =
    "SELECT id, case_id, author, text, at FROM case_notes WHERE case_id = :case_id ORDER BY id";
const std::string sql_put_audit =
    "INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES (:at, :actor, :action, "
    ":case_id, :detail)";
// Operator audit lines and referral events (odd keys, details sealed) together.
const std::string sql_audit_trail =
    "SELECT at, actor, action, case_id, detail, reference, k FROM ("
    "SELECT a.at, a.actor, a.action, COALESCE(a.case_id, 0) AS case_id, a.detail, "
    "COALESCE(c.reference, '') AS reference, a.id * 2 AS k FROM audit_log a LEFT JOIN cases c "
    "ON c.id = a.case_id WHERE :case_id = 0 OR a.case_id = :case_id "
    "UNION ALL SELECT e.at, e.actor, e.action, r.case_id, e.detail, c.reference, e.id * 2 + 1 "
    "FROM referral_events e JOIN referrals r ON r.id = e.referral_id JOIN cases c ON "
    "c.id = r.case_id WHERE :case_id = 0 OR r.case_id = :case_id) ORDER BY at DESC, k DESC "
    "LIMIT :limit";

// Referrals of the case still open end with it, each with an event.
void close_open_referrals(database& db, long long case_id, const audit_entry& audit,
                          const std::string& detail) {
    auto& open = db.cached(sql_open_referrals_of);
    bind_param(open, ":case_id", case_id);
    std::vector<long long> ids;
    while (open.executeStep()) ids.push_back(open.getColumn("id").getInt64());
    open.reset();
    for (long long id : ids) {
        auto& st = db.cached(sql_close_referral);
        bind_param(st, ":id", id);
        bind_param(st, ":now", audit.at);
        st.exec();
        put_referral_event(db, {id, audit.actor, "closed", detail, audit.at});
    }
}

}  // namespace

void put_audit(database& db, const audit_entry& e) {
    auto& st = db.cached(sql_put_audit);
    bind_param(st, ":at", e.at);
    bind_param(st, ":actor", e.actor);
    bind_param(st, ":action", e.action);
    if (e.case_id)
        bind_param(st, ":case_id", e.case_id);
    else
        st.bind(":case_id");
    bind_param(st, ":detail", e.detail);
    st.exec();
}

std::size_t sqlite_hotline::hotline_queue_length() {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_queue_length);
        st.executeStep();
        return static_cast<std::size_t>(st.getColumn("n").getInt64());
    });
}

std::vector<queue_entry> sqlite_hotline::hotline_queue(std::size_t limit) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_queue);
        bind_param(st, ":limit", limit);
        std::vector<queue_entry> out;
        while (st.executeStep()) {
            queue_entry e;
            e.c = read_case(db_, st);
            if (!st.isColumnNull("latest_referral_status"))
                e.latest_referral =
                    stored_referral_status(st.getColumn("latest_referral_status").getString());
            e.overdue = st.getColumn("overdue").getInt() != 0;
            out.push_back(std::move(e));
        }
        return out;
    });
}

std::optional<case_record> sqlite_hotline::update_case(
    long long case_id, const case_update& u, const audit_entry& audit,
    const std::vector<outbound_message>& outbox) {
    return db_.write(__func__, [&](unit_tx& tx) -> std::optional<case_record> {
        auto& get = db_.cached(sql_case_by_id);
        bind_param(get, ":id", case_id);
        if (!get.executeStep()) return std::nullopt;
        case_record c = read_case(db_, get);
        get.reset();
        if (u.expect_assigned && c.assigned_to != *u.expect_assigned) return std::nullopt;
        if (u.assigned_to) c.assigned_to = *u.assigned_to;
        if (u.status) c.status = *u.status;
        if (u.outcome) c.outcome = *u.outcome;
        const bool closed = c.status == case_status::closed;
        if (closed && u.status) c.closed_at = audit.at;
        auto& upd = db_.cached(sql_update_case);
        bind_param(upd, ":id", case_id);
        bind_param(upd, ":assigned_to", c.assigned_to);
        bind_param(upd, ":status", c.status);
        db_.bind_sealed(upd, ":outcome", c.outcome);
        bind_param(upd, ":closed_at", c.closed_at);
        bind_param(upd, ":needs_hotline", !closed);
        upd.exec();
        if (u.close_open_referrals)
            close_open_referrals(db_, case_id, audit, *u.close_open_referrals);
        put_audit(db_, audit);
        for (const auto& m : outbox) put_outbound(db_, m);
        tx.commit();
        return c;
    });
}

void sqlite_hotline::add_case_note(const case_note& n, const audit_entry& audit) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_insert_note);
        bind_param(st, ":case_id", n.case_id);
        bind_param(st, ":author", n.author);
        db_.bind_sealed(st, ":text", n.text);
        bind_param(st, ":at", n.at);
        st.exec();
        put_audit(db_, audit);
        tx.commit();
    });
}

std::vector<case_note> sqlite_hotline::case_notes(long long case_id) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_case_notes);
        bind_param(st, ":case_id", case_id);
        std::vector<case_note> out;
        while (st.executeStep())
            out.push_back({st.getColumn("id").getInt64(), st.getColumn("case_id").getInt64(),
                           st.getColumn("author").getString(), db_.unseal(st.getColumn("text")),
                           st.getColumn("at").getInt64()});
        return out;
    });
}

void sqlite_hotline::record_audit(const audit_entry& e) {
    db_.write(__func__, [&](unit_tx& tx) {
        put_audit(db_, e);
        tx.commit();
    });
}

std::vector<audit_record> sqlite_hotline::audit_trail(long long case_id, std::size_t limit) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_audit_trail);
        bind_param(st, ":case_id", case_id);
        bind_param(st, ":limit", limit);
        std::vector<audit_record> out;
        while (st.executeStep()) {
            audit_record a;
            a.at = st.getColumn("at").getInt64();
            a.actor = st.getColumn("actor").getString();
            a.action = st.getColumn("action").getString();
            a.case_id = st.getColumn("case_id").getInt64();
            const bool referral_event = st.getColumn("k").getInt64() % 2 != 0;
            a.detail = referral_event ? db_.unseal(st.getColumn("detail"))
                                      : st.getColumn("detail").getString();
            a.case_reference = st.getColumn("reference").getString();
            out.push_back(std::move(a));
        }
        return out;
    });
}

}  // namespace gw::store::sqlite

// Referrals and their append-only trail (event details sealed), and the
// partners the hotline paused.
#include <algorithm>

#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {

const char referral_columns[] =
    "r.id AS id, r.case_id AS case_id, c.reference AS case_reference, r.partner AS partner, "
    "r.status AS status, r.rule AS rule, r.explanation AS explanation, r.reason AS reason, "
    "r.outcome AS outcome, r.due_at AS due_at, r.created_at AS created_at, r.updated_at AS "
    "updated_at FROM referrals r JOIN cases c ON c.id = r.case_id";

namespace {

const std::string sql_insert_referral =
    "INSERT INTO referrals (case_id, partner, status, rule, explanation, due_at, created_at, "
    "updated_at) VALUES (:case_id, :partner, :status, :rule, :explanation, :due_at, "
    ":created_at, :created_at)";
const std::string sql_hotline_takes_case = "UPDATE cases SET needs_hotline = 1 WHERE id = :id";
const std::string sql_latest_of_case = std::string("SELECT ") + referral_columns +
                                       " WHERE r.case_id = :case_id ORDER BY r.id DESC LIMIT 1";
const std::string sql_referral_by_id =
    std::string("SELECT ") + referral_columns + " WHERE r.id = :id";
const std::string sql_partner_referrals =
    std::string("SELECT ") + referral_columns +
    " WHERE r.partner = :partner AND (:status = '' OR r.status = :status) ORDER BY r.id DESC "
    "LIMIT :limit OFFSET :offset";
const std::string sql_case_referrals =
    std::string("SELECT ") + referral_columns + " WHERE r.case_id = :case_id ORDER BY r.id";
const std::string sql_transition_referral =
    "UPDATE referrals SET status = :status, reason = CASE WHEN :reason = '' THEN reason ELSE "
    ":reason END, outcome = CASE WHEN :outcome = '' THEN outcome ELSE :outcome END, "
    "updated_at = :now WHERE id = :id";
const std::string sql_put_event =
    "INSERT INTO referral_events (referral_id, actor, action, detail, at) VALUES "
    "(:referral_id, :actor, :action, :detail, :at)";
const std::string sql_referral_events =
    "SELECT referral_id, actor, action, detail, at FROM referral_events WHERE "
    "referral_id = :referral_id ORDER BY id";
const std::string sql_overdue_referrals =
    std::string("SELECT ") + referral_columns +
    " WHERE r.status = 'new' AND r.due_at > 0 AND r.due_at < :now ORDER BY r.due_at";
// Its WHERE is the partial index referrals_open_by_partner's, term for term.
const std::string sql_open_referral_counts =
    "SELECT partner, count(*) AS n FROM referrals WHERE status IN ('new', 'accepted', "
    "'in_progress') AND partner <> '' GROUP BY partner";
const std::string sql_paused_partners = "SELECT partner FROM partner_state WHERE paused = 1";
const std::string sql_set_partner_paused =
    "INSERT INTO partner_state (partner, paused, updated_at) VALUES (:partner, :paused, :now) "
    "ON CONFLICT (partner) DO UPDATE SET paused = excluded.paused, updated_at = "
    "excluded.updated_at";

}  // namespace

referral_record read_referral(const database& db, const SQLite::Statement& st) {
    referral_record r;
    r.id = st.getColumn("id").getInt64();
    r.case_id = st.getColumn("case_id").getInt64();
    r.case_reference = st.getColumn("case_reference").getString();
    r.partner = st.getColumn("partner").getString();
    r.status = stored_referral_status(st.getColumn("status").getString());
    r.rule = st.getColumn("rule").getString();
    r.explanation = st.getColumn("explanation").getString();
    r.reason = db.unseal(st.getColumn("reason"));
    r.outcome = db.unseal(st.getColumn("outcome"));
    r.due_at = st.getColumn("due_at").getInt64();
    r.created_at = st.getColumn("created_at").getInt64();
    r.updated_at = st.getColumn("updated_at").getInt64();
    return r;
}

void put_referral_event(database& db, const referral_event& e) {
    auto& st = db.cached(sql_put_event);
    bind_param(st, ":referral_id", e.referral_id);
    bind_param(st, ":actor", e.actor);
    bind_param(st, ":action", e.action);
    db.bind_sealed(st, ":detail", e.detail);
    bind_param(st, ":at", e.at);
    st.exec();
}

referral_record put_referral(database& db, const first_referral& first) {
    const referral_record& r = first.referral;
    auto& st = db.cached(sql_insert_referral);
    bind_param(st, ":case_id", r.case_id);
    bind_param(st, ":partner", r.partner);
    bind_param(st, ":status", r.status);
    bind_param(st, ":rule", r.rule);
    bind_param(st, ":explanation", r.explanation);
    bind_param(st, ":due_at", r.due_at);
    bind_param(st, ":created_at", r.created_at);
    st.exec();
    referral_record out = r;
    out.id = db.last_insert_id();
    out.updated_at = r.created_at;
    referral_event event = first.created;
    event.referral_id = out.id;
    put_referral_event(db, event);
    if (first.hotline_takes_case) {
        auto& hand = db.cached(sql_hotline_takes_case);
        bind_param(hand, ":id", r.case_id);
        hand.exec();
    }
    for (const auto& m : first.outbox) put_outbound(db, m);
    return out;
}

referral_record sqlite_referrals::create_referral(const referral_record& r,
                                                  const referral_event& created,
                                                  const std::vector<outbound_message>& outbox,
                                                  bool hotline_takes_case, bool first_of_case) {
    return db_.write(__func__, [&](unit_tx& tx) {
        if (first_of_case) {
            // One writer: nothing can come between this look and the insert.
            auto& latest = db_.cached(sql_latest_of_case);
            bind_param(latest, ":case_id", r.case_id);
            if (latest.executeStep()) return read_referral(db_, latest);
        }
        referral_record out = put_referral(db_, {r, created, outbox, hotline_takes_case});
        tx.commit();
        return out;
    });
}

std::optional<referral_record> sqlite_referrals::find_referral(long long id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<referral_record> {
        auto& st = c.cached(sql_referral_by_id);
        bind_param(st, ":id", id);
        if (!st.executeStep()) return std::nullopt;
        return read_referral(db_, st);
    });
}

std::vector<referral_record> sqlite_referrals::partner_referrals(
    const std::string& partner, std::optional<referral_status> status, std::size_t limit,
    std::size_t offset) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_partner_referrals);
        bind_param(st, ":partner", partner);
        bind_param(st, ":status", status ? std::string(domain::name(*status)) : std::string());
        bind_param(st, ":limit", limit);
        bind_param(st, ":offset", offset);
        std::vector<referral_record> out;
        while (st.executeStep()) out.push_back(read_referral(db_, st));
        return out;
    });
}

std::vector<referral_record> sqlite_referrals::case_referrals(long long case_id) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_case_referrals);
        bind_param(st, ":case_id", case_id);
        std::vector<referral_record> out;
        while (st.executeStep()) out.push_back(read_referral(db_, st));
        return out;
    });
}

std::optional<referral_record> sqlite_referrals::transition_referral(
    long long id, const std::vector<referral_status>& from, referral_status to,
    const referral_event& event, const std::vector<outbound_message>& outbox,
    const std::string& reason, const std::string& outcome) {
    return db_.write(__func__, [&](unit_tx& tx) -> std::optional<referral_record> {
        auto& get = db_.cached(sql_referral_by_id);
        bind_param(get, ":id", id);
        if (!get.executeStep()) return std::nullopt;
        referral_record r = read_referral(db_, get);
        get.reset();
        if (std::find(from.begin(), from.end(), r.status) == from.end()) return std::nullopt;
        auto& upd = db_.cached(sql_transition_referral);
        bind_param(upd, ":id", id);
        bind_param(upd, ":status", to);
        db_.bind_sealed(upd, ":reason", reason);
        db_.bind_sealed(upd, ":outcome", outcome);
        bind_param(upd, ":now", event.at);
        upd.exec();
        put_referral_event(db_, event);
        for (const auto& m : outbox) put_outbound(db_, m);
        tx.commit();
        r.status = to;
        if (!reason.empty()) r.reason = reason;
        if (!outcome.empty()) r.outcome = outcome;
        r.updated_at = event.at;
        return r;
    });
}

void sqlite_referrals::record_referral_event(const referral_event& e) {
    db_.write(__func__, [&](unit_tx& tx) {
        put_referral_event(db_, e);
        tx.commit();
    });
}

std::vector<referral_event> sqlite_referrals::referral_events(long long referral_id) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_referral_events);
        bind_param(st, ":referral_id", referral_id);
        std::vector<referral_event> out;
        while (st.executeStep())
            out.push_back({st.getColumn("referral_id").getInt64(),
                           st.getColumn("actor").getString(), st.getColumn("action").getString(),
                           db_.unseal(st.getColumn("detail")), st.getColumn("at").getInt64()});
        return out;
    });
}

std::vector<referral_record> sqlite_referrals::overdue_referrals(long long now) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_overdue_referrals);
        bind_param(st, ":now", now);
        std::vector<referral_record> out;
        while (st.executeStep()) out.push_back(read_referral(db_, st));
        return out;
    });
}

std::map<std::string, std::size_t> sqlite_referrals::open_referral_counts() {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_open_referral_counts);
        std::map<std::string, std::size_t> out;
        while (st.executeStep())
            out[st.getColumn("partner").getString()] =
                static_cast<std::size_t>(st.getColumn("n").getInt64());
        return out;
    });
}

std::set<std::string> sqlite_referrals::paused_partners() {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_paused_partners);
        std::set<std::string> out;
        while (st.executeStep()) out.insert(st.getColumn("partner").getString());
        return out;
    });
}

void sqlite_referrals::set_partner_paused(const std::string& partner, bool paused,
                                          const audit_entry& audit) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_set_partner_paused);
        bind_param(st, ":partner", partner);
        bind_param(st, ":paused", paused);
        bind_param(st, ":now", audit.at);
        st.exec();
        put_audit(db_, audit);
        tx.commit();
    });
}

}  // namespace gw::store::sqlite

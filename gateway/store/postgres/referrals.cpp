// Referrals and their append-only trail (event details sealed), and the
// partners the hotline paused.
#include <algorithm>

#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {

const char referral_columns[] =
    "r.id AS id, r.case_id AS case_id, c.reference AS case_reference, r.partner AS partner, "
    "r.status AS status, r.rule AS rule, r.explanation AS explanation, r.reason AS reason, "
    "r.outcome AS outcome, r.due_at AS due_at, r.created_at AS created_at, r.updated_at AS "
    "updated_at FROM referrals r JOIN cases c ON c.id = r.case_id";

namespace {

const statement sql_insert_referral{
    "INSERT INTO referrals (case_id, partner, status, rule, explanation, due_at, created_at, "
    "updated_at) VALUES (:case_id::bigint, :partner, :status, :rule, :explanation, "
    ":due_at::bigint, :created_at::bigint, :created_at::bigint) RETURNING id"};
const statement sql_hotline_takes_case{"UPDATE cases SET needs_hotline = 1 WHERE id = :id::bigint"};
const statement sql_lock_case{"SELECT id FROM cases WHERE id = :case_id::bigint FOR UPDATE"};
const statement sql_latest_of_case{
    std::string("SELECT ") + referral_columns +
    " WHERE r.case_id = :case_id::bigint ORDER BY r.id DESC LIMIT 1"};
const statement sql_referral_by_id{std::string("SELECT ") + referral_columns +
                                   " WHERE r.id = :id::bigint"};
// The referral's row locked: two nodes moving it at once take turns.
const statement sql_lock_referral{"SELECT status FROM referrals WHERE id = :id::bigint FOR UPDATE"};
const statement sql_partner_referrals{
    std::string("SELECT ") + referral_columns +
    " WHERE r.partner = :partner AND (:status::text = '' OR r.status = :status::text) ORDER BY "
    "r.id DESC LIMIT :limit::bigint OFFSET :offset::bigint"};
const statement sql_case_referrals{std::string("SELECT ") + referral_columns +
                                   " WHERE r.case_id = :case_id::bigint ORDER BY r.id"};
const statement sql_transition_referral{
    "UPDATE referrals SET status = :status, reason = CASE WHEN :set_reason::integer = 1 THEN "
    ":reason::bytea ELSE reason END, outcome = CASE WHEN :set_outcome::integer = 1 THEN "
    ":outcome::bytea ELSE outcome END, updated_at = :now::bigint WHERE id = :id::bigint"};
const statement sql_put_event{
    "INSERT INTO referral_events (referral_id, actor, action, detail, at) VALUES "
    "(:referral_id::bigint, :actor, :action, :detail::bytea, :at::bigint)"};
const statement sql_referral_events{
    "SELECT referral_id, actor, action, detail, at FROM referral_events WHERE "
    "referral_id = :referral_id::bigint ORDER BY id"};
const statement sql_overdue_referrals{
    std::string("SELECT ") + referral_columns +
    " WHERE r.status = 'new' AND r.due_at > 0 AND r.due_at < :now::bigint ORDER BY r.due_at"};
const statement sql_open_referral_counts{
    "SELECT partner, count(*) AS n FROM referrals WHERE status IN ('new', 'accepted', "
    "'in_progress') AND partner <> '' GROUP BY partner"};
const statement sql_paused_partners{"SELECT partner FROM partner_state WHERE paused = 1"};
const statement sql_set_partner_paused{
    "INSERT INTO partner_state (partner, paused, updated_at) VALUES (:partner, "
    ":paused::integer, :now::bigint) ON CONFLICT (partner) DO UPDATE SET paused = "
    "excluded.paused, updated_at = excluded.updated_at"};

}  // namespace

referral_record read_referral(const database& db, const pqxx::row& row) {
    referral_record r;
    r.id = row["id"].as<long long>();
    r.case_id = row["case_id"].as<long long>();
    r.case_reference = row["case_reference"].as<std::string>();
    r.partner = row["partner"].as<std::string>();
    r.status = stored_referral_status(row["status"].as<std::string>());
    r.rule = row["rule"].as<std::string>();
    r.explanation = row["explanation"].as<std::string>();
    r.reason = db.unseal(row["reason"]);
    r.outcome = db.unseal(row["outcome"]);
    r.due_at = row["due_at"].as<long long>();
    r.created_at = row["created_at"].as<long long>();
    r.updated_at = row["updated_at"].as<long long>();
    return r;
}

void put_referral_event(database& db, unit& u, const referral_event& e) {
    u.exec(sql_put_event, params()
                              .set(":referral_id", e.referral_id)
                              .set(":actor", e.actor)
                              .set(":action", e.action)
                              .set(":detail", db.sealed(e.detail))
                              .set(":at", e.at));
}

referral_record put_referral(database& db, unit& u, const first_referral& first) {
    const referral_record& r = first.referral;
    auto ins = u.exec(sql_insert_referral, params()
                                               .set(":case_id", r.case_id)
                                               .set(":partner", r.partner)
                                               .set(":status", r.status)
                                               .set(":rule", r.rule)
                                               .set(":explanation", r.explanation)
                                               .set(":due_at", r.due_at)
                                               .set(":created_at", r.created_at));
    referral_record out = r;
    out.id = ins[0]["id"].as<long long>();
    out.updated_at = r.created_at;
    referral_event event = first.created;
    event.referral_id = out.id;
    put_referral_event(db, u, event);
    if (first.hotline_takes_case) u.exec(sql_hotline_takes_case, params().set(":id", r.case_id));
    for (const auto& m : first.outbox) put_outbound(db, u, m);
    return out;
}

referral_record pg_referrals::create_referral(const referral_record& r,
                                              const referral_event& created,
                                              const std::vector<outbound_message>& outbox,
                                              bool hotline_takes_case, bool first_of_case) {
    return db_.write(__func__, [&](unit& u) {
        if (first_of_case) {
            // The case's row locked: a node routing it at the same moment
            // waits here, then finds this referral and writes nothing.
            u.exec(sql_lock_case, params().set(":case_id", r.case_id));
            auto latest = u.exec(sql_latest_of_case, params().set(":case_id", r.case_id));
            if (!latest.empty()) return read_referral(db_, latest[0]);
        }
        referral_record out = put_referral(db_, u, {r, created, outbox, hotline_takes_case});
        u.commit();
        return out;
    });
}

std::optional<referral_record> pg_referrals::find_referral(long long id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<referral_record> {
        auto r = u.exec(sql_referral_by_id, params().set(":id", id));
        if (r.empty()) return std::nullopt;
        return read_referral(db_, r[0]);
    });
}

std::vector<referral_record> pg_referrals::partner_referrals(const std::string& partner,
                                                             std::optional<referral_status> status,
                                                             std::size_t limit,
                                                             std::size_t offset) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<referral_record> out;
        for (const auto& row :
             u.exec(sql_partner_referrals,
                    params()
                        .set(":partner", partner)
                        .set(":status", status ? std::string(domain::name(*status)) : std::string())
                        .set(":limit", limit)
                        .set(":offset", offset)))
            out.push_back(read_referral(db_, row));
        return out;
    });
}

std::vector<referral_record> pg_referrals::case_referrals(long long case_id) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<referral_record> out;
        for (const auto& row : u.exec(sql_case_referrals, params().set(":case_id", case_id)))
            out.push_back(read_referral(db_, row));
        return out;
    });
}

std::optional<referral_record> pg_referrals::transition_referral(
    long long id, const std::vector<referral_status>& from, referral_status to,
    const referral_event& event, const std::vector<outbound_message>& outbox,
    const std::string& reason, const std::string& outcome) {
    return db_.write(__func__, [&](unit& u) -> std::optional<referral_record> {
        if (u.exec(sql_lock_referral, params().set(":id", id)).empty()) return std::nullopt;
        auto got = u.exec(sql_referral_by_id, params().set(":id", id));
        referral_record r = read_referral(db_, got[0]);
        if (std::find(from.begin(), from.end(), r.status) == from.end()) return std::nullopt;
        u.exec(sql_transition_referral, params()
                                            .set(":id", id)
                                            .set(":status", to)
                                            .set(":set_reason", !reason.empty())
                                            .set(":reason", db_.sealed(reason))
                                            .set(":set_outcome", !outcome.empty())
                                            .set(":outcome", db_.sealed(outcome))
                                            .set(":now", event.at));
        put_referral_event(db_, u, event);
        for (const auto& m : outbox) put_outbound(db_, u, m);
        u.commit();
        r.status = to;
        if (!reason.empty()) r.reason = reason;
        if (!outcome.empty()) r.outcome = outcome;
        r.updated_at = event.at;
        return r;
    });
}

void pg_referrals::record_referral_event(const referral_event& e) {
    db_.write(__func__, [&](unit& u) {
        put_referral_event(db_, u, e);
        u.commit();
    });
}

std::vector<referral_event> pg_referrals::referral_events(long long referral_id) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<referral_event> out;
        for (const auto& row :
             u.exec(sql_referral_events, params().set(":referral_id", referral_id)))
            out.push_back({row["referral_id"].as<long long>(), row["actor"].as<std::string>(),
                           row["action"].as<std::string>(), db_.unseal(row["detail"]),
                           row["at"].as<long long>()});
        return out;
    });
}

std::vector<referral_record> pg_referrals::overdue_referrals(long long now) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<referral_record> out;
        for (const auto& row : u.exec(sql_overdue_referrals, params().set(":now", now)))
            out.push_back(read_referral(db_, row));
        return out;
    });
}

std::map<std::string, std::size_t> pg_referrals::open_referral_counts() {
    return db_.read(__func__, [&](unit& u) {
        std::map<std::string, std::size_t> out;
        for (const auto& row : u.exec(sql_open_referral_counts))
            out[row["partner"].as<std::string>()] = row["n"].as<std::size_t>();
        return out;
    });
}

std::set<std::string> pg_referrals::paused_partners() {
    return db_.read(__func__, [&](unit& u) {
        std::set<std::string> out;
        for (const auto& row : u.exec(sql_paused_partners))
            out.insert(row["partner"].as<std::string>());
        return out;
    });
}

void pg_referrals::set_partner_paused(const std::string& partner, bool paused,
                                      const audit_entry& audit) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_set_partner_paused,
               params().set(":partner", partner).set(":paused", paused).set(":now", audit.at));
        put_audit(u, audit);
        u.commit();
    });
}

}  // namespace gw::store::postgres

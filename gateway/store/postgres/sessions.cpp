// Menu sessions (sealed id, number and state; looked up by keyed hash) and
// her remembered language.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {

const char session_columns[] =
    "id_sealed, phone_sealed, channel, state, status, started_at, updated_at";

namespace {

const statement sql_get_language{"SELECT language FROM subscribers WHERE phone = :phone"};
const statement sql_put_language{
    "INSERT INTO subscribers (phone, language, created_at, updated_at) VALUES (:phone, "
    ":language, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint) "
    "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
    "updated_at = excluded.updated_at"};
const statement sql_put_session{
    "INSERT INTO sessions (id, phone, channel, state, status, started_at, updated_at, id_sealed, "
    "phone_sealed) VALUES (:id, :phone, :channel, :state::bytea, :status, :started_at::bigint, "
    ":updated_at::bigint, :id_sealed::bytea, :phone_sealed::bytea) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status, "
    "updated_at = excluded.updated_at"};
const statement sql_find_session{std::string("SELECT ") + session_columns +
                                 " FROM sessions WHERE id = :id"};
const statement sql_find_resumable{
    std::string("SELECT ") + session_columns +
    " FROM sessions WHERE phone = :phone AND status IN ('active', 'abandoned') AND "
    "updated_at >= :since::bigint AND id <> :except_id ORDER BY updated_at DESC LIMIT 1"};
const statement sql_set_session_status{"UPDATE sessions SET status = :status WHERE id = :id"};
const statement sql_abandon_idle{
    "UPDATE sessions SET status = 'abandoned' WHERE status = 'active' AND "
    "updated_at < :before::bigint"};

void put_language(database& db, unit& u, const std::string& phone, const std::string& lang) {
    u.exec(sql_put_language, params().set(":phone", db.lookup_hash(phone)).set(":language", lang));
}

}  // namespace

session_record read_session(const database& db, const pqxx::row& row) {
    session_record s;
    s.id = db.unseal(row["id_sealed"]);
    s.phone = db.unseal(row["phone_sealed"]);
    s.channel = row["channel"].as<std::string>();
    s.state = db.unseal(row["state"]);
    s.status = stored_session_status(row["status"].as<std::string>());
    s.started_at = row["started_at"].as<long long>();
    s.updated_at = row["updated_at"].as<long long>();
    return s;
}

void put_session(database& db, unit& u, const session_record& s) {
    u.exec(sql_put_session, params()
                                .set(":id", db.lookup_hash(s.id))
                                .set(":phone", db.lookup_hash(s.phone))
                                .set(":channel", s.channel)
                                .set(":state", db.sealed(s.state))
                                .set(":status", s.status)
                                .set(":started_at", s.started_at)
                                .set(":updated_at", s.updated_at)
                                .set(":id_sealed", db.sealed(s.id))
                                .set(":phone_sealed", db.sealed(s.phone)));
    if (!s.remember_language.empty()) put_language(db, u, s.phone, s.remember_language);
}

std::optional<std::string> pg_sessions::subscriber_language(const std::string& phone) {
    return db_.read(__func__, [&](unit& u) -> std::optional<std::string> {
        auto r = u.exec(sql_get_language, params().set(":phone", db_.lookup_hash(phone)));
        if (r.empty() || r[0]["language"].is_null()) return std::nullopt;
        return r[0]["language"].as<std::string>();
    });
}

void pg_sessions::set_subscriber_language(const std::string& phone, const std::string& lang) {
    db_.write(__func__, [&](unit& u) {
        put_language(db_, u, phone, lang);
        u.commit();
    });
}

void pg_sessions::save_session(const session_record& s) {
    db_.write(__func__, [&](unit& u) {
        put_session(db_, u, s);
        u.commit();
    });
}

void pg_sessions::save_sessions(const std::vector<session_record>& sessions) {
    if (sessions.empty()) return;
    db_.write(__func__, [&](unit& u) {
        for (const auto& s : sessions) put_session(db_, u, s);
        u.commit();
    });
}

std::optional<session_record> pg_sessions::find_session(const std::string& id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<session_record> {
        auto r = u.exec(sql_find_session, params().set(":id", db_.lookup_hash(id)));
        if (r.empty()) return std::nullopt;
        return read_session(db_, r[0]);
    });
}

std::optional<session_record> pg_sessions::find_resumable_session(const std::string& phone,
                                                                  long long since,
                                                                  const std::string& except_id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<session_record> {
        auto r = u.exec(sql_find_resumable, params()
                                                .set(":phone", db_.lookup_hash(phone))
                                                .set(":since", since)
                                                .set(":except_id", db_.lookup_hash(except_id)));
        if (r.empty()) return std::nullopt;
        return read_session(db_, r[0]);
    });
}

void pg_sessions::set_session_status(const std::string& id, session_status status) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_set_session_status,
               params().set(":id", db_.lookup_hash(id)).set(":status", status));
        u.commit();
    });
}

std::size_t pg_sessions::abandon_idle_sessions(long long before) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_abandon_idle, params().set(":before", before));
        u.commit();
        return static_cast<std::size_t>(r.affected_rows());
    });
}

}  // namespace gw::store::postgres

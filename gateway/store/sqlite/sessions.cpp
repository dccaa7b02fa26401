// Menu sessions (sealed id, number and state; looked up by keyed hash) and
// her remembered language.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {

const char session_columns[] =
    "id_sealed, phone_sealed, channel, state, status, started_at, updated_at";

namespace {

const std::string sql_get_language = "SELECT language FROM subscribers WHERE phone = :phone";
const std::string sql_put_language =
    "INSERT INTO subscribers (phone, language, created_at, updated_at) "
    "VALUES (:phone, :language, strftime('%s','now'), strftime('%s','now')) "
    "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
    "updated_at = excluded.updated_at";
const std::string sql_put_session =
    "INSERT INTO sessions (id, phone, channel, state, status, started_at, updated_at, id_sealed, "
    "phone_sealed) VALUES (:id, :phone, :channel, :state, :status, :started_at, :updated_at, "
    ":id_sealed, :phone_sealed) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, status = excluded.status, "
    "updated_at = excluded.updated_at";
const std::string sql_find_session =
    std::string("SELECT ") + session_columns + " FROM sessions WHERE id = :id";
const std::string sql_find_resumable =
    std::string("SELECT ") + session_columns +
    " FROM sessions WHERE phone = :phone AND status IN ('active', 'abandoned') AND "
    "updated_at >= :since AND id <> :except_id ORDER BY updated_at DESC LIMIT 1";
const std::string sql_set_session_status = "UPDATE sessions SET status = :status WHERE id = :id";
const std::string sql_abandon_idle =
    "UPDATE sessions SET status = 'abandoned' WHERE status = 'active' AND updated_at < :before";

void put_language(database& db, const std::string& phone, const std::string& lang) {
    auto& st = db.cached(sql_put_language);
    bind_param(st, ":phone", db.lookup_hash(phone));
    bind_param(st, ":language", lang);
    st.exec();
}

}  // namespace

session_record read_session(const database& db, const SQLite::Statement& st) {
    session_record s;
    s.id = db.unseal(st.getColumn("id_sealed"));
    s.phone = db.unseal(st.getColumn("phone_sealed"));
    s.channel = st.getColumn("channel").getString();
    s.state = db.unseal(st.getColumn("state"));
    s.status = stored_session_status(st.getColumn("status").getString());
    s.started_at = st.getColumn("started_at").getInt64();
    s.updated_at = st.getColumn("updated_at").getInt64();
    return s;
}

void put_session(database& db, const session_record& s) {
    auto& st = db.cached(sql_put_session);
    bind_param(st, ":id", db.lookup_hash(s.id));
    bind_param(st, ":phone", db.lookup_hash(s.phone));
    bind_param(st, ":channel", s.channel);
    db.bind_sealed(st, ":state", s.state);
    bind_param(st, ":status", s.status);
    bind_param(st, ":started_at", s.started_at);
    bind_param(st, ":updated_at", s.updated_at);
    db.bind_sealed(st, ":id_sealed", s.id);
    db.bind_sealed(st, ":phone_sealed", s.phone);
    st.exec();
    if (!s.remember_language.empty()) put_language(db, s.phone, s.remember_language);
}

std::optional<std::string> sqlite_sessions::subscriber_language(const std::string& phone) {
    return db_.read(__func__, [&](connection& c) -> std::optional<std::string> {
        auto& st = c.cached(sql_get_language);
        bind_param(st, ":phone", db_.lookup_hash(phone));
        if (!st.executeStep() || st.isColumnNull("language")) return std::nullopt;
        return st.getColumn("language").getString();
    });
}

void sqlite_sessions::set_subscriber_language(const std::string& phone, const std::string& lang) {
    db_.write(__func__, [&](unit_tx& tx) {
        put_language(db_, phone, lang);
        tx.commit();
    });
}

void sqlite_sessions::save_session(const session_record& s) {
    db_.write(__func__, [&](unit_tx& tx) {
        put_session(db_, s);
        tx.commit();
    });
}

void sqlite_sessions::save_sessions(const std::vector<session_record>& sessions) {
    if (sessions.empty()) return;
    db_.write(__func__, [&](unit_tx& tx) {
        for (const auto& s : sessions) put_session(db_, s);
        tx.commit();
    });
}

std::optional<session_record> sqlite_sessions::find_session(const std::string& id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<session_record> {
        auto& st = c.cached(sql_find_session);
        bind_param(st, ":id", db_.lookup_hash(id));
        if (!st.executeStep()) return std::nullopt;
        return read_session(db_, st);
    });
}

std::optional<session_record> sqlite_sessions::find_resumable_session(
    const std::string& phone, long long since, const std::string& except_id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<session_record> {
        auto& st = c.cached(sql_find_resumable);
        bind_param(st, ":phone", db_.lookup_hash(phone));
        bind_param(st, ":since", since);
        bind_param(st, ":except_id", db_.lookup_hash(except_id));
        if (!st.executeStep()) return std::nullopt;
        return read_session(db_, st);
    });
}

void sqlite_sessions::set_session_status(const std::string& id, session_status status) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_set_session_status);
        bind_param(st, ":id", db_.lookup_hash(id));
        bind_param(st, ":status", status);
        st.exec();
        tx.commit();
    });
}

std::size_t sqlite_sessions::abandon_idle_sessions(long long before) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_abandon_idle);
        bind_param(st, ":before", before);
        std::size_t n = st.exec();
        tx.commit();
        return n;
    });
}

}  // namespace gw::store::sqlite

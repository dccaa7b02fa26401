// Operators' accounts (Argon2id hashes only) and log-in sessions, kept by
// the hash of their token.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {

const char operator_columns[] =
    "operators.id AS id, username, display_name, role, password_hash, active, "
    "operators.created_at AS created_at";

namespace {

const std::string sql_insert_operator =
    "INSERT INTO operators (username, display_name, role, password_hash, active, created_at, "
    "updated_at) VALUES (:username, :display_name, :role, :password_hash, :active, :created_at, "
    ":created_at)";
const std::string sql_update_operator =
    "UPDATE operators SET display_name = :display_name, role = :role, password_hash = "
    ":password_hash, active = :active, updated_at = :now WHERE id = :id";
const std::string sql_end_sessions_of = "DELETE FROM operator_sessions WHERE operator_id = :id";
const std::string sql_operator_by_name =
    std::string("SELECT ") + operator_columns + " FROM operators WHERE username = :username";
const std::string sql_all_operators =
    std::string("SELECT ") + operator_columns + " FROM operators ORDER BY username";
const std::string sql_insert_session =
    "INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) VALUES "
    "(:token_hash, :operator_id, :now, :expires_at)";
const std::string sql_operator_for_session =
    std::string("SELECT ") + operator_columns +
    " FROM operators JOIN operator_sessions s ON s.operator_id = operators.id WHERE "
    "s.token_hash = :token_hash AND s.expires_at > :now AND operators.active = 1";
const std::string sql_end_session = "DELETE FROM operator_sessions WHERE token_hash = :token_hash";

}  // namespace

operator_account read_operator(const SQLite::Statement& st) {
    operator_account a;
    a.id = st.getColumn("id").getInt64();
    a.username = st.getColumn("username").getString();
    a.display_name = st.getColumn("display_name").getString();
    a.role = st.getColumn("role").getString();
    a.password_hash = st.getColumn("password_hash").getString();
    a.active = st.getColumn("active").getInt() != 0;
    a.created_at = st.getColumn("created_at").getInt64();
    return a;
}

long long sqlite_operators::create_operator(const operator_account& a, const audit_entry& audit) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_insert_operator);
        bind_param(st, ":username", a.username);
        bind_param(st, ":display_name", a.display_name);
        bind_param(st, ":role", a.role);
        bind_param(st, ":password_hash", a.password_hash);
        bind_param(st, ":active", a.active);
        bind_param(st, ":created_at", a.created_at);
        st.exec();
        long long id = db_.last_insert_id();
        put_audit(db_, audit);
        tx.commit();
        return id;
    });
}

void sqlite_operators::update_operator(const operator_account& a, const audit_entry& audit,
                                       bool sign_out) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_update_operator);
        bind_param(st, ":id", a.id);
        bind_param(st, ":display_name", a.display_name);
        bind_param(st, ":role", a.role);
        bind_param(st, ":password_hash", a.password_hash);
        bind_param(st, ":active", a.active);
        bind_param(st, ":now", audit.at);
        st.exec();
        if (sign_out) {
            auto& end = db_.cached(sql_end_sessions_of);
            bind_param(end, ":id", a.id);
            end.exec();
        }
        put_audit(db_, audit);
        tx.commit();
    });
}

std::optional<operator_account> sqlite_operators::find_operator(const std::string& username) {
    return db_.read(__func__, [&](connection& c) -> std::optional<operator_account> {
        auto& st = c.cached(sql_operator_by_name);
        bind_param(st, ":username", username);
        if (!st.executeStep()) return std::nullopt;
        return read_operator(st);
    });
}

std::vector<operator_account> sqlite_operators::operators() {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_all_operators);
        std::vector<operator_account> out;
        while (st.executeStep()) out.push_back(read_operator(st));
        return out;
    });
}

void sqlite_operators::create_operator_session(const std::string& token_hash, long long operator_id,
                                               long long now, long long expires_at,
                                               const audit_entry& audit) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_insert_session);
        bind_param(st, ":token_hash", token_hash);
        bind_param(st, ":operator_id", operator_id);
        bind_param(st, ":now", now);
        bind_param(st, ":expires_at", expires_at);
        st.exec();
        put_audit(db_, audit);
        tx.commit();
    });
}

std::optional<operator_account> sqlite_operators::operator_for_session(
    const std::string& token_hash, long long now) {
    return db_.read(__func__, [&](connection& c) -> std::optional<operator_account> {
        auto& st = c.cached(sql_operator_for_session);
        bind_param(st, ":token_hash", token_hash);
        bind_param(st, ":now", now);
        if (!st.executeStep()) return std::nullopt;
        return read_operator(st);
    });
}

void sqlite_operators::end_operator_session(const std::string& token_hash) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_end_session);
        bind_param(st, ":token_hash", token_hash);
        st.exec();
        tx.commit();
    });
}

}  // namespace gw::store::sqlite

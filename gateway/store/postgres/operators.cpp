// Operators' accounts (Argon2id hashes only) and log-in sessions, kept by
// the hash of their token; shared by every node.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {

const char operator_columns[] =
    "operators.id AS id, username, display_name, role, password_hash, active, "
    "operators.created_at AS created_at";

namespace {

const statement sql_insert_operator{
    "INSERT INTO operators (username, display_name, role, password_hash, active, created_at, "
    "updated_at) VALUES (:username, :display_name, :role, :password_hash, :active::integer, "
    ":created_at::bigint, :created_at::bigint) RETURNING id"};
const statement sql_update_operator{
    "UPDATE operators SET display_name = :display_name, role = :role, password_hash = "
    ":password_hash, active = :active::integer, updated_at = :now::bigint WHERE id = :id::bigint"};
const statement sql_end_sessions_of{
    "DELETE FROM operator_sessions WHERE operator_id = :id::bigint"};
const statement sql_operator_by_name{std::string("SELECT ") + operator_columns +
                                     " FROM operators WHERE username = :username"};
const statement sql_all_operators{std::string("SELECT ") + operator_columns +
                                  " FROM operators ORDER BY username"};
const statement sql_insert_session{
    "INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) VALUES "
    "(:token_hash, :operator_id::bigint, :now::bigint, :expires_at::bigint)"};
const statement sql_operator_for_session{
    std::string("SELECT ") + operator_columns +
    " FROM operators JOIN operator_sessions s ON s.operator_id = operators.id WHERE "
    "s.token_hash = :token_hash AND s.expires_at > :now::bigint AND operators.active = 1"};
const statement sql_end_session{"DELETE FROM operator_sessions WHERE token_hash = :token_hash"};

}  // namespace

operator_account read_operator(const pqxx::row& row) {
    operator_account a;
    a.id = row["id"].as<long long>();
    a.username = row["username"].as<std::string>();
    a.display_name = row["display_name"].as<std::string>();
    a.role = row["role"].as<std::string>();
    a.password_hash = row["password_hash"].as<std::string>();
    a.active = row["active"].as<int>() != 0;
    a.created_at = row["created_at"].as<long long>();
    return a;
}

long long pg_operators::create_operator(const operator_account& a, const audit_entry& audit) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_insert_operator, params()
                                                 .set(":username", a.username)
                                                 .set(":display_name", a.display_name)
                                                 .set(":role", a.role)
                                                 .set(":password_hash", a.password_hash)
                                                 .set(":active", a.active)
                                                 .set(":created_at", a.created_at));
        put_audit(u, audit);
        u.commit();
        return r[0]["id"].as<long long>();
    });
}

void pg_operators::update_operator(const operator_account& a, const audit_entry& audit,
                                   bool sign_out) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_update_operator, params()
                                        .set(":id", a.id)
                                        .set(":display_name", a.display_name)
                                        .set(":role", a.role)
                                        .set(":password_hash", a.password_hash)
                                        .set(":active", a.active)
                                        .set(":now", audit.at));
        if (sign_out) u.exec(sql_end_sessions_of, params().set(":id", a.id));
        put_audit(u, audit);
        u.commit();
    });
}

std::optional<operator_account> pg_operators::find_operator(const std::string& username) {
    return db_.read(__func__, [&](unit& u) -> std::optional<operator_account> {
        auto r = u.exec(sql_operator_by_name, params().set(":username", username));
        if (r.empty()) return std::nullopt;
        return read_operator(r[0]);
    });
}

std::vector<operator_account> pg_operators::operators() {
    return db_.read(__func__, [&](unit& u) {
        std::vector<operator_account> out;
        for (const auto& row : u.exec(sql_all_operators)) out.push_back(read_operator(row));
        return out;
    });
}

void pg_operators::create_operator_session(const std::string& token_hash, long long operator_id,
                                           long long now, long long expires_at,
                                           const audit_entry& audit) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_insert_session, params()
                                       .set(":token_hash", token_hash)
                                       .set(":operator_id", operator_id)
                                       .set(":now", now)
                                       .set(":expires_at", expires_at));
        put_audit(u, audit);
        u.commit();
    });
}

std::optional<operator_account> pg_operators::operator_for_session(const std::string& token_hash,
                                                                   long long now) {
    return db_.read(__func__, [&](unit& u) -> std::optional<operator_account> {
        auto r = u.exec(sql_operator_for_session,
                        params().set(":token_hash", token_hash).set(":now", now));
        if (r.empty()) return std::nullopt;
        return read_operator(r[0]);
    });
}

void pg_operators::end_operator_session(const std::string& token_hash) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_end_session, params().set(":token_hash", token_hash));
        u.commit();
    });
}

}  // namespace gw::store::postgres

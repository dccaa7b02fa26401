// Rate-limit windows and log-in back-off, keyed by keyed hash, shared by
// every node.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {
namespace {

const statement sql_count_event{
    "INSERT INTO rate_windows (key, window_start, count) VALUES (:key, :window_start::bigint, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_windows.count + 1 "
    "RETURNING count"};
const statement sql_drop_old_windows{
    "DELETE FROM rate_windows WHERE window_start < :window_start::bigint - 86400"};
const statement sql_find_throttle{
    "SELECT failures, blocked_until, last FROM throttles WHERE key = :key"};
// The row locked (made first if missing): two nodes' failures take turns.
const statement sql_lock_throttle{
    "INSERT INTO throttles (key, failures, blocked_until, last) VALUES (:key, 0, 0, 0) "
    "ON CONFLICT (key) DO UPDATE SET key = excluded.key "
    "RETURNING failures, blocked_until, last"};
const statement sql_put_throttle{
    "UPDATE throttles SET failures = :failures::integer, blocked_until = "
    ":blocked_until::bigint, last = :last::bigint WHERE key = :key"};
const statement sql_forget_throttle{"DELETE FROM throttles WHERE key = :key"};

throttle_state read_throttle(const pqxx::row& row) {
    return {row["failures"].as<int>(), row["blocked_until"].as<long long>(),
            row["last"].as<long long>()};
}

}  // namespace

long long pg_limits::count_event(const std::string& key, long long window_start) {
    const bool tidy = ++events_ % 256 == 0;
    return db_.write(__func__, [&](unit& u) {
        auto r =
            u.exec(sql_count_event,
                   params().set(":key", db_.lookup_hash(key)).set(":window_start", window_start));
        if (tidy) u.exec(sql_drop_old_windows, params().set(":window_start", window_start));
        u.commit();
        return r[0]["count"].as<long long>();
    });
}

std::optional<throttle_state> pg_limits::find_throttle(const std::string& key) {
    return db_.read(__func__, [&](unit& u) -> std::optional<throttle_state> {
        auto r = u.exec(sql_find_throttle, params().set(":key", db_.lookup_hash(key)));
        if (r.empty()) return std::nullopt;
        return read_throttle(r[0]);
    });
}

throttle_state pg_limits::update_throttle(const std::string& key,
                                          const std::function<void(throttle_state&)>& change) {
    return db_.write(__func__, [&](unit& u) {
        const std::string hashed = db_.lookup_hash(key);
        throttle_state s =
            read_throttle(u.exec(sql_lock_throttle, params().set(":key", hashed))[0]);
        change(s);
        if (s.failures == 0)
            u.exec(sql_forget_throttle, params().set(":key", hashed));
        else
            u.exec(sql_put_throttle, params()
                                         .set(":key", hashed)
                                         .set(":failures", s.failures)
                                         .set(":blocked_until", s.blocked_until)
                                         .set(":last", s.last));
        u.commit();
        return s;
    });
}

}  // namespace gw::store::postgres

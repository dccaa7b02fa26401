// Rate-limit windows and log-in back-off, keyed by keyed hash.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {
namespace {

const std::string sql_count_event =
    "INSERT INTO rate_windows (key, window_start, count) VALUES (:key, :window_start, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count";
const std::string sql_drop_old_windows =
    "DELETE FROM rate_windows WHERE window_start < :window_start - 86400";
const std::string sql_find_throttle =
    "SELECT failures, blocked_until, last FROM throttles WHERE key = :key";
const std::string sql_put_throttle =
    "INSERT INTO throttles (key, failures, blocked_until, last) VALUES (:key, :failures, "
    ":blocked_until, :last) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
    "blocked_until = excluded.blocked_until, last = excluded.last";
const std::string sql_forget_throttle = "DELETE FROM throttles WHERE key = :key";

throttle_state read_throttle(const SQLite::Statement& st) {
    return {st.getColumn("failures").getInt(), st.getColumn("blocked_until").getInt64(),
            st.getColumn("last").getInt64()};
}

}  // namespace

long long sqlite_limits::count_event(const std::string& key, long long window_start) {
    const bool tidy = ++events_ % 256 == 0;
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_count_event);
        bind_param(st, ":key", db_.lookup_hash(key));
        bind_param(st, ":window_start", window_start);
        st.executeStep();
        const long long n = st.getColumn("count").getInt64();
        st.reset();
        if (tidy) {
            auto& drop = db_.cached(sql_drop_old_windows);
            bind_param(drop, ":window_start", window_start);
            drop.exec();
        }
        tx.commit();
        return n;
    });
}

std::optional<throttle_state> sqlite_limits::find_throttle(const std::string& key) {
    return db_.read(__func__, [&](connection& c) -> std::optional<throttle_state> {
        auto& st = c.cached(sql_find_throttle);
        bind_param(st, ":key", db_.lookup_hash(key));
        if (!st.executeStep()) return std::nullopt;
        return read_throttle(st);
    });
}

throttle_state sqlite_limits::update_throttle(const std::string& key,
                                              const std::function<void(throttle_state&)>& change) {
    return db_.write(__func__, [&](unit_tx& tx) {
        const std::string hashed = db_.lookup_hash(key);
        throttle_state s;
        {
            auto& st = db_.cached(sql_find_throttle);
            bind_param(st, ":key", hashed);
            if (st.executeStep()) s = read_throttle(st);
            st.reset();
        }
        change(s);
        if (s.failures == 0) {
            auto& st = db_.cached(sql_forget_throttle);
            bind_param(st, ":key", hashed);
            st.exec();
        } else {
            auto& st = db_.cached(sql_put_throttle);
            bind_param(st, ":key", hashed);
            bind_param(st, ":failures", s.failures);
            bind_param(st, ":blocked_until", s.blocked_until);
            bind_param(st, ":last", s.last);
            st.exec();
        }
        tx.commit();
        return s;
    });
}

}  // namespace gw::store::sqlite

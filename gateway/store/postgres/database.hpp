#pragma once
// The PostgreSQL machinery every aggregate of the store shares: a pool of
// connections, one transaction per unit of work (READ COMMITTED; the
// operations that read-modify-write lock their rows with FOR UPDATE),
// statements written with :named parameters and prepared once per
// connection, sealed columns as bytea. Several gateway nodes share one
// database: nothing here is kept in memory between units of work.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/sealing.hpp"
#include "store/health.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

namespace gw::store::postgres {

// A statement written with :named parameters (":phone"), turned once into
// PostgreSQL's $1.. with the names in order. "::type" casts are left alone.
class statement {
  public:
    explicit statement(std::string named_sql);
    const std::string& sql() const { return sql_; }
    const std::string& id() const { return id_; }  // its prepared name
    const std::vector<std::string>& names() const { return names_; }

  private:
    std::string sql_, id_;
    std::vector<std::string> names_;
};

// Values for a statement's names, all sent as text (NULL = unset optional).
class params {
  public:
    // `name` with or without its leading ':'.
    template <class T>
    params& set(const char* name, const T& value) {
        if (*name == ':') ++name;
        if constexpr (std::is_same_v<T, bool>)
            values_.emplace_back(name, value ? "1" : "0");
        else if constexpr (std::is_integral_v<T>)
            values_.emplace_back(name, std::to_string(static_cast<long long>(value)));
        else if constexpr (std::is_same_v<T, std::optional<bool>>)
            values_.emplace_back(
                name, value ? std::optional<std::string>(*value ? "1" : "0") : std::nullopt);
        else if constexpr (std::is_same_v<T, std::optional<std::string>>)
            values_.emplace_back(name, value);
        else if constexpr (std::is_same_v<T, case_status> || std::is_same_v<T, referral_status> ||
                           std::is_same_v<T, session_status> || std::is_same_v<T, message_status>)
            values_.emplace_back(name,
                                 std::string(domain::name(value)));  // the column holds its name
        else
            values_.emplace_back(name, std::string(value));
        return *this;
    }
    params& null(const char* name) {
        if (*name == ':') ++name;
        values_.emplace_back(name, std::nullopt);
        return *this;
    }
    // In the statement's order; throws store_error for a name not set.
    std::vector<std::optional<std::string>> in_order(const statement& st) const;

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> values_;
};

struct pooled_connection {
    std::unique_ptr<pqxx::connection> conn;
    std::set<std::string> prepared;
};

// One unit of work's transaction. What it does stays only if commit() is
// called before it ends.
class unit {
  public:
    unit(pooled_connection& c, pqxx::work& w) : c_(c), w_(w) {}
    pqxx::result exec(const statement& st, const params& p = {});
    // Several statements without parameters (migrations).
    void exec_script(const std::string& sql) { w_.exec(sql); }
    void commit() { committed_ = true; }
    bool committed() const { return committed_; }

  private:
    pooled_connection& c_;
    pqxx::work& w_;
    bool committed_ = false;
};

class database {
  public:
    database(std::string url, const data_sealer& sealer, storage_health* health,
             std::size_t pool_size);
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    // One read in its own transaction. Errors become store_error (an
    // unreachable database says so); any failure raises the storage alarm.
    template <class F>
    auto read(const char* method, F&& f) -> decltype(f(std::declval<unit&>())) {
        return run(method, false, std::forward<F>(f), false);
    }
    // One unit of work: `f` calls commit() for what it wants kept; a
    // serialization failure or deadlock is retried (the work is redone).
    // As with SQLite, only a `durable` write (a case: what she is promised)
    // waits for the server's disk; the others are committed for every node
    // to see at once but flushed by the server's WAL writer (a crash of the
    // database server, not of a node, may lose their last moments).
    template <class F>
    auto write(const char* method, F&& f, bool durable = false)
        -> decltype(f(std::declval<unit&>())) {
        return run(method, true, std::forward<F>(f), durable);
    }

    // Sealed columns travel as bytea ("\x" hex text); "" stays "".
    std::string sealed(const std::string& plain) const;
    std::string unseal(const pqxx::field& f) const;
    std::string lookup_hash(const std::string& value) const { return sealer_.lookup_hash(value); }
    std::string number_ending_hash(const std::string& number) const {
        return sealer_.number_ending_hash(number);
    }
    const data_sealer& sealer() const { return sealer_; }
    // Each write is its own transaction: commits = writes; durable ones
    // are those the server flushed before answering (synchronous_commit on).
    commit_stats stats() const {
        const long long n = commits_.load();
        return {n, durable_commits_.load(), n};
    }

  private:
    template <class F>
    auto run(const char* method, bool is_write, F&& f, bool durable)
        -> decltype(f(std::declval<unit&>()));
    pooled_connection* borrow();
    void give_back(pooled_connection* c, bool broken);
    [[noreturn]] void fail(const char* method, const std::string& what);

    const std::string url_;
    const data_sealer sealer_;
    storage_health* const health_;
    const std::size_t pool_size_;
    std::mutex mutex_;
    std::condition_variable free_;
    std::vector<std::unique_ptr<pooled_connection>> all_;
    std::vector<pooled_connection*> idle_;
    std::size_t opening_ = 0;  // slots being connected
    std::atomic<long long> commits_{0}, durable_commits_{0};
};

template <class F>
auto database::run(const char* method, bool is_write, F&& f, bool durable)
    -> decltype(f(std::declval<unit&>())) {
    using result_type = decltype(f(std::declval<unit&>()));
    for (int attempt = 0;; ++attempt) {
        pooled_connection* c = nullptr;
        try {
            c = borrow();
            // The transaction ends (committed or rolled back) before the
            // connection goes back to the pool.
            if constexpr (std::is_void_v<result_type>) {
                {
                    pqxx::work w(*c->conn);
                    if (durable) w.exec("SET LOCAL synchronous_commit TO on");
                    unit u(*c, w);
                    f(u);
                    if (u.committed()) {
                        w.commit();
                        ++commits_;
                        if (durable) ++durable_commits_;
                    }
                }
                give_back(c, false);
                if (is_write && health_) health_->write_succeeded();
                return;
            } else {
                std::optional<result_type> out;
                {
                    pqxx::work w(*c->conn);
                    if (durable) w.exec("SET LOCAL synchronous_commit TO on");
                    unit u(*c, w);
                    out.emplace(f(u));
                    if (u.committed()) {
                        w.commit();
                        ++commits_;
                        if (durable) ++durable_commits_;
                    }
                }
                give_back(c, false);
                if (is_write && health_) health_->write_succeeded();
                return std::move(*out);
            }
        } catch (const pqxx::broken_connection& e) {
            if (c) give_back(c, true);
            fail(method, std::string("database unreachable: ") + e.what());
        } catch (const pqxx::in_doubt_error& e) {
            if (c) give_back(c, true);
            fail(method, std::string("commit in doubt: ") + e.what());
        } catch (const pqxx::serialization_failure& e) {
            if (c) give_back(c, false);
            if (attempt >= 3) fail(method, e.what());  // else redo the work
        } catch (const pqxx::deadlock_detected& e) {
            if (c) give_back(c, false);
            if (attempt >= 3) fail(method, e.what());
        } catch (const pqxx::sql_error& e) {
            if (c) give_back(c, false);
            fail(method, e.what());
        } catch (const pqxx::failure& e) {
            if (c) give_back(c, true);
            fail(method, e.what());
        } catch (...) {
            if (c) give_back(c, false);
            throw;
        }
    }
}

// Opens the pool and applies pending migrations (schema.cpp).
void migrate(database& db);

}  // namespace gw::store::postgres

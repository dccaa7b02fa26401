#pragma once
// The SQLite machinery every aggregate of the store shares, in WAL mode:
// one writer thread owns the write connection and commits the writes
// queued meanwhile together (group commit: one fsync for every case of a
// batch); reads run on connections of their own. Each aggregate
// (sessions.cpp, cases.cpp, ...) keeps its SQL beside its methods, as
// named constants, and binds and reads columns by name.
#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/sealing.hpp"
#include "store/health.hpp"
#include "store/records.hpp"
#include "store/store.hpp"

namespace gw::store::sqlite {

// A connection with the statements prepared on it, each kept by its SQL.
struct connection {
    SQLite::Database& db;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements;

    // A prepared statement kept for reuse, reset and ready to bind.
    SQLite::Statement& cached(const std::string& sql);
};

// A write's view of its transaction: what it does stays only if it calls
// commit() (its own savepoint inside the group's transaction).
struct unit_tx {
    bool committed = false;
    void commit() { committed = true; }
};

// Binds a value to a named parameter (":name"): integers as 64-bit,
// bools as 0/1, an unset optional as NULL.
template <class T>
void bind_param(SQLite::Statement& st, const char* name, const T& value) {
    if constexpr (std::is_same_v<T, bool>)
        st.bind(name, value ? 1 : 0);
    else if constexpr (std::is_integral_v<T>)
        st.bind(name, static_cast<int64_t>(value));
    else if constexpr (std::is_same_v<T, std::optional<bool>>) {
        if (value)
            st.bind(name, *value ? 1 : 0);
        else
            st.bind(name);
    } else if constexpr (std::is_same_v<T, case_status> || std::is_same_v<T, referral_status> ||
                         std::is_same_v<T, session_status> || std::is_same_v<T, message_status>)
        st.bind(name, std::string(domain::name(value)));  // the column holds its name
    else if constexpr (std::is_array_v<T>)
        st.bind(name, static_cast<const char*>(value));
    else
        st.bind(name, value);
}

class database {
  public:
    database(const std::string& path, const data_sealer& sealer, const sqlite_options& options);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    // One read on whichever reader connection is free (the writer's for a
    // database without a file). SQLite errors become store_error.
    template <class F>
    auto read(const char* method, F&& f) -> decltype(f(std::declval<connection&>()));

    // One unit of work under the writer; `f` commits what it wants kept
    // (leaving without commit undoes it). Returns once committed; a
    // `durable` write's batch is fsynced (synchronous=FULL) first.
    template <class F>
    auto write(const char* method, F&& f, bool durable = false)
        -> decltype(f(std::declval<unit_tx&>()));

    // Work that needs the write connection to itself, outside the group
    // commit (the purge's own transaction and checkpoint).
    template <class F>
    auto exclusive(const char* method, F&& f) -> decltype(f(std::declval<connection&>()));

    // Inside write(): a prepared statement of the writer's connection.
    SQLite::Statement& cached(const std::string& sql) { return writer_.cached(sql); }
    long long last_insert_id() { return db_.getLastInsertRowid(); }

    // Sealed columns: "" is stored as "" (nothing to hide), NULL and "" read as "".
    void bind_sealed(SQLite::Statement& st, const char* name, const std::string& plain) const;
    std::string unseal(const SQLite::Column& col) const;
    // The keyed hash a number or id is looked up by (never the number).
    std::string lookup_hash(const std::string& value) const { return sealer_.lookup_hash(value); }
    std::string number_ending_hash(const std::string& number) const {
        return sealer_.number_ending_hash(number);
    }

    commit_stats stats() const {
        return {stats_.commits.load(), stats_.durable_commits.load(), stats_.writes.load()};
    }

  private:
    struct write_job {
        write_job(const char* m, bool d, std::function<void(unit_tx&)> r)
            : method(m), durable(d), run(std::move(r)) {}
        const char* method;
        bool durable;
        std::function<void(unit_tx&)> run;
        std::exception_ptr error;
        // Set by the writer once the job's batch is committed: only its own
        // caller wakes, not every thread waiting on the writer.
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
        void finish();
        void wait();
    };

    struct reader_lease {
        database& owner;
        connection* c;
        ~reader_lease() { owner.return_reader(c); }
    };

    // On every way out of a unit of work: no statement left on a row, no
    // transaction left open.
    struct statement_sweep {
        SQLite::Database& db;
        ~statement_sweep();
    };

    [[noreturn]] void fail(const char* method, const SQLite::Exception& e);
    void submit(write_job& job);
    void writer_loop();
    void commit_batch(std::vector<write_job*>& batch);
    connection* borrow_reader();
    void return_reader(connection* c);

    const data_sealer sealer_;
    storage_health* const health_;
    const std::string path_;
    const std::chrono::milliseconds busy_timeout_;
    const bool separate_readers_;  // false for a database without a file

    std::mutex mutex_;  // the write connection: writer thread or exclusive()
    SQLite::Database db_;
    connection writer_{db_, {}};

    static constexpr std::size_t max_readers = 8;
    std::mutex readers_mutex_;
    std::condition_variable readers_free_;
    struct reader_slot {
        std::unique_ptr<SQLite::Database> db;
        std::unique_ptr<connection> c;  // destroyed before its database
    };
    std::vector<reader_slot> readers_;
    std::vector<connection*> idle_readers_;

    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::vector<write_job*> queue_;
    bool stopping_ = false;
    bool synchronous_full_ = false;  // the writer's current setting (opened NORMAL)
    struct {
        std::atomic<long long> commits{0}, durable_commits{0}, writes{0};
    } stats_;
    std::thread writer_thread_;
    std::thread::id writer_id_;
};

// Opens (creating if needed, 0600) and migrates the database: schema.cpp.
SQLite::Database open_database(const std::string& path, const data_sealer& sealer,
                               const sqlite_options& options);

// Resets every statement of a connection that is still on a row (it would
// hold a read transaction open: no checkpoint could pass it, and writes of
// this connection would fail with SQLITE_BUSY_SNAPSHOT).
void reset_busy_statements(SQLite::Database& db);

template <class F>
auto database::read(const char* method, F&& f) -> decltype(f(std::declval<connection&>())) {
    try {
        if (!separate_readers_) {
            std::lock_guard lock(mutex_);
            statement_sweep sweep{db_};
            return f(writer_);
        }
        reader_lease lease{*this, borrow_reader()};
        statement_sweep sweep{lease.c->db};
        return f(*lease.c);
    } catch (const SQLite::Exception& e) {
        fail(method, e);
    }
}

template <class F>
auto database::write(const char* method, F&& f, bool durable)
    -> decltype(f(std::declval<unit_tx&>())) {
    using result_type = decltype(f(std::declval<unit_tx&>()));
    if (std::this_thread::get_id() == writer_id_)
        throw store_error("a write inside a write would wait for itself");
    if constexpr (std::is_void_v<result_type>) {
        write_job job{method, durable, [&](unit_tx& tx) { f(tx); }};
        submit(job);
    } else {
        std::optional<result_type> result;
        write_job job{method, durable, [&](unit_tx& tx) { result.emplace(f(tx)); }};
        submit(job);
        return std::move(*result);
    }
}

template <class F>
auto database::exclusive(const char* method, F&& f) -> decltype(f(std::declval<connection&>())) {
    std::lock_guard lock(mutex_);
    statement_sweep sweep{db_};
    try {
        if constexpr (std::is_void_v<decltype(f(writer_))>) {
            f(writer_);
            if (health_) health_->write_succeeded();
        } else {
            auto result = f(writer_);
            if (health_) health_->write_succeeded();
            return result;
        }
    } catch (const SQLite::Exception& e) {
        fail(method, e);
    }
}

}  // namespace gw::store::sqlite

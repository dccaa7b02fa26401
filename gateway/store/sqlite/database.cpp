// The shared machinery of the SQLite store: statement cache, readers, and
// the writer thread that commits queued writes together.
#include "store/sqlite/database.hpp"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>

namespace gw::store::sqlite {

void reset_busy_statements(SQLite::Database& db) {
    sqlite3* h = db.getHandle();
    for (sqlite3_stmt* st = sqlite3_next_stmt(h, nullptr); st; st = sqlite3_next_stmt(h, st))
        if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
}

SQLite::Statement& connection::cached(const std::string& sql) {
    auto it = statements.find(sql);
    if (it == statements.end())
        it = statements.emplace(sql, std::make_unique<SQLite::Statement>(db, sql)).first;
    it->second->reset();
    it->second->clearBindings();
    return *it->second;
}

database::statement_sweep::~statement_sweep() {
    reset_busy_statements(db);
    sqlite3* h = db.getHandle();
    if (!sqlite3_get_autocommit(h)) sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
}

database::database(const std::string& path, const data_sealer& sealer,
                   const sqlite_options& options)
    : sealer_(sealer),
      health_(options.health),
      path_(path),
      busy_timeout_(options.busy_timeout),
      separate_readers_(!path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0),
      db_(open_database(path, sealer_, options)) {
    writer_thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "store-writer");  // in top -H and perf
        writer_loop();
    });
    writer_id_ = writer_thread_.get_id();
}

database::~database() {
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_ready_.notify_all();
    writer_thread_.join();
}

// Any SQLite failure raises the storage alarm; only a write that went
// through clears it (a read proves nothing about writes).
void database::fail(const char* method, const SQLite::Exception& e) {
    if (health_) health_->failed(method, e.what());
    throw store_error(e.what());
}

void database::bind_sealed(SQLite::Statement& st, const char* name,
                           const std::string& plain) const {
    if (plain.empty()) {
        st.bind(name, std::string());
        return;
    }
    std::string blob = sealer_.seal(plain);
    st.bind(name, blob.data(), static_cast<int>(blob.size()));
}

std::string database::unseal(const SQLite::Column& col) const {
    if (col.isNull()) return {};
    auto opened = sealer_.open(col.getString());
    if (!opened) throw store_error("sealed data cannot be opened: wrong data key or damaged row");
    return std::move(*opened);
}

// --- Readers: connections of their own (WAL lets them read while the
// writer writes), never the writer's; up to max_readers, opened when needed.

connection* database::borrow_reader() {
    std::unique_lock lock(readers_mutex_);
    readers_free_.wait(lock,
                       [&] { return !idle_readers_.empty() || readers_.size() < max_readers; });
    if (!idle_readers_.empty()) {
        connection* c = idle_readers_.back();
        idle_readers_.pop_back();
        return c;
    }
    auto db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
    db->setBusyTimeout(static_cast<int>(busy_timeout_.count()));
    db->exec("PRAGMA query_only = ON");  // a reader never writes, even by mistake
    auto c = std::make_unique<connection>(connection{*db, {}});
    connection* out = c.get();
    readers_.push_back({std::move(db), std::move(c)});
    return out;
}

void database::return_reader(connection* c) {
    {
        std::lock_guard lock(readers_mutex_);
        idle_readers_.push_back(c);
    }
    readers_free_.notify_one();
}

// --- The writer: one thread owns the write connection. Each write is
// queued and its caller waits; the writer takes everything queued while
// it was committing and commits it in one BEGIN IMMEDIATE transaction,
// each write in a savepoint of its own (one that fails or does not commit
// leaves the others alone), then wakes the callers. The durable writes of
// a batch (cases) are committed after the others, in a transaction of
// their own with synchronous=FULL: one fsync for every case in it.

void database::write_job::finish() {
    // Notified under the lock: the caller cannot return (and free the job)
    // before the writer has let go of it.
    std::lock_guard lock(mutex);
    done = true;
    cv.notify_one();
}

void database::write_job::wait() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done; });
}

void database::submit(write_job& job) {
    bool first;
    {
        std::lock_guard lock(queue_mutex_);
        first = queue_.empty();
        queue_.push_back(&job);
    }
    if (first) queue_ready_.notify_one();  // later ones find the writer awake
    job.wait();
    if (job.error) std::rethrow_exception(job.error);
}

void database::writer_loop() {
    std::vector<write_job*> batch, durable;
    for (;;) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to write
            batch.swap(queue_);
        }
        // Writes that need no fsync (session states, statuses) are committed
        // and answered first; the cases of the batch then share one fsync. A
        // session's hop never waits for someone else's case to reach the
        // disk. (Writes of one batch come from different callers, each
        // waiting for its own: their order among themselves is free.)
        auto first_durable = std::stable_partition(batch.begin(), batch.end(),
                                                   [](const write_job* j) { return !j->durable; });
        durable.assign(first_durable, batch.end());
        batch.erase(first_durable, batch.end());
        for (auto* part : {&batch, &durable}) {
            if (part->empty()) continue;
            commit_batch(*part);
            for (write_job* j : *part) j->finish();
        }
        batch.clear();
        durable.clear();
    }
}

void database::commit_batch(std::vector<write_job*>& batch) {
    std::lock_guard lock(mutex_);
    statement_sweep sweep{db_};
    // Transaction control prepared once, not parsed for every write.
    auto run = [&](const char* sql) { writer_.cached(sql).exec(); };
    auto fail_all = [&](const char* method, const char* what) {
        if (health_) health_->failed(method, what);
        for (write_job* j : batch)
            if (!j->error) j->error = std::make_exception_ptr(store_error(what));
    };
    const bool durable =
        std::any_of(batch.begin(), batch.end(), [](const write_job* j) { return j->durable; });
    try {
        if (durable != synchronous_full_) {
            db_.exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
            synchronous_full_ = durable;
        }
        run("BEGIN IMMEDIATE");
    } catch (const SQLite::Exception& e) {
        fail_all(batch.front()->method, e.what());
        return;
    }
    for (write_job* j : batch) {
        bool undo = true;
        try {
            run("SAVEPOINT unit");
            unit_tx tx;
            j->run(tx);
            undo = !tx.committed;
        } catch (const SQLite::Exception& e) {
            if (health_) health_->failed(j->method, e.what());
            j->error = std::make_exception_ptr(store_error(e.what()));
        } catch (...) {
            j->error = std::current_exception();
        }
        try {
            reset_busy_statements(db_);
            if (undo) run("ROLLBACK TO unit");
            run("RELEASE unit");
        } catch (const SQLite::Exception& e) {
            // The transaction itself is lost (SQLite rolled it back on a
            // full disk or an I/O error): nothing of the batch is kept.
            fail_all(j->method, e.what());
            return;
        }
    }
    try {
        run("COMMIT");
    } catch (const SQLite::Exception& e) {
        fail_all("commit", e.what());
        return;
    }
    ++stats_.commits;
    if (durable) ++stats_.durable_commits;
    stats_.writes += batch.size();
    if (health_) health_->write_succeeded();
}

}  // namespace gw::store::sqlite

// A consistent copy of the live database, taken while the gateway writes.
//
// Why the online backup API inside one read transaction, in steps:
// - The database is in WAL mode: a reader never blocks the writer, and
//   the writer never blocks a reader. Holding one read transaction for the
//   whole copy therefore costs the gateway nothing but a write-ahead log
//   that cannot be reset (it grows) until the copy is done.
// - sqlite3_backup_step() in small steps *without* such a transaction
//   opens a fresh one for each step, and a write by another process (the
//   gateway, every few milliseconds while she is dialling) makes the copy
//   start over: under traffic it might never finish. With the snapshot
//   held, the steps only pace the disk reads (step_pages, pause_ms).
// - VACUUM INTO would give the same snapshot, but rebuilds every table and
//   index on the way (CPU and disk the serving gateway needs, on a 2-core
//   host); the backup API copies the pages as they are, so the copy is the
//   very file a restore puts back. Freed pages hold no old data either way
//   (the gateway runs with secure_delete).
// The copy is created by us with O_EXCL and mode 0600: an existing file is
// never overwritten, and no other user can read it even for a moment.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "store/store.hpp"

namespace gw::store {
namespace {

// Removes the copy and SQLite's files beside it unless disarmed: a copy
// that failed half-way or failed its check must not pass for a backup.
struct partial_copy {
    std::string path;
    bool keep = false;
    ~partial_copy() {
        if (keep) return;
        for (const char* suffix : {"", "-journal", "-wal", "-shm"})
            ::unlink((path + suffix).c_str());
    }
};

void create_private_file(const std::string& path) {
    // A stale journal or log under the copy's name would be replayed into it.
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
        struct stat st;
        if (::lstat((path + suffix).c_str(), &st) == 0)
            throw store_error(path + suffix + " exists: choose another name for the backup");
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        const int err = errno;
        if (err == EEXIST) throw store_error(path + " exists: a backup never overwrites a file");
        throw store_error("cannot create " + path + ": " + std::strerror(err));
    }
    ::close(fd);
}

void fsync_path(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw store_error("cannot open " + path + " to sync it: " + std::strerror(errno));
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw store_error("cannot sync " + path + ": " + std::strerror(errno));
}

std::string meta_value(SQLite::Database& db, const char* key) {
    SQLite::Statement st(db, "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    return st.executeStep() ? st.getColumn(0).getString() : std::string();
}

}  // namespace

sqlite_backup_report backup_sqlite_store(const std::string& from, const std::string& to,
                                         const sqlite_backup_options& options) {
    namespace fs = std::filesystem;
    sqlite_backup_report report;
    try {
        std::error_code ec;
        if (fs::equivalent(from, to, ec))
            throw store_error("the backup would be the database itself");
        // The source is opened without creating it and never written: no
        // migration, no key, nothing the running gateway would notice.
        SQLite::Database src(from, SQLite::OPEN_READWRITE);
        src.setBusyTimeout(5000);
        src.exec("PRAGMA query_only = ON");
        // The snapshot: held from here to the end of the copy.
        src.exec("BEGIN");
        const int source_version = src.execAndGet("PRAGMA user_version").getInt();
        if (!src.tableExists("meta"))
            throw store_error(from + " is not a gateway database (no meta table)");

        create_private_file(to);
        partial_copy guard{to};
        {
            SQLite::Database dst(to, SQLite::OPEN_READWRITE);
            sqlite3_backup* b =
                sqlite3_backup_init(dst.getHandle(), "main", src.getHandle(), "main");
            if (!b) throw store_error(std::string("backup: ") + sqlite3_errmsg(dst.getHandle()));
            int rc, busy_waits = 0;
            for (;;) {
                rc = sqlite3_backup_step(b, options.step_pages > 0 ? options.step_pages : -1);
                if (rc == SQLITE_DONE) break;
                const bool busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
                if ((rc != SQLITE_OK && !busy) || (busy && ++busy_waits > 6000)) break;
                if (options.pause_ms > 0 || busy)
                    std::this_thread::sleep_for(
                        std::chrono::milliseconds(std::max(options.pause_ms, busy ? 10 : 0)));
            }
            report.pages = sqlite3_backup_pagecount(b);
            sqlite3_backup_finish(b);  // the step's error, if any, is the one to report
            if (rc != SQLITE_DONE)
                throw store_error(std::string("backup failed: ") + sqlite3_errstr(rc));
        }
        src.exec("COMMIT");

        fsync_path(to, O_RDONLY);
        const auto dir = fs::path(to).parent_path();
        fsync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);

        // The check reads the file as a restore would find it.
        {
            SQLite::Database copy(to, SQLite::OPEN_READWRITE);
            copy.exec("PRAGMA query_only = ON");
            std::string problems;
            SQLite::Statement check(copy, "PRAGMA integrity_check");
            while (check.executeStep()) {
                const std::string line = check.getColumn(0).getString();
                if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
            }
            if (!problems.empty())
                throw store_error("the copy failed integrity_check: " + problems);
            report.schema_version = copy.execAndGet("PRAGMA user_version").getInt();
            if (report.schema_version != source_version)
                throw store_error("the copy has schema version " +
                                  std::to_string(report.schema_version) + ", the database " +
                                  std::to_string(source_version));
            report.data_key_id = meta_value(copy, "data_key_id");
            report.rotation_unfinished = !meta_value(copy, "rotation_target_key_id").empty();
        }
        fsync_path(dir.empty() ? "." : dir.string(), O_RDONLY | O_DIRECTORY);  // -wal/-shm gone
        report.bytes = static_cast<long long>(fs::file_size(to));
        guard.keep = true;
        return report;
    } catch (const SQLite::Exception& e) {
        throw store_error(std::string("backup: ") + e.what());
    }
}

}  // namespace gw::store

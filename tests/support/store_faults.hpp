#pragma once
// Real storage failures for tests, made from a second connection to the
// same file, as another process or a full disk makes them in production
// (no test double between the service and the store).
#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>

namespace gw::test {

class store_faults {
  public:
    explicit store_faults(const std::string& db_path) : db_(db_path, SQLite::OPEN_READWRITE) {
        db_.setBusyTimeout(5000);
    }

    // Another process holds the write lock: every write of the gateway
    // fails once its busy timeout runs out; reads still work (WAL).
    void hold_write_lock() {
        lock_ = std::make_unique<SQLite::Transaction>(db_, SQLite::TransactionBehavior::IMMEDIATE);
    }
    void release_write_lock() { lock_.reset(); }

    // Only new cases fail, the way an I/O error would fail that one write.
    void fail_case_inserts() {
        db_.exec(
            "CREATE TRIGGER IF NOT EXISTS test_fail_cases BEFORE INSERT ON cases "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
    }
    void heal_case_inserts() { db_.exec("DROP TRIGGER IF EXISTS test_fail_cases"); }

    SQLite::Database& db() { return db_; }

  private:
    SQLite::Database db_;
    std::unique_ptr<SQLite::Transaction> lock_;
};

}  // namespace gw::test

#pragma once
// The gateway's storage contract, one interface per aggregate (sessions,
// cases, inbound, outbox, referrals, operators, hotline, reporting, limits), each
// small enough to implement and test alone. `store` is all of them, as one
// backend provides them: SQLite (gateway/store/sqlite/) is the embedded
// default. Every method is a complete unit of work: it commits before
// returning, or throws store_error and leaves nothing half-written. Policy
// (reference codes, a case's first status, who handles a case without a
// partner, who is signed out when) belongs to the services.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/sealing.hpp"
#include "store/cases.hpp"
#include "store/hotline.hpp"
#include "store/inbound.hpp"
#include "store/limits.hpp"
#include "store/operators.hpp"
#include "store/outbox.hpp"
#include "store/records.hpp"
#include "store/referrals.hpp"
#include "store/reporting.hpp"
#include "store/sessions.hpp"

namespace gw::store {

// Every aggregate of one backend. Virtual bases: a backend's class per
// aggregate implements its interface, and the backend's `store` joins them.
class store : public virtual session_store,
              public virtual case_store,
              public virtual inbound_store,
              public virtual outbox_store,
              public virtual referral_store,
              public virtual operator_store,
              public virtual hotline_store,
              public virtual reporting_store,
              public virtual limit_store {
  public:
    using outbox_store::claim_due_outbound;
};

class storage_health;

struct sqlite_options {
    // Told of every failure and of every write that went through (may be null).
    storage_health* health = nullptr;
    // How long a write waits for another process's write lock.
    std::chrono::milliseconds busy_timeout{5000};
    // After a checkpoint, a write-ahead log larger than this is truncated.
    long long wal_limit_bytes = 16LL << 20;
};

// Opens (creating if needed) a SQLite database and applies pending
// schema migrations. Numbers and free text are sealed with `sealer`; a
// database made with another key is refused. The file, its -wal and -shm
// are readable by the owner only (0600), a folder it creates 0700. Throws
// store_error when the file cannot be used.
std::unique_ptr<store> open_sqlite_store(const std::string& path, const data_sealer& sealer,
                                         const sqlite_options& options = {});

// Schema version the code expects (applied migrations).
int sqlite_schema_version();

struct postgres_options {
    storage_health* health = nullptr;  // told of every failure and successful write
    std::size_t pool_size = 16;        // connections at most (one per unit of work in flight)
    // requeue_unfinished() takes back only messages claimed longer ago than
    // this (their node died): longer than any send takes.
    long long claim_timeout_s = 60;
};

// Connects to PostgreSQL (a libpq URL or key=value string), applies pending
// migrations under an advisory lock (several nodes may start at once) and
// checks the data key as the SQLite store does. Several gateway nodes may
// share the database. Throws store_error when it cannot be used.
std::unique_ptr<store> open_postgres_store(const std::string& url, const data_sealer& sealer,
                                           const postgres_options& options = {});
int postgres_schema_version();

// For tests and tools: creates (or upgrades) a database only up to a
// schema version before sealing began (3), as an older gateway left it,
// so that the migrations that follow can be exercised on real rows.
void create_legacy_sqlite_store(const std::string& path, int version);

// --- Backup and key rotation of the SQLite database (backup.cpp, rotate_key.cpp).

struct sqlite_backup_options {
    int step_pages = 1024;  // pages copied per step
    int pause_ms = 5;       // pause between steps, to leave the disk to the gateway
};

struct sqlite_backup_report {
    long long pages = 0;
    long long bytes = 0;
    int schema_version = 0;
    std::string data_key_id;           // the key the copy is sealed with (meta), "" if none
    bool rotation_unfinished = false;  // the copy holds a key rotation left half-way
};

// Copies the database at `from` to a new file `to` while a gateway may be
// writing it: one consistent snapshot (SQLite's online backup API inside
// one read transaction, in steps). `to` is created 0600 and never
// overwritten; the copy must pass PRAGMA integrity_check and have the
// source's schema version, else it is removed and store_error thrown. No
// key is involved: the copy is sealed exactly as the database is.
sqlite_backup_report backup_sqlite_store(const std::string& from, const std::string& to,
                                         const sqlite_backup_options& options = {});

struct key_rotation_options {
    std::size_t batch_rows = 500;  // rows per transaction
    // Called inside every batch's transaction just before it commits
    // (table, batches so far). Tests throw from it to stop as a crash would.
    std::function<void(const std::string& table, std::size_t batch)> before_commit;
};

struct key_rotation_report {
    bool already_done = false;  // the database was already sealed with the new key
    bool resumed = false;       // an unfinished rotation was continued
    std::size_t batches = 0;
    std::map<std::string, std::size_t> rows;  // rewritten, per table
    // Subscribers (language, "no SMS") whose number is no longer stored
    // anywhere (retention forgot it): their old keyed hash cannot be
    // recomputed, so they no longer match her number.
    std::size_t unmatched_subscribers = 0;
    std::size_t unmatched_no_sms = 0;
};

// Re-seals every sealed column and recomputes every keyed look-up hash of
// the database at `path` from key `current` to key `next`, in batches of
// their own transactions. Progress is kept in the meta table, so a run
// that stopped (crash, kill) is continued by calling again with the same
// keys; until the last batch `data_key_id` stays `current`'s and nothing
// else may open the database (open_sqlite_store refuses it). Needs the
// database to itself: SQLite's exclusive locking mode, refused (store_error)
// while a gateway has it open.
key_rotation_report rotate_sqlite_data_key(const std::string& path, const data_sealer& current,
                                           const data_sealer& next,
                                           const key_rotation_options& options = {});

}  // namespace gw::store

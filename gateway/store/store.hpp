#pragma once
// The gateway's storage contract, one interface per aggregate (sessions,
// cases, inbound, outbox, referrals, operators, hotline, reporting), each
// small enough to implement and test alone. `store` is all of them, as one
// backend provides them: SQLite (gateway/store/sqlite/) is the embedded
// default. Every method is a complete unit of work: it commits before
// returning, or throws store_error and leaves nothing half-written. Policy
// (reference codes, a case's first status, who handles a case without a
// partner, who is signed out when) belongs to the services.
#include <chrono>
#include <memory>
#include <string>

#include "common/sealing.hpp"
#include "store/cases.hpp"
#include "store/hotline.hpp"
#include "store/inbound.hpp"
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
              public virtual reporting_store {
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

// For tests and tools: creates (or upgrades) a database only up to a
// schema version before sealing began (3), as an older gateway left it,
// so that the migrations that follow can be exercised on real rows.
void create_legacy_sqlite_store(const std::string& path, int version);

}  // namespace gw::store

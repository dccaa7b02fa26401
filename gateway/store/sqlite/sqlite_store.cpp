// The SQLite backend: one database (writer thread, readers) and one class
// per aggregate on it, joined into the store the gateway is given.
#include "store/sqlite/aggregates.hpp"

namespace gw::store {
namespace {

// The database is built first and outlives the aggregates that use it.
struct sqlite_database_holder {
    sqlite_database_holder(const std::string& path, const data_sealer& sealer,
                           const sqlite_options& options)
        : db(path, sealer, options) {}
    sqlite::database db;
};

class sqlite_store final : private sqlite_database_holder,
                           public store,
                           public sqlite::sqlite_sessions,
                           public sqlite::sqlite_cases,
                           public sqlite::sqlite_inbound,
                           public sqlite::sqlite_outbox,
                           public sqlite::sqlite_referrals,
                           public sqlite::sqlite_operators,
                           public sqlite::sqlite_hotline,
                           public sqlite::sqlite_reporting,
                           public sqlite::sqlite_limits {
  public:
    sqlite_store(const std::string& path, const data_sealer& sealer, const sqlite_options& options)
        : sqlite_database_holder(path, sealer, options),
          sqlite_sessions(db),
          sqlite_cases(db),
          sqlite_inbound(db),
          sqlite_outbox(db),
          sqlite_referrals(db),
          sqlite_operators(db),
          sqlite_hotline(db),
          sqlite_reporting(db),
          sqlite_limits(db) {}
    using sqlite_outbox::claim_due_outbound;
};

}  // namespace

std::unique_ptr<store> open_sqlite_store(const std::string& path, const data_sealer& sealer,
                                         const sqlite_options& options) {
    return std::make_unique<sqlite_store>(path, sealer, options);
}

}  // namespace gw::store

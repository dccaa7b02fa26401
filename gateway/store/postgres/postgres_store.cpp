// The PostgreSQL backend: one connection pool and one class per aggregate
// on it, joined into the store the gateway is given.
#include "store/postgres/aggregates.hpp"

namespace gw::store {
namespace {

struct postgres_database_holder {
    postgres_database_holder(const std::string& url, const data_sealer& sealer,
                             const postgres_options& options)
        : db(url, sealer, options.health, options.pool_size) {
        postgres::migrate(db);
    }
    postgres::database db;
};

class postgres_store final : private postgres_database_holder,
                             public store,
                             public postgres::pg_sessions,
                             public postgres::pg_cases,
                             public postgres::pg_inbound,
                             public postgres::pg_outbox,
                             public postgres::pg_referrals,
                             public postgres::pg_operators,
                             public postgres::pg_hotline,
                             public postgres::pg_reporting,
                             public postgres::pg_limits {
  public:
    postgres_store(const std::string& url, const data_sealer& sealer,
                   const postgres_options& options)
        : postgres_database_holder(url, sealer, options),
          pg_sessions(db),
          pg_cases(db),
          pg_inbound(db),
          pg_outbox(db, options.claim_timeout_s),
          pg_referrals(db),
          pg_operators(db),
          pg_hotline(db),
          pg_reporting(db),
          pg_limits(db) {}
    using pg_outbox::claim_due_outbound;
};

}  // namespace

std::unique_ptr<store> open_postgres_store(const std::string& url, const data_sealer& sealer,
                                           const postgres_options& options) {
    return std::make_unique<postgres_store>(url, sealer, options);
}

}  // namespace gw::store

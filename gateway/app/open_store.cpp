#include "app/open_store.hpp"

#include "app/data_key.hpp"

namespace gw::app {

std::unique_ptr<store::store> open_configured_store(const config& c,
                                                    store::storage_health* health) {
    if (c.postgres) {
        store::postgres_options options;
        options.health = health;
        options.pool_size = c.postgres->pool_size;
        options.claim_timeout_s = c.postgres->claim_timeout_s;
        return store::open_postgres_store(c.postgres->url, load_data_sealer(c.privacy), options);
    }
    store::sqlite_options options;
    options.health = health;
    return store::open_sqlite_store(c.sqlite_path, load_data_sealer(c.privacy), options);
}

}  // namespace gw::app

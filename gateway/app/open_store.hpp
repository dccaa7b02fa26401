#pragma once
// The store the config names: PostgreSQL (store.postgres, several nodes)
// or the embedded SQLite file (store.sqlite_path), sealed with the data
// key of privacy.*. Used by serve and by the commands that write to the
// store, so both always open the same one. Throws on failure.
#include <memory>

#include "app/config.hpp"
#include "store/health.hpp"
#include "store/store.hpp"

namespace gw::app {

std::unique_ptr<store::store> open_configured_store(const config& c,
                                                    store::storage_health* health = nullptr);

}  // namespace gw::app

#include "store/health.hpp"

#include "common/log.hpp"

namespace gw::store {

void storage_health::failed(const char* method, const std::string& error) {
    ++failures_;
    if (!failing_.exchange(true))
        spdlog::critical("ALERT: storage is failing ({}: {}); cases cannot be registered", method,
                         error);
}

void storage_health::write_succeeded() {
    if (failing_.exchange(false)) spdlog::warn("storage works again");
}

}  // namespace gw::store

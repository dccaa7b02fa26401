#include "store/health.hpp"

#include <cstring>

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

namespace {
// Calls that only read prove nothing about whether writes work again.
bool writes(const char* method) {
    for (const char* prefix : {"find", "count", "subscriber_language", "no_sms", "outbound_to",
                               "outbox_counts", "partner_referrals", "case_referrals",
                               "referral_events", "overdue", "open_referral", "unrouted"})
        if (std::strncmp(method, prefix, std::strlen(prefix)) == 0) return false;
    return true;
}
}  // namespace

void monitored_store::on_success(const char* method) {
    if (health_.failing() && writes(method)) health_.write_succeeded();
}

void monitored_store::on_failure(const char* method, const store_error& e) {
    health_.failed(method, e.what());
}

}  // namespace gw::store

#include "adapters/registry.hpp"

#include "adapters/africastalking/ussd.hpp"
#include "adapters/sms_adapters.hpp"
#include "adapters/twilio/signature.hpp"

namespace gw::adapters {
namespace {

using reports = aggregator::reports_to;

// A deque: registering one never moves the others (find_aggregator's
// pointers stay good).
std::deque<aggregator> make_list() {
    std::deque<aggregator> list;
    // One line per aggregator.
    list.push_back({"africastalking", make_africastalking_sms,
                    [] { return std::make_unique<africastalking_ussd>(); }});
    list.push_back({"twilio", make_twilio_sms, nullptr, "twilio_signature", twilio::signature_ok,
                    /*sender_required=*/true, reports::public_url});
    // Infobip batches up to 100 delivery reports (about 500 bytes each).
    list.push_back({"infobip",
                    make_infobip_sms,
                    nullptr,
                    "",
                    nullptr,
                    false,
                    reports::configured,
                    {{"/sms/infobip", 65536}, {"/sms/infobip/dlr", 131072}}});
    list.push_back({"kannel", make_kannel_sms, nullptr, "", nullptr, /*sender_required=*/true,
                    reports::gateway});
    return list;
}

std::deque<aggregator>& registered() {
    static std::deque<aggregator> list = make_list();
    return list;
}

}  // namespace

const std::deque<aggregator>& aggregators() {
    return registered();
}

void register_aggregator(aggregator a) {
    for (auto& existing : registered())
        if (existing.name == a.name) {
            existing = std::move(a);
            return;
        }
    registered().push_back(std::move(a));
}

const aggregator* find_aggregator(const std::string& name) {
    for (const auto& a : aggregators())
        if (a.name == name) return &a;
    return nullptr;
}

const aggregator* find_aggregator_by_auth(const std::string& scheme) {
    for (const auto& a : aggregators())
        if (!a.auth_scheme.empty() && a.auth_scheme == scheme && a.check_auth) return &a;
    return nullptr;
}

std::vector<std::string> aggregator_names() {
    std::vector<std::string> out;
    for (const auto& a : aggregators()) out.push_back(a.name);
    return out;
}

std::vector<std::unique_ptr<sms_adapter>> all_sms_adapters() {
    std::vector<std::unique_ptr<sms_adapter>> out;
    for (const auto& a : aggregators())
        if (a.make_sms) out.push_back(a.make_sms());
    return out;
}

namespace {
const std::vector<std::pair<std::string, domain::auth_kind>> common_auth = {
    {"none", domain::auth_kind::none},
    {"token", domain::auth_kind::token},
    {"basic", domain::auth_kind::basic},
};
}  // namespace

const std::vector<std::string>& common_auth_schemes() {
    static const std::vector<std::string> schemes = [] {
        std::vector<std::string> names;
        for (const auto& [name, kind] : common_auth) names.push_back(name);
        return names;
    }();
    return schemes;
}

std::optional<domain::auth_kind> common_auth_kind(const std::string& name) {
    for (const auto& [n, kind] : common_auth)
        if (n == name) return kind;
    return std::nullopt;
}

}  // namespace gw::adapters

#pragma once
// Every aggregator the gateway speaks to, in one list (registry.cpp). Each
// has a folder here with its codec (callbacks in, requests out, its status
// map) and any auth scheme of its own; config validation, the callback
// routes and the metrics ask this list. Adding an aggregator: a folder and
// one line in registry.cpp (or one register_aggregator() call).
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/sms_adapters.hpp"
#include "adapters/ussd_adapter.hpp"

namespace gw::adapters {

struct aggregator {
    std::string name;  // in config (sms.channels.<name>) and callback paths (/sms/<name>)
    std::function<std::unique_ptr<sms_adapter>()> make_sms;    // null: no SMS
    std::function<std::unique_ptr<ussd_adapter>()> make_ussd;  // null: no USSD callbacks
    // An auth scheme of its own (config `auth:`), and its check.
    std::string auth_scheme;
    std::function<bool(const http::request&, const channel_settings&)> check_auth;
    // It refuses a message without a sender (otherwise a shared default is used).
    bool sender_required = false;
    // Where it sends delivery reports when report_url is not configured:
    // none, its public_url (what its signatures cover) or the gateway's own
    // address and port (an SMSC box beside the gateway).
    enum class reports_to {
        configured,
        public_url,
        gateway
    } default_reports = reports_to::configured;
    // Request body limits by path prefix beyond the server's default.
    std::map<std::string, std::size_t> body_limits;
};

const std::deque<aggregator>& aggregators();
// Adds one (or replaces one of the same name): a test's fake aggregator, or
// a deployment's own build. Before any gateway is made: the list is read
// without a lock afterwards.
void register_aggregator(aggregator a);
const aggregator* find_aggregator(const std::string& name);
// The aggregator that brings this auth scheme; nullptr for the common ones.
const aggregator* find_aggregator_by_auth(const std::string& scheme);
std::vector<std::string> aggregator_names();
// The auth schemes every channel may use: none, token, basic.
const std::vector<std::string>& common_auth_schemes();
// The kind one of them names; nullopt for any other name (an aggregator's
// own scheme is auth_kind::scheme, found with find_aggregator_by_auth).
std::optional<domain::auth_kind> common_auth_kind(const std::string& name);

}  // namespace gw::adapters

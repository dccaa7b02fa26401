#pragma once
// The gateway without its HTTP server: menus, store, services and routes,
// wired from a config. The server hands it plain requests; tests can do
// the same without a socket.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sms_adapter.hpp"
#include "adapters/ussd_adapter.hpp"
#include "app/background.hpp"
#include "app/config.hpp"
#include "app/route_table.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/phone.hpp"
#include "http/message.hpp"
#include "menu/engine.hpp"
#include "server/http_server.hpp"
#include "service/hotline_service.hpp"
#include "service/operator_accounts.hpp"
#include "service/outbox_worker.hpp"
#include "service/rate_limiter.hpp"
#include "service/referral_service.hpp"
#include "service/sms_service.hpp"
#include "service/ussd_service.hpp"
#include "store/health.hpp"
#include "store/store.hpp"

namespace gw::app {

// Startup refused: bad config or menus. what() lists file:line problems.
class startup_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct menu_bundle {
    std::shared_ptr<const menu::menu> source;
    std::shared_ptr<const menu::laid_out_menu> ussd_layout;
    std::shared_ptr<const menu::engine> ussd_engine;
    std::shared_ptr<const menu::laid_out_menu> sms_layout;
    std::shared_ptr<const menu::engine> sms_engine;
    std::vector<menu::diagnostic> diagnostics;
};

menu::screen_profile ussd_profile(const ussd_config& c);
// A menu screen as one SMS of at most `max_segments` segments.
menu::screen_profile sms_profile(const sms_config& c);
// Loads, lays out and checks the menus; diagnostics say what is wrong.
menu_bundle load_menus(const config& c);

// Topics the menus can give a case (values of `topic` in `set:`).
std::set<std::string> menu_topics(const menu::menu& m);

struct routing_bundle {
    std::shared_ptr<const service::routing_setup> setup;
    std::vector<menu::diagnostic> diagnostics;
};
// Every value a menu option can set, per session variable, and the
// languages: what routing rules may match on.
std::map<std::string, std::set<std::string>> menu_values(const menu::menu& m);

// Loads partners and rules and checks them against each other and the
// menus (topics without a route, values no menu sets).
routing_bundle load_routing(const config& c, const menu::menu& menus);

// A channel that is not HTTP (an SMPP bind), as /healthz and /metrics show it.
struct link_report {
    std::string name;  // "smpp-megacom"
    bool up = false;
    std::string detail;
    std::vector<std::pair<std::string, double>> counters;  // metric suffix -> value
};

class gateway {
  public:
    gateway(const config& c, const clock_source& clock);
    ~gateway();

    // Routes one request. Never throws for bad input; infrastructure
    // failures may throw and are answered with 500 by the server.
    http::response handle(const http::request& req);
    // The same, in the server's two parts: what never blocks (checks, rate
    // limits, /healthz, a USSD hop the menu answers from memory) answered
    // here on the I/O thread, the rest returned to run on a worker.
    server::first_answer handle_first(http::request req);

    // Starts and stops the background work: the outbox worker (sending
    // through `transport`) and the named periodic jobs (app/background.hpp:
    // session flush, idle sessions, referral sweep, retention).
    void start_outbox(service::http_transport& transport);
    // A channel that sends without HTTP (SMPP), for the outbox; before start_outbox().
    void add_direct_channel(const std::string& name, service::direct_sender send) {
        direct_channels_[name] = std::move(send);
    }
    // Links shown by /healthz (any one down: 503) and /metrics; before serving.
    void on_link_report(std::function<std::vector<link_report>()> f) {
        link_report_ = std::move(f);
    }
    void stop_outbox();

    // Re-reads partners and rules. A bad set keeps the old one; the
    // returned text says what was wrong (empty on success).
    std::string reload_routing();
    // Re-reads the menus (checked like at start). A bad set keeps the menus
    // in force; live sessions go on where their screen still exists.
    std::string reload_menus();
    // SIGHUP: menus, then partners and rules (checked against the menus in force).
    std::string reload() {
        std::string why = reload_menus();
        return why + reload_routing();
    }

    // Called by the server for every response (latency, status) for /metrics.
    void observe(const std::string& path, int status, double seconds) {
        metrics_.observe(path, status, seconds);
    }

    service::ussd_service& ussd() { return *ussd_; }
    service::sms_service& sms() { return *sms_; }
    service::outbox_worker* outbox() { return outbox_.get(); }
    service::referral_service& referrals() { return *referrals_; }
    service::operator_accounts& accounts() { return *accounts_; }
    service::hotline_service& hotline() { return *hotline_; }
    store::store& storage() { return *store_; }
    const store::storage_health& health() const { return health_; }
    menu_bundle menus() const {
        std::lock_guard lock(menus_mutex_);
        return menus_;
    }

  private:
    // Every path the gateway serves, relative to "/": each route runs on
    // the I/O thread and answers at once (/healthz, a USSD hop the menu
    // answers from memory, a refusal) or hands the rest to a worker.
    using front_route = server::first_answer (gateway::*)(http::request&, const path_params&);
    static const route_table<front_route>& front_routes();
    server::first_answer on_healthz(http::request& req, const path_params& p);
    server::first_answer on_ussd(http::request& req, const path_params& p);
    server::first_answer on_metrics(http::request& req, const path_params& p);
    server::first_answer on_partner_api(http::request& req, const path_params& p);
    server::first_answer on_operator_api(http::request& req, const path_params& p);
    server::first_answer on_console(http::request& req, const path_params& p);
    server::first_answer on_sms(http::request& req, const path_params& p);
    server::first_answer handle_ussd(const adapters::ussd_adapter& adapter, http::request req);
    http::response handle_metrics(const http::request& req);
    http::response handle_sms(const std::string& channel, const std::string& action,
                              const http::request& req);

    struct sms_channel {
        std::unique_ptr<adapters::sms_adapter> adapter;
        adapters::channel_settings settings;
    };

    config config_;
    const clock_source& clock_;
    mutable std::mutex menus_mutex_;  // menus_ is replaced by reload_menus()
    menu_bundle menus_;
    store::storage_health health_;
    metrics metrics_;
    std::unique_ptr<store::store> store_;
    std::unique_ptr<service::ussd_service> ussd_;
    std::map<std::string, std::unique_ptr<adapters::ussd_adapter>> ussd_adapters_;
    std::unique_ptr<service::sms_service> sms_;
    std::map<std::string, sms_channel> sms_channels_;
    std::unique_ptr<service::outbox_worker> outbox_;
    std::unique_ptr<service::referral_service> referrals_;
    std::unique_ptr<service::operator_accounts> accounts_;
    std::unique_ptr<service::hotline_service> hotline_;
    phone_normalizer phones_;  // rate limits count numbers, not spellings
    std::mutex limits_mutex_;
    service::rate_limiter per_ip_, per_number_;
    std::unique_ptr<adapters::outbound_adapter> webhook_sender_;
    std::map<std::string, service::direct_sender> direct_channels_;
    std::function<std::vector<link_report>()> link_report_;
    // Sweeps, retention and requeueing run on the node holding this lease.
    bool holds_maintenance_lease();
    const std::string node_id_;   // host:pid:random, in the lease and the log
    bool leading_ = false;        // background thread only
    background_jobs background_;  // flushes, sweeps, retention (start_outbox)
};

// The HTTP server in front of a gateway, as `serve` runs it and the tests
// drive it: checks, /healthz and the hops the menu answers from memory on
// the I/O threads, the rest on workers; every response counted for
// /metrics. Not started. Built with the server (app/serve.cpp, library
// gateway_server).
std::unique_ptr<server::http_server> make_http_server(const server::server_options& options,
                                                      gateway& gw);

}  // namespace gw::app

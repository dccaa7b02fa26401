#pragma once
// The gateway without its HTTP server: menus, store, services and routes,
// wired from a config. The server hands it plain requests; tests can do
// the same without a socket.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/ussd_adapter.hpp"
#include "app/config.hpp"
#include "common/clock.hpp"
#include "http/message.hpp"
#include "menu/engine.hpp"
#include "service/ussd_service.hpp"
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
    std::vector<menu::diagnostic> diagnostics;
};

menu::screen_profile ussd_profile(const ussd_config& c);
// Loads, lays out and checks the menus; diagnostics say what is wrong.
menu_bundle load_menus(const config& c);

class gateway {
public:
    gateway(const config& c, const clock_source& clock);
    ~gateway();

    // Routes one request. Never throws for bad input; infrastructure
    // failures may throw and are answered with 500 by the server.
    http::response handle(const http::request& req);

    service::ussd_service& ussd() { return *ussd_; }
    store::store& storage() { return *store_; }
    const menu_bundle& menus() const { return menus_; }

private:
    http::response handle_ussd(const adapters::ussd_adapter& adapter, const http::request& req);

    config config_;
    menu_bundle menus_;
    std::unique_ptr<store::store> store_;
    std::unique_ptr<service::ussd_service> ussd_;
    std::map<std::string, std::unique_ptr<adapters::ussd_adapter>> ussd_adapters_;
};

}  // namespace gw::app

#include "app/gateway.hpp"

#include "adapters/africastalking_ussd.hpp"
#include "common/log.hpp"
#include "menu/check.hpp"
#include "menu/loader.hpp"

namespace gw::app {

menu::screen_profile ussd_profile(const ussd_config& c) {
    menu::screen_profile p;
    p.name = "ussd";
    p.limit_ucs2 = c.screen_limit_ucs2;
    p.limit_gsm7 = c.screen_limit_gsm7;
    p.max_options_per_page = c.max_options_per_page;
    return p;
}

menu_bundle load_menus(const config& c) {
    menu_bundle b;
    auto loaded = menu::load_menu(c.menu_directory);
    b.diagnostics = std::move(loaded.diagnostics);
    auto source = std::make_shared<const menu::menu>(std::move(loaded.value));
    auto layout = std::make_shared<const menu::laid_out_menu>(source, ussd_profile(c.ussd));
    auto checks = menu::check_menu(*source, {layout.get()});
    b.diagnostics.insert(b.diagnostics.end(), checks.begin(), checks.end());
    b.source = source;
    b.ussd_layout = layout;
    b.ussd_engine = std::make_shared<const menu::engine>(layout);
    return b;
}

namespace {
std::string describe(const std::vector<menu::diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds)
        if (!d.warning) out += menu::format(d) + "\n";
    return out;
}
}  // namespace

gateway::gateway(const config& c, const clock_source& clock) : config_(c) {
    menus_ = load_menus(c);
    for (const auto& d : menus_.diagnostics)
        if (d.warning) spdlog::warn("{}", menu::format(d));
    if (menu::has_errors(menus_.diagnostics))
        throw startup_error("the menus have errors:\n" + describe(menus_.diagnostics));
    try {
        store_ = store::open_sqlite_store(c.sqlite_path);
    } catch (const store::store_error& e) {
        throw startup_error(e.what());
    }
    ussd_ = std::make_unique<service::ussd_service>(
        menus_.ussd_engine, *store_, phone_normalizer(c.default_region, c.allowed_regions), clock,
        service::ussd_settings{c.ussd.idle_timeout, c.ussd.resume_window,
                               c.ussd.max_input_bytes});
    auto at = std::make_unique<adapters::africastalking_ussd>();
    ussd_adapters_.emplace(at->name(), std::move(at));
}

gateway::~gateway() = default;

http::response gateway::handle(const http::request& req) {
    if (req.path == "/healthz") {
        if (req.method != "GET" && req.method != "HEAD")
            return http::error_response(405, "method not allowed");
        return http::error_response(200, "ok");
    }
    const std::string ussd_prefix = "/ussd/";
    if (req.path.rfind(ussd_prefix, 0) == 0) {
        auto it = ussd_adapters_.find(req.path.substr(ussd_prefix.size()));
        if (it == ussd_adapters_.end()) return http::error_response(404, "unknown USSD channel");
        if (req.method != "POST") return http::error_response(405, "method not allowed");
        return handle_ussd(*it->second, req);
    }
    return http::error_response(404, "not found");
}

http::response gateway::handle_ussd(const adapters::ussd_adapter& adapter,
                                    const http::request& req) {
    auto parsed = adapter.parse(req);
    if (!parsed) {
        spdlog::info("ussd/{}: request refused: {}", adapter.name(), parsed.error());
        return http::error_response(400, parsed.error());
    }
    return adapter.render(ussd_->handle(*parsed));
}

}  // namespace gw::app

#include "app/commands.hpp"

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "app/data_key.hpp"
#include "app/gateway.hpp"
#include "app/reply_templates.hpp"
#include "common/sealing.hpp"
#include "common/text.hpp"
#include "referral/rules.hpp"

namespace gw::app {
namespace {

bool print_config_problems(const config_result& c, std::ostream& out) {
    for (const auto& d : c.diagnostics) out << menu::format(d) << "\n";
    return menu::has_errors(c.diagnostics);
}

}  // namespace

int check(const std::string& config_path, std::ostream& out) {
    auto cfg = load_config(config_path);
    bool failed = print_config_problems(cfg, out);
    menu_bundle menus = load_menus(cfg.value);
    for (const auto& d : menus.diagnostics) out << menu::format(d) << "\n";
    failed = failed || menu::has_errors(menus.diagnostics);
    auto routing = load_routing(cfg.value, *menus.source);
    for (const auto& d : routing.diagnostics) out << menu::format(d) << "\n";
    failed = failed || menu::has_errors(routing.diagnostics);
    out << "routing: " << routing.setup->partners.partners.size() << " partner(s), "
        << routing.setup->rules.rules.size() << " rule(s)\n";
    std::vector<std::string> languages;
    for (const auto& l : menus.source->languages) languages.push_back(l.code);
    auto templates = load_reply_templates(cfg.value.console.reply_templates, languages);
    for (const auto& d : templates.diagnostics) out << menu::format(d) << "\n";
    failed = failed || menu::has_errors(templates.diagnostics);
    out << "reply templates: " << templates.value.size() << "\n";

    // Per screen and language: USSD pages (longest page in characters) and
    // the SMS that carries the screen (pages, most segments in one).
    out << "screens: USSD pages/longest (limit " << cfg.value.ussd.screen_limit_ucs2 << " UCS-2, "
        << cfg.value.ussd.screen_limit_gsm7 << " GSM-7); SMS pages/segments (at most "
        << cfg.value.sms.max_segments << " segments)\n";
    for (const auto& [id, s] : menus.source->screens) {
        if (s.kind == menu::screen_kind::action) continue;
        out << "  " << id;
        for (const auto& lang : menus.source->languages) {
            const auto* ussd = menus.ussd_layout->find(id, lang.code);
            const auto* sms = menus.sms_layout->find(id, lang.code);
            if (!ussd || !sms) continue;
            std::size_t longest = 0, segments = 0;
            for (const auto& p : ussd->pages)
                longest = std::max(longest, measure_text(p.body).units);
            for (const auto& p : sms->pages)
                segments = std::max(segments, measure_sms(p.body).segments);
            out << "  " << lang.code << ": ussd " << ussd->pages.size() << "/" << longest
                << ", sms " << sms->pages.size() << "/" << segments;
        }
        out << "\n";
    }
    out << (failed ? "check FAILED\n" : "check ok\n");
    return failed ? 1 : 0;
}

int add_operator(const add_operator_options& options, std::istream& in, std::ostream& out) {
    auto cfg = load_config(options.config_path);
    if (print_config_problems(cfg, out)) return 1;
    std::string password;
    if (const char* env = std::getenv("GATEWAY_OPERATOR_PASSWORD"); env && *env) {
        password = env;
    } else {
        out << "password for " << options.username << ": " << std::flush;
        std::getline(in, password);
    }
    try {
        auto store =
            store::open_sqlite_store(cfg.value.sqlite_path, load_data_sealer(cfg.value.privacy));
        system_clock_source clock;
        service::operator_accounts accounts(*store, clock, {});
        auto added =
            accounts.add("cli", options.username,
                         options.display_name.empty() ? options.username : options.display_name,
                         options.role, password);
        if (auto* e = std::get_if<service::action_error>(&added)) {
            out << "not added: " << e->reason << "\n";
            return 1;
        }
        out << "added " << options.role << " " << options.username << "\n";
        return 0;
    } catch (const std::exception& e) {
        out << "not added: " << e.what() << "\n";
        return 1;
    }
}

int simulate(const simulate_options& options, std::istream& in, std::ostream& out) {
    auto cfg = load_config(options.config_path);
    if (print_config_problems(cfg, out)) return 1;
    cfg.value.sqlite_path = options.store_path;
    // A throw-away database needs no lasting key (and must not create a key file).
    if (options.store_path == ":memory:")
        cfg.value.privacy.data_key = data_sealer::generate_hex_key();
    system_clock_source clock;
    std::unique_ptr<gateway> gw;
    try {
        gw = std::make_unique<gateway>(cfg.value, clock);
    } catch (const std::exception& e) {
        out << e.what() << "\n";
        return 1;
    }
    out << "USSD simulator: type a reply and press Enter; an empty line sends an empty reply;\n"
           "'q' quits. Phone "
        << options.phone << ".\n";
    for (int session = 1;; ++session) {
        service::ussd_request req;
        req.aggregator = "simulator";
        req.session_id = "sim-" + std::to_string(session);
        req.phone = options.phone;
        req.service_code = "*000#";
        int inputs = 0;
        for (;;) {
            service::ussd_reply r = gw->ussd().handle(req);
            out << "\n+------------------------------\n| " << (r.end ? "END" : "CON") << "\n";
            std::size_t start = 0;
            while (start <= r.text.size()) {
                auto nl = r.text.find('\n', start);
                if (nl == std::string::npos) nl = r.text.size();
                out << "| " << r.text.substr(start, nl - start) << "\n";
                start = nl + 1;
            }
            out << "+------------------------------ (" << measure_text(r.text).units << " chars)\n";
            if (r.end) break;
            out << "> " << std::flush;
            std::string line;
            if (!std::getline(in, line) || line == "q") return 0;
            // Africa's Talking style: all inputs so far joined by '*'.
            req.text = inputs++ == 0 ? line : req.text + "*" + line;
        }
        out << "\nSession ended. Enter dials again, 'q' quits.\n> " << std::flush;
        std::string line;
        if (!std::getline(in, line) || line == "q") return 0;
    }
}

}  // namespace gw::app

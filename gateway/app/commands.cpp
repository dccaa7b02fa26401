#include "app/commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <set>

#include "app/data_key.hpp"
#include "app/gateway.hpp"
#include "app/open_store.hpp"
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

// The configured data key, never a new one: for an existing database a
// missing key file means a lost key or a wrong config, not a first start.
data_sealer existing_data_key(const privacy_config& p) {
    if (p.data_key.empty() && !p.data_key_file.empty() && !std::filesystem::exists(p.data_key_file))
        throw std::runtime_error("there is no data key file at " + p.data_key_file);
    return load_data_sealer(p);
}

// A key given to a command: the first line of a file, or a variable.
data_sealer key_from(const std::string& file, const std::string& env) {
    std::string hex;
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in) throw std::runtime_error("cannot read the key file " + file);
        std::getline(in, hex);
    } else {
        const char* value = std::getenv(env.c_str());
        if (!value || !*value) throw std::runtime_error("the variable " + env + " is not set");
        hex = value;
    }
    auto sealer = data_sealer::from_hex(trim(hex));
    if (!sealer) throw std::runtime_error("new key: " + sealer.error());
    return *sealer;
}

std::filesystem::path full_path(const std::string& p) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(p));
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
        auto store = open_configured_store(cfg.value);
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

int backup(const backup_options& options, std::ostream& out) {
    auto cfg = load_config(options.config_path);
    if (print_config_problems(cfg, out)) return 1;
    const auto& privacy = cfg.value.privacy;
    const std::string& db = cfg.value.sqlite_path;
    try {
        if (cfg.value.postgres)
            throw std::runtime_error(
                "the store is PostgreSQL (store.postgres): back it up with pg_dump; its sealed "
                "columns stay sealed there too");
        if (db.empty() || db == ":memory:" || db.rfind("file:", 0) == 0)
            throw std::runtime_error("store.sqlite_path names no database file");
        // Whoever holds the backup must not find the key with it.
        const auto to = full_path(options.to);
        if (!privacy.data_key_file.empty()) {
            const auto key = full_path(privacy.data_key_file);
            if (to == key) throw std::runtime_error(options.to + " is the data key file");
            if (privacy.data_key.empty() && to.parent_path() == key.parent_path())
                throw std::runtime_error(options.to + " is in the folder of the data key file (" +
                                         privacy.data_key_file +
                                         "): keep backups apart from the key");
        }
        auto r = store::backup_sqlite_store(db, options.to, {options.step_pages, options.pause_ms});
        out << "backup: " << db << " -> " << options.to << " (" << r.pages << " pages, " << r.bytes
            << " bytes, schema " << r.schema_version << ", integrity ok, mode 0600)\n";
        // Only a key already there is compared (a missing key file is not created).
        if (!privacy.data_key.empty() ||
            (!privacy.data_key_file.empty() && std::filesystem::exists(privacy.data_key_file))) {
            if (load_data_sealer(privacy).key_id() == r.data_key_id)
                out << "backup: sealed with the configured data key\n";
            else
                out << "backup: WARNING: sealed with another data key than the configured one\n";
        }
        if (r.rotation_unfinished)
            out << "backup: WARNING: a key rotation was unfinished in the database; the copy "
                   "needs both keys to finish it\n";
        out << "backup: the data key is not in the backup: keep it apart from it (without the "
               "key the backup cannot be read; with it, anyone can)\n";
        return 0;
    } catch (const std::exception& e) {
        out << "backup failed: " << e.what() << "\n";
        return 1;
    }
}

int rotate_key(const rotate_key_options& options, std::ostream& out) {
    auto cfg = load_config(options.config_path);
    if (print_config_problems(cfg, out)) return 1;
    if (options.new_key_file.empty() == options.new_key_env.empty()) {
        out << "rotate-key: give the new key with --new-key-file or --new-key-env (one of them)\n";
        return 1;
    }
    const std::string& db = cfg.value.sqlite_path;
    try {
        if (cfg.value.postgres)
            throw std::runtime_error(
                "the store is PostgreSQL (store.postgres): rotate-key re-seals SQLite databases "
                "only");
        const data_sealer next = key_from(options.new_key_file, options.new_key_env);
        const data_sealer current = existing_data_key(cfg.value.privacy);
        store::key_rotation_options rotation;
        rotation.batch_rows = options.batch_rows;
        auto r = store::rotate_sqlite_data_key(db, current, next, rotation);
        if (r.already_done) {
            out << "rotate-key: " << db << " is already sealed with the new key\n";
        } else {
            const std::size_t rows =
                std::accumulate(r.rows.begin(), r.rows.end(), std::size_t{0},
                                [](std::size_t n, const auto& table) { return n + table.second; });
            out << "rotate-key: " << (r.resumed ? "continued the unfinished rotation: " : "")
                << rows << " rows re-sealed in " << r.batches << " batches (";
            const char* sep = "";
            for (const auto& [table, n] : r.rows) {
                out << sep << table << " " << n;
                sep = ", ";
            }
            out << ")\n";
            if (r.unmatched_subscribers)
                out << "rotate-key: " << r.unmatched_subscribers
                    << " subscriber setting(s) (language, no SMS) kept without a match: her "
                       "number is no longer stored anywhere ("
                    << r.unmatched_no_sms << " of them no SMS)\n";
        }
        // The proof: the gateway will open it with the new key.
        auto store = store::open_sqlite_store(db, next);
        out << "rotate-key: the database opens with the new key (" << store->count_cases()
            << " cases)\n"
            << "rotate-key: now put the new key where the config reads it (privacy.data_key_env "
               "or privacy.data_key_file) and start the gateway; backups made before now still "
               "need the old key\n";
        return 0;
    } catch (const std::exception& e) {
        out << "rotate-key failed: " << e.what() << "\n";
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

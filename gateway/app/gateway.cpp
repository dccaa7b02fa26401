#include "app/gateway.hpp"

#include <unistd.h>

#include <random>

#include "adapters/registry.hpp"
#include "adapters/sms_adapters.hpp"
#include "adapters/webhook.hpp"
#include "app/data_key.hpp"
#include "app/open_store.hpp"
#include "app/operator_api.hpp"
#include "app/partner_api.hpp"
#include "app/reply_templates.hpp"
#include "app/static_files.hpp"
#include "common/client_address.hpp"
#include "common/crypto.hpp"
#include "common/form.hpp"
#include "common/log.hpp"
#include "common/phone.hpp"
#include "menu/check.hpp"
#include "menu/loader.hpp"

namespace gw::app {

using namespace std::chrono_literals;

menu::screen_profile ussd_profile(const ussd_config& c) {
    menu::screen_profile p;
    p.name = "ussd";
    p.limit_ucs2 = c.screen_limit_ucs2;
    p.limit_gsm7 = c.screen_limit_gsm7;
    p.max_options_per_page = c.max_options_per_page;
    return p;
}

menu::screen_profile sms_profile(const sms_config& c) {
    menu::screen_profile p;
    p.name = "sms";
    p.limit_ucs2 = 67 * c.max_segments;  // multi-part UCS-2 segments hold 67
    p.limit_gsm7 = 153 * c.max_segments;
    p.max_options_per_page = 9;
    if (c.max_segments <= 1) {
        p.limit_ucs2 = 70;
        p.limit_gsm7 = 160;
    }
    return p;
}

menu_bundle load_menus(const config& c) {
    menu_bundle b;
    auto loaded = menu::load_menu(c.menu_directory);
    b.diagnostics = std::move(loaded.diagnostics);
    auto source = std::make_shared<const menu::menu>(std::move(loaded.value));
    auto layout = std::make_shared<const menu::laid_out_menu>(source, ussd_profile(c.ussd));
    auto sms_layout = std::make_shared<const menu::laid_out_menu>(source, sms_profile(c.sms));
    auto checks = menu::check_menu(*source, {layout.get(), sms_layout.get()});
    b.diagnostics.insert(b.diagnostics.end(), checks.begin(), checks.end());
    b.source = source;
    b.ussd_layout = layout;
    b.ussd_engine = std::make_shared<const menu::engine>(layout);
    b.sms_layout = sms_layout;
    b.sms_engine = std::make_shared<const menu::engine>(sms_layout, /*sms=*/true);
    return b;
}

std::set<std::string> menu_topics(const menu::menu& m) {
    std::set<std::string> out;
    for (const auto& [id, s] : m.screens)
        for (const auto& o : s.options)
            for (const auto& [k, v] : o.set)
                if (k == "topic") out.insert(v);
    return out;
}

std::map<std::string, std::set<std::string>> menu_values(const menu::menu& m) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [id, s] : m.screens)
        for (const auto& o : s.options)
            for (const auto& [k, v] : o.set) out[k].insert(v);
    for (const auto& l : m.languages) out["language"].insert(l.code);
    return out;
}

routing_bundle load_routing(const config& c, const menu::menu& menus) {
    const std::set<std::string> topics = menu_topics(menus);
    routing_bundle b;
    auto partners = referral::load_partners(c.referrals.partners_file);
    auto rules = referral::load_rules(c.referrals.rules_directory);
    b.diagnostics = std::move(partners.diagnostics);
    b.diagnostics.insert(b.diagnostics.end(), rules.diagnostics.begin(), rules.diagnostics.end());
    auto checks = referral::check_rules(rules.value, partners.value, topics);
    b.diagnostics.insert(b.diagnostics.end(), checks.begin(), checks.end());
    auto values = referral::check_rule_values(rules.value, menu_values(menus));
    b.diagnostics.insert(b.diagnostics.end(), values.begin(), values.end());
    // As for the menu's values: words are required once the menu has labels.
    std::vector<std::string> languages;
    if (!menus.labels.empty())
        for (const auto& l : menus.languages) languages.push_back(l.code);
    auto names = referral::check_partner_names(partners.value, languages);
    b.diagnostics.insert(b.diagnostics.end(), names.begin(), names.end());
    b.setup = std::make_shared<const service::routing_setup>(
        service::routing_setup{std::move(partners.value), std::move(rules.value)});
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

namespace {
// Which process holds a lease: host, pid and a random part (a restarted
// process is another holder, even with the same pid).
std::string make_node_id() {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::random_device random;
    return fmt::format("{}:{}:{:04x}", host, ::getpid(), random() & 0xffff);
}
}  // namespace

gateway::gateway(const config& c, const clock_source& clock)
    : config_(c),
      clock_(clock),
      metrics_(adapters::aggregator_names()),
      phones_(c.default_region, c.allowed_regions),
      per_ip_(c.limits.per_ip_per_minute, 60),
      per_number_(c.limits.ussd_per_number_per_minute, 60),
      node_id_(make_node_id()) {
    menus_ = load_menus(c);
    for (const auto& d : menus_.diagnostics)
        if (d.warning) spdlog::warn("{}", menu::format(d));
    if (menu::has_errors(menus_.diagnostics))
        throw startup_error("the menus have errors:\n" + describe(menus_.diagnostics));
    std::vector<std::string> languages;
    for (const auto& l : menus_.source->languages) languages.push_back(l.code);
    auto templates = load_reply_templates(c.console.reply_templates, languages);
    if (menu::has_errors(templates.diagnostics))
        throw startup_error("the reply templates have errors:\n" + describe(templates.diagnostics));
    try {
        store_ = open_configured_store(c, &health_);
    } catch (const std::exception& e) {
        throw startup_error(e.what());
    }
    service::ussd_settings us = c.ussd;  // the section holds the service's settings
    // Several nodes: her next hop may reach another node, so no node
    // trusts a session it holds in memory, and every hop is written through.
    us.shared_store = c.postgres.has_value();
    us.info_sms = {c.referrals.notify_channel, c.sms.max_segments};
    ussd_ = std::make_unique<service::ussd_service>(
        menus_.ussd_engine, *store_, phone_normalizer(c.default_region, c.allowed_regions), clock,
        us);
    auto routing = load_routing(c, *menus_.source);
    for (const auto& d : routing.diagnostics)
        if (d.warning) spdlog::warn("{}", menu::format(d));
    if (menu::has_errors(routing.diagnostics))
        throw startup_error("the partners or referral rules have errors:\n" +
                            describe(routing.diagnostics));
    service::referral_settings rs;
    rs.notify_channel = c.referrals.notify_channel;
    rs.focal_new_referral = c.referrals.focal_new_referral;
    rs.label = [this](const std::string& var, const std::string& value, const std::string& lang) {
        return menus().source->label(var, value, lang);
    };
    rs.accepted_text = [this](const std::string& lang) {
        return menus().source->ui_text("referral_accepted_sms", lang);
    };
    referrals_ = std::make_unique<service::referral_service>(*store_, clock_, routing.setup, rs);
    // A new case is stored with its first referral, in one write.
    auto store_new_case = [this](const store::new_case& c, long long now,
                                 const service::session_after_case& session) {
        return referrals_->store_new_case(c, now, session);
    };
    ussd_->store_cases_with(store_new_case);
    service::account_settings accounts = c.console;    // the section holds the accounts' settings
    accounts.shared_backoff = c.postgres.has_value();  // wrong passwords count on every node
    accounts_ = std::make_unique<service::operator_accounts>(*store_, clock_, accounts);
    hotline_ = std::make_unique<service::hotline_service>(
        *store_, clock_, *referrals_, menus_.source,
        service::hotline_settings{c.referrals.notify_channel, std::move(templates.value)});

    if (c.ussd.token.empty())
        spdlog::error(
            "ussd: no callback token configured (ussd.token_env): every USSD callback is "
            "refused with 403");
    for (const auto& a : adapters::aggregators())
        if (a.make_ussd) ussd_adapters_.emplace(a.name, a.make_ussd());

    service::sms_settings sms = c.sms;  // the section holds the service's settings
    sms.shared_limits = c.postgres.has_value();
    sms_ = std::make_unique<service::sms_service>(
        menus_.sms_engine, *store_, phone_normalizer(c.default_region, c.allowed_regions), clock,
        sms);
    sms_->store_cases_with(store_new_case);
    sms_->on_command([this](const std::string& phone, const std::string& text) {
        return referrals_->handle_sms_command(phone, text);
    });
    webhook_sender_ = adapters::make_webhook_sender();
    std::map<std::string, std::unique_ptr<adapters::sms_adapter>> available;
    for (auto& a : adapters::all_sms_adapters()) available[a->name()] = std::move(a);
    for (const auto& ch : c.sms.channels) {
        auto it = available.find(ch.name);
        if (it == available.end()) continue;  // reported by the config check
        sms_channels_[ch.name] = {std::move(it->second),
                                  ch};  // the config is the adapter's settings
    }
}

gateway::~gateway() {
    stop_outbox();
    ussd_->flush_sessions();
}

void gateway::start_outbox(service::http_transport& transport) {
    std::map<std::string, service::outbox_channel> channels;
    for (const auto& [name, ch] : sms_channels_)
        channels[name] = {ch.adapter.get(), ch.settings, {}};
    for (const auto& [name, send] : direct_channels_) {
        service::outbox_channel ch;
        ch.settings.name = name;
        ch.send = send;
        channels[name] = std::move(ch);
    }
    for (const auto& p : referrals_->setup()->partners.partners) {
        if (p.webhook_url.empty()) continue;
        adapters::channel_settings s;
        s.name = "webhook:" + p.id;
        s.send_url = p.webhook_url;
        s.send_password = p.webhook_secret;
        channels[s.name] = {webhook_sender_.get(), s, {}};
    }
    outbox_ = std::make_unique<service::outbox_worker>(
        *store_, transport, std::move(channels), clock_,
        static_cast<const service::outbox_settings&>(config_.sms));
    sms_->on_queued([w = outbox_.get()] { w->wake(); });
    ussd_->on_queued([w = outbox_.get()] { w->wake(); });
    outbox_->start();
    // Once however many nodes run: the node holding the maintenance lease
    // sweeps referrals, requeues and forgets; another node takes over when
    // it stops renewing. Session state is this node's own.
    const auto sweep = config_.referrals.sweep_interval;
    background_.add("session flush", std::min<std::chrono::milliseconds>(sweep, 250ms),
                    // write-behind state when traffic is too low to flush it
                    [this] { ussd_->flush_sessions(); });
    background_.add("idle sessions", sweep, [this] { ussd_->expire_idle_sessions(); });
    background_.add("referral sweep", sweep, [this] {
        if (!holds_maintenance_lease()) return;
        if (std::size_t n = referrals_->sweep(); n > 0) {  // SLA deadlines, unrouted cases
            spdlog::info("referral: sweep handled {} referral(s)", n);
            outbox_->wake();
        }
        if (config_.postgres && store_->requeue_unfinished() > 0) {
            spdlog::warn("outbox: messages a stopped node left unsent, queued again");
            outbox_->wake();
        }
    });
    if (config_.privacy.retention_days > 0)
        background_.add(
            "retention", std::chrono::hours(1),
            [this] {
                if (holds_maintenance_lease())
                    hotline_->apply_retention(config_.privacy.retention_days);
            },
            sweep);
    background_.start();
}

bool gateway::holds_maintenance_lease() {
    const long long now = to_unix_seconds(clock_.now());
    const auto interval =
        std::chrono::duration_cast<std::chrono::seconds>(config_.referrals.sweep_interval).count();
    const bool held =
        store_->hold_lease("maintenance", node_id_, now, std::max<long long>(3 * interval, 10));
    if (held != leading_) {
        leading_ = held;
        if (held)
            spdlog::info("maintenance: this node ({}) runs the sweeps", node_id_);
        else
            spdlog::info("maintenance: another node runs the sweeps (this is {})", node_id_);
    }
    return held;
}

std::string gateway::reload_menus() {
    menu_bundle fresh = load_menus(config_);
    if (menu::has_errors(fresh.diagnostics)) {
        std::string why = describe(fresh.diagnostics);
        spdlog::error("menu reload refused, the menus in force stay:\n{}", why);
        return why;
    }
    for (const auto& d : fresh.diagnostics)
        if (d.warning) spdlog::warn("{}", menu::format(d));
    ussd_->set_engine(fresh.ussd_engine);
    sms_->set_engine(fresh.sms_engine);
    hotline_->set_menu(fresh.source);
    spdlog::info("reload: {} menu screen(s)", fresh.source->screens.size());
    std::lock_guard lock(menus_mutex_);
    menus_ = std::move(fresh);
    return {};
}

std::string gateway::reload_routing() {
    auto routing = load_routing(config_, *menus().source);
    if (menu::has_errors(routing.diagnostics)) {
        std::string why = describe(routing.diagnostics);
        spdlog::error("reload refused, the old rules stay:\n{}", why);
        return why;
    }
    referrals_->set_setup(routing.setup);
    spdlog::info("reload: {} partner(s), {} rule(s)", routing.setup->partners.partners.size(),
                 routing.setup->rules.rules.size());
    return {};
}

void gateway::stop_outbox() {
    background_.stop();
    if (!outbox_) return;
    sms_->on_queued(nullptr);
    ussd_->on_queued(nullptr);
    outbox_->stop();
}

namespace {
http::response too_many(long long retry_after, const std::string& what) {
    auto r = http::error_response(429, "too many requests " + what);
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
}
}  // namespace

http::response gateway::handle(const http::request& req) {
    server::first_answer first = handle_first(req);
    if (auto* answered = std::get_if<http::response>(&first)) return std::move(*answered);
    return std::get<server::rest_of_request>(first)();
}

server::first_answer gateway::handle_first(http::request req) {
    // Callback URLs are often entered with a trailing slash (/sms/twilio/): one is dropped.
    if (req.path.size() > 1 && req.path.back() == '/' && req.path[req.path.size() - 2] != '/' &&
        (req.path.rfind("/sms/", 0) == 0 || req.path.rfind("/ussd/", 0) == 0))
        req.path.pop_back();
    if (!config_.trusted_proxies.empty()) {
        // Every line: a proxy appends its own line after any the client sent,
        // and the right-most entries are the only ones a trusted proxy wrote.
        const auto forwarded_for = req.header_list("X-Forwarded-For");
        req.remote_address = client_address(
            req.remote_address, forwarded_for ? &*forwarded_for : nullptr, config_.trusted_proxies);
    }
    if (config_.limits.per_ip_per_minute > 0) {
        std::lock_guard lock(limits_mutex_);
        const long long now = to_unix_seconds(clock_.now());
        if (!per_ip_.allow(req.remote_address, now)) {
            spdlog::warn("http: rate limit for client {}", req.remote_address);
            return too_many(per_ip_.retry_after(req.remote_address, now), "from this address");
        }
    }
    // The table's paths are relative to "/" (an origin-form target).
    if (req.path.rfind('/', 0) != 0) return http::error_response(404, "not found");
    auto found = front_routes().find(req.method, req.path.substr(1));
    if (auto* miss = std::get_if<route_table<front_route>::unmatched>(&found)) {
        if (miss->status == 404) return http::error_response(404, "not found");
        auto r = http::error_response(405, "method not allowed");
        r.headers.emplace_back("Allow", miss->allow);
        return r;
    }
    const auto& [entry, params] = std::get<route_table<front_route>::matched>(found);
    return (this->*(entry->handle))(req, params);
}

const route_table<gateway::front_route>& gateway::front_routes() {
    // A mount: the prefix (as its API names it) and the rest of the path.
    auto below = [](std::string prefix, const char* rest) {
        if (prefix.back() != '/') prefix += '/';
        return prefix.substr(1) + rest;
    };
    static const route_table<front_route> table({
        {"GET", "healthz", &gateway::on_healthz},
        {"HEAD", "healthz", &gateway::on_healthz},
        {"POST", "ussd/{channel}", &gateway::on_ussd},
        {"GET", "metrics", &gateway::on_metrics},
        // Their own tables answer 404 and 405 (in JSON) below these.
        {"*", below(partner_api_prefix, "{rest...}"), &gateway::on_partner_api},
        {"*", below(operator_api_prefix, "{rest...}"), &gateway::on_operator_api},
        {"GET", below(console_prefix, "{file...}"), &gateway::on_console},
        {"HEAD", below(console_prefix, "{file...}"), &gateway::on_console},
        // Aggregators call with either method (Kannel: GET).
        {"POST", "sms/{channel}", &gateway::on_sms},
        {"GET", "sms/{channel}", &gateway::on_sms},
        {"POST", "sms/{channel}/{action}", &gateway::on_sms},
        {"GET", "sms/{channel}/{action}", &gateway::on_sms},
    });
    return table;
}

server::first_answer gateway::on_healthz(http::request&, const path_params&) {
    // Degraded: writes fail, so no case can be registered now.
    if (health_.failing()) return http::error_response(503, "degraded: storage failing");
    // A link down (an operator's bind): that short code reaches no one.
    if (link_report_)
        for (const auto& l : link_report_())
            if (!l.up) return http::error_response(503, "degraded: " + l.name + ": " + l.detail);
    return http::error_response(200, "ok");
}

server::first_answer gateway::on_ussd(http::request& req, const path_params& p) {
    auto it = ussd_adapters_.find(p.at("channel"));
    if (it == ussd_adapters_.end()) return http::error_response(404, "unknown USSD channel");
    return handle_ussd(*it->second, std::move(req));
}

server::first_answer gateway::on_metrics(http::request& req, const path_params&) {
    return server::rest_of_request([this, req = std::move(req)] { return handle_metrics(req); });
}

server::first_answer gateway::on_partner_api(http::request& req, const path_params&) {
    return server::rest_of_request([this, req = std::move(req)] {
        auto r = handle_partner_api(req, *referrals_, *store_);
        r.headers.emplace_back("Cache-Control", "no-store");  // her number may be in it
        return r;
    });
}

server::first_answer gateway::on_operator_api(http::request& req, const path_params&) {
    return server::rest_of_request([this, req = std::move(req)] {
        auto r = handle_operator_api(req, *accounts_, *hotline_);
        r.headers.emplace_back("Cache-Control", "no-store");  // case files stay out of caches
        return r;
    });
}

server::first_answer gateway::on_console(http::request& req, const path_params&) {
    return server::rest_of_request([this, req = std::move(req)] {
        return serve_console_file(config_.console.directory, config_.console.chart_library, req);
    });
}

server::first_answer gateway::on_sms(http::request& req, const path_params& p) {
    auto action = p.find("action");
    return server::rest_of_request([this, req = std::move(req), channel = p.at("channel"),
                                    action = action == p.end() ? std::string() : action->second] {
        return handle_sms(channel, action, req);
    });
}

http::response gateway::handle_metrics(const http::request& req) {
    // Operational data: for the monitoring agent on this host only.
    if (req.remote_address != "127.0.0.1" && req.remote_address != "::1")
        return http::error_response(403, "forbidden");
    std::vector<std::pair<std::string, double>> gauges;
    gauges.emplace_back("gateway_ussd_active_sessions",
                        static_cast<double>(ussd_->active_sessions()));
    for (const auto& [status, n] : store_->outbox_counts())
        gauges.emplace_back("gateway_outbox_messages{status=\"" + status + "\"}",
                            static_cast<double>(n));
    const auto& c = sms_->counters();
    gauges.emplace_back("gateway_sms_processed_total", static_cast<double>(c.processed.load()));
    gauges.emplace_back("gateway_sms_duplicates_total", static_cast<double>(c.duplicates.load()));
    gauges.emplace_back("gateway_sms_rate_limited_total",
                        static_cast<double>(c.rate_limited.load()));
    gauges.emplace_back("gateway_sms_ignored_commands_total",
                        static_cast<double>(referrals_->ignored_commands()));
    // Cases waiting for the hotline (urgent and escalated ones included).
    gauges.emplace_back("gateway_hotline_queue_cases",
                        static_cast<double>(store_->hotline_queue_length()));
    gauges.emplace_back("gateway_storage_failures_total", static_cast<double>(health_.failures()));
    gauges.emplace_back("gateway_storage_failing", health_.failing() ? 1.0 : 0.0);
    // Group commit at work: writes per commit, and commits that were fsynced.
    const store::commit_stats commits = store_->commit_counts();
    gauges.emplace_back("gateway_store_writes_total", static_cast<double>(commits.writes));
    gauges.emplace_back("gateway_store_commits_total", static_cast<double>(commits.commits));
    gauges.emplace_back("gateway_store_fsyncs_total", static_cast<double>(commits.durable_commits));
    if (link_report_)
        for (const auto& l : link_report_()) {
            const std::string label = "{link=\"" + l.name + "\"}";
            gauges.emplace_back("gateway_link_up" + label, l.up ? 1.0 : 0.0);
            for (const auto& [name, value] : l.counters)
                gauges.emplace_back("gateway_link_" + name + label, value);
        }
    http::response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render(gauges);
    return r;
}

http::response gateway::handle_sms(const std::string& channel, const std::string& action,
                                   const http::request& req) {
    auto it = sms_channels_.find(channel);
    if (it == sms_channels_.end()) return http::error_response(404, "unknown SMS channel");
    const sms_channel& ch = it->second;
    if (!adapters::authenticate(req, ch.settings)) {
        spdlog::warn("sms/{}: callback refused: bad or missing credentials (from {})", channel,
                     req.remote_address);
        return http::error_response(403, "forbidden");
    }
    if (action == "dlr") {
        auto reports = ch.adapter->parse_report(req);
        if (!reports) return http::error_response(400, reports.error());
        const long long now = to_unix_seconds(clock_.now());
        for (const auto& r : *reports) {
            if (!store_->record_delivery_report(channel, r.provider_id, r.status, r.detail, now))
                spdlog::info("sms/{}: delivery report for an unknown message", channel);
            // She opted out at the aggregator: no SMS from us either, on any channel.
            if (r.recipient_opted_out && store_->opt_out_recipient_of(channel, r.provider_id))
                spdlog::info("sms/{}: a recipient opted out with the aggregator", channel);
        }
        // Degraded: writes fail, so no case can be registered now.
        if (health_.failing()) return http::error_response(503, "degraded: storage failing");
        return http::error_response(200, "ok");
    }
    if (!action.empty()) return http::error_response(404, "not found");
    auto messages = ch.adapter->parse_inbound(req);
    if (!messages) {
        spdlog::info("sms/{}: request refused: {}", channel, messages.error());
        return http::error_response(400, messages.error());
    }
    std::optional<std::string> reply;
    const bool in_response = ch.adapter->reply_in_response() && messages->size() == 1;
    for (const auto& m : *messages)
        reply = sms_->handle({channel, m.message_id, m.from, m.text}, in_response);
    return ch.adapter->inbound_response(in_response ? reply : std::nullopt);
}

server::first_answer gateway::handle_ussd(const adapters::ussd_adapter& adapter,
                                          http::request req) {
    // Whoever calls here drives a woman's session: only the aggregator may.
    if (!config_.ussd.allowed_sources.empty() &&
        !address_in(req.remote_address, config_.ussd.allowed_sources)) {
        spdlog::warn("ussd/{}: callback refused: {} is not an allowed source", adapter.name(),
                     req.remote_address);
        return http::error_response(403, "forbidden: not an allowed source address");
    }
    if (!adapters::request_token_ok(req, config_.ussd.token)) {
        spdlog::warn("ussd/{}: callback refused: bad or missing token (from {})", adapter.name(),
                     req.remote_address);
        return http::error_response(403, "forbidden: bad or missing token");
    }
    auto parsed = adapter.parse(req);
    if (!parsed) {
        spdlog::info("ussd/{}: request refused: {}", adapter.name(), parsed.error());
        return http::error_response(400, parsed.error());
    }
    domain::ussd_request hop = std::move(*parsed);
    if (config_.limits.ussd_per_number_per_minute > 0) {
        // One count per number however it is spelled (996..., 0555..., +996 555 ...).
        const std::string number = phones_.to_e164(hop.phone).value_or(hop.phone);
        const long long now = to_unix_seconds(clock_.now());
        if (config_.postgres) {
            // Several nodes: counted in the store, so a number gets its
            // limit once, not once per node (one-minute windows).
            return server::rest_of_request([this, &adapter, number, now, hop = std::move(hop)] {
                const long long window = now - now % 60;
                try {
                    if (store_->count_event("ussd-number:" + number, window) >
                        static_cast<long long>(config_.limits.ussd_per_number_per_minute)) {
                        spdlog::warn("ussd/{}: rate limit for {}", adapter.name(),
                                     mask_phone(number));
                        return too_many(window + 60 - now, "for this number");
                    }
                } catch (const store::store_error&) {
                    // The hop itself will meet the store's trouble and say so.
                }
                return adapter.render(ussd_->handle(hop));
            });
        }
        std::lock_guard lock(limits_mutex_);
        if (!per_number_.allow(number, now)) {
            spdlog::warn("ussd/{}: rate limit for {}", adapter.name(), mask_phone(number));
            return too_many(per_number_.retry_after(number, now), "for this number");
        }
    }
    // Most hops: the menu answers from the session in memory, no thread hand-off.
    if (auto reply = ussd_->answer_from_memory(hop)) return adapter.render(*reply);
    // The rest may read or write the store (a new session, a case): on a worker.
    return server::rest_of_request(
        [this, &adapter, hop = std::move(hop)] { return adapter.render(ussd_->handle(hop)); });
}

}  // namespace gw::app

#include "app/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "adapters/registry.hpp"
#include "common/client_address.hpp"

namespace gw::app {
namespace {

namespace fs = std::filesystem;

class section_reader {
  public:
    section_reader(const YAML::Node& node, std::string name, const std::string& file,
                   std::vector<menu::diagnostic>& out)
        : node_(node), name_(std::move(name)), file_(file), out_(out) {}

    template <class T>
    void get(const char* key, T& into) {
        seen_.insert(key);
        const YAML::Node v = node_[key];
        if (!v) return;
        try {
            into = v.as<T>();
        } catch (const YAML::Exception&) {
            out_.push_back({{file_, v.Mark().line + 1}, name_ + "." + key + ": wrong type"});
        }
    }
    template <class D>
    void get_duration(const char* key, D& into) {
        long long n = into.count();
        get(key, n);
        if (n < 0)
            out_.push_back({{file_, node_[key].Mark().line + 1}, name_ + "." + key + " < 0"});
        into = D(n);
    }
    // A secret: `<key>_env` names an environment variable, `<key>` is inline.
    // With `missing`, an unset (or empty) variable is collected there (key ->
    // variable) for one summary instead of a warning each.
    void get_secret(const char* key, std::string& into,
                    std::map<std::string, std::string>* missing = nullptr) {
        std::string env_key = std::string(key) + "_env";
        seen_.insert(key);
        seen_.insert(env_key);
        if (const YAML::Node v = node_[env_key]; v) {
            std::string name = v.as<std::string>();
            const char* value = std::getenv(name.c_str());
            if (missing && (!value || !*value))
                (*missing)[key] = name;
            else if (!value)
                out_.push_back(
                    {{file_, v.Mark().line + 1},
                     name_ + "." + env_key + ": environment variable " + name + " is not set",
                     true});
            into = value ? value : "";
        } else {
            get(key, into);
        }
    }
    const YAML::Node& node() const { return node_; }
    void known(const char* key) { seen_.insert(key); }
    void unknown_keys() {
        for (const auto& kv : node_) {
            auto k = kv.first.as<std::string>();
            if (!seen_.count(k))
                out_.push_back(
                    {{file_, kv.first.Mark().line + 1}, "unknown key " + name_ + "." + k, true});
        }
    }

  private:
  private:
    const YAML::Node node_;
    std::string name_;
    const std::string& file_;
    std::vector<menu::diagnostic>& out_;
    std::set<std::string> seen_;
};

// A sender a handset can show and answer: a number (short code or E.164),
// an alphanumeric sender ID (at most 11 characters, not all digits), or a
// Twilio Messaging Service SID.
bool plausible_sender(const std::string& s) {
    const bool service_sid = s.size() == 34 && s.rfind("MG", 0) == 0;
    std::size_t digits = 0, letters = 0, others = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char ch = s[i];
        if (ch >= '0' && ch <= '9')
            ++digits;
        else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
            ++letters;
        else if (!(ch == '+' && i == 0) && ch != ' ' && ch != '-' && ch != '.')
            ++others;
    }
    if (service_sid) return true;
    if (others > 0 || s.empty()) return false;
    if (letters == 0) return digits >= 3 && digits <= 15;
    return s.size() <= 11 && s[0] != '+';
}

// Twilio refuses a message without From (error 21603) and Kannel's sendsms
// one without `from` (no global-sender); Africa's Talking and Infobip send
// from a shared default sender ID that she cannot reply to.
void check_sender(const sms_channel_config& ch, bool configured, const std::string& path, int line,
                  std::vector<menu::diagnostic>& d) {
    const std::string name = "sms.channels." + ch.name;
    if (ch.send_url.empty() || !configured) return;  // unset variables: in the summary
    if (ch.sender.empty()) {
        const auto* aggregator = adapters::find_aggregator(ch.name);
        const bool required = aggregator && aggregator->sender_required;
        d.push_back({{path, line},
                     name + " sends SMS but has no sender (set sender: or sender_env:): " +
                         (required ? std::string("every message would be refused")
                                   : std::string("the aggregator's default sender is used and she "
                                                 "cannot reply to it")),
                     !required});
    } else if (!plausible_sender(ch.sender)) {
        d.push_back({{path, line},
                     name + ".sender '" + ch.sender +
                         "' is neither a number nor an alphanumeric sender ID of at most 11 "
                         "characters",
                     true});
    }
}

std::string url_host(const std::string& address) {
    if (address.empty() || address == "0.0.0.0")
        return "127.0.0.1";  // all addresses: loopback works
    if (address == "::") return "[::1]";
    return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

// Where an aggregator sends delivery reports, when not configured (the
// registry says which): an SMSC box beside the gateway (Kannel) calls the
// gateway's own address and port; Twilio calls the public URL its
// signatures cover. The channel's token is added by the adapter when it sends.
void default_report_url(sms_channel_config& ch, const server_config& server,
                        const std::string& path, int line, std::vector<menu::diagnostic>& d) {
    const std::string name = "sms.channels." + ch.name;
    using reports = adapters::aggregator::reports_to;
    const auto* aggregator = adapters::find_aggregator(ch.name);
    if (!aggregator) return;
    const std::string own_path = "/sms/" + ch.name + "/dlr";
    if (aggregator->default_reports == reports::public_url && ch.report_url.empty() &&
        !ch.public_url.empty()) {
        std::string base = ch.public_url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        ch.report_url = base + own_path;
    }
    if (aggregator->default_reports != reports::gateway || ch.send_url.empty()) return;
    const std::string self = url_host(server.address);
    if (ch.report_url.empty()) {
        if (server.port == 0) {
            d.push_back({{path, line},
                         name + ": server.port is 0 (any free port), so " + ch.name +
                             " cannot be told where to send delivery reports: set report_url",
                         true});
            return;
        }
        ch.report_url = "http://" + self + ":" + std::to_string(server.port) + own_path;
        return;
    }
    // A report_url on this host with another port misses the gateway.
    const auto scheme = ch.report_url.find("://");
    if (scheme == std::string::npos) {
        d.push_back({{path, line}, name + ".report_url must be an http:// URL"});
        return;
    }
    const auto host = scheme + 3;
    auto end = ch.report_url.find_first_of("/?#", host);
    if (end == std::string::npos) end = ch.report_url.size();
    const std::string authority = ch.report_url.substr(host, end - host);
    const auto colon = authority.rfind(':');
    const auto bracket = authority.rfind(']');
    const bool has_port =
        colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
    const std::string h = has_port ? authority.substr(0, colon) : authority;
    const std::string port = has_port                               ? authority.substr(colon + 1)
                             : ch.report_url.rfind("https", 0) == 0 ? "443"
                                                                    : "80";
    const bool local = h == "127.0.0.1" || h == "localhost" || h == "[::1]" || h == self;
    if (local && server.port != 0 && port != std::to_string(server.port))
        d.push_back({{path, line},
                     name + ".report_url uses port " + port + " but the gateway listens on " +
                         std::to_string(server.port) + ": delivery reports would not arrive",
                     true});
}

}  // namespace

config_result load_config(const std::string& path) {
    config_result r;
    config& c = r.value;
    c.source_file = path;
    c.server.port = 8080;  // the server's own default is "any free port"
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        r.diagnostics.push_back({{path, 0}, "cannot read the config file"});
        return r;
    } catch (const YAML::Exception& e) {
        r.diagnostics.push_back({{path, e.mark.line + 1}, e.msg});
        return r;
    }
    if (!root.IsMap()) {
        r.diagnostics.push_back({{path, 1}, "the config must be a map"});
        return r;
    }
    auto& d = r.diagnostics;
    auto section = [&](const char* name) {
        const YAML::Node n = root[name];
        if (n && !n.IsMap())
            d.push_back({{path, n.Mark().line + 1}, std::string(name) + " must be a map"});
        return section_reader(n && n.IsMap() ? n : YAML::Node(YAML::NodeType::Map), name, path, d);
    };
    try {
        {
            auto s = section("server");
            s.get("address", c.server.address);
            int port = c.server.port;
            s.get("port", port);
            if (port < 0 || port > 65535) d.push_back({{path, 0}, "server.port out of range"});
            c.server.port = static_cast<unsigned short>(port);
            s.get("io_threads", c.server.io_threads);
            s.get("handler_threads", c.server.handler_threads);
            if (c.server.handler_threads < 0)
                d.push_back({{path, 0}, "server.handler_threads must be >= 0"});
            if (c.server.io_threads < 1) d.push_back({{path, 0}, "server.io_threads must be >= 1"});
            s.get_duration("read_timeout_ms", c.server.read_timeout);
            s.get_duration("write_timeout_ms", c.server.write_timeout);
            s.get("body_limit_bytes", c.server.body_limit);
            // What aggregators need beyond the default (the registry: Infobip
            // batches delivery reports). A configured map replaces these.
            c.server.body_limits.clear();
            for (const auto& a : adapters::aggregators())
                c.server.body_limits.insert(a.body_limits.begin(), a.body_limits.end());
            s.get("body_limits", c.server.body_limits);
            for (const auto& [prefix, limit] : c.server.body_limits) {
                // Only configured entries can be wrong: the key is there.
                if (prefix.empty() || prefix[0] != '/')
                    d.push_back(
                        {{path, s.node()["body_limits"].Mark().line + 1},
                         "server.body_limits: " + prefix + " must be a path starting with /"});
                if (limit == 0)
                    d.push_back({{path, s.node()["body_limits"].Mark().line + 1},
                                 "server.body_limits." + prefix + " must be > 0"});
            }
            s.get("header_limit_bytes", c.server.header_limit);
            s.get("max_connections", c.server.max_connections);
            s.get("max_connections_per_address", c.server.max_connections_per_address);
            s.get_duration("drain_timeout_ms", c.server.drain_timeout);
            s.get_duration("request_deadline_ms", c.server.request_deadline);
            s.get("trusted_proxies", c.trusted_proxies);
            s.unknown_keys();
        }
        {
            auto s = section("limits");
            s.get("per_ip_per_minute", c.limits.per_ip_per_minute);
            s.get("ussd_per_number_per_minute", c.limits.ussd_per_number_per_minute);
            s.unknown_keys();
        }
        {
            auto s = section("store");
            s.get("sqlite_path", c.sqlite_path);
            s.known("postgres");
            if (const YAML::Node pg = s.node()["postgres"]; pg && !pg.IsNull()) {
                if (!pg.IsMap()) {
                    d.push_back({{path, pg.Mark().line + 1}, "store.postgres must be a map"});
                } else {
                    section_reader p(pg, "store.postgres", path, d);
                    config::postgres_store_config pc;
                    p.get_secret("url", pc.url);
                    int pool = static_cast<int>(pc.pool_size);
                    p.get("pool", pool);
                    if (pool < 1 || pool > 200)
                        d.push_back({{path, pg.Mark().line + 1}, "store.postgres.pool: 1 to 200"});
                    pc.pool_size = static_cast<std::size_t>(std::max(pool, 1));
                    p.get("claim_timeout_s", pc.claim_timeout_s);
                    if (pc.claim_timeout_s < 1)
                        d.push_back({{path, pg.Mark().line + 1},
                                     "store.postgres.claim_timeout_s must be at least 1"});
                    if (pc.url.empty())
                        d.push_back({{path, pg.Mark().line + 1},
                                     "store.postgres: no database URL (set url_env)"});
                    p.unknown_keys();
                    c.postgres = std::move(pc);
                }
            }
            s.unknown_keys();
        }
        {
            auto s = section("menus");
            s.get("directory", c.menu_directory);
            s.unknown_keys();
        }
        {
            auto s = section("ussd");
            s.get_duration("idle_timeout_s", c.ussd.idle_timeout);
            s.get_duration("resume_window_s", c.ussd.resume_window);
            s.get("screen_limit_ucs2", c.ussd.screen_limit_ucs2);
            s.get("screen_limit_gsm7", c.ussd.screen_limit_gsm7);
            s.get("max_options_per_page", c.ussd.max_options_per_page);
            s.get("max_input_bytes", c.ussd.max_input_bytes);
            s.get_duration("session_flush_ms", c.ussd.session_flush);
            s.get_secret("token", c.ussd.token);
            s.get("allowed_sources", c.ussd.allowed_sources);
            s.unknown_keys();
            if (c.ussd.screen_limit_ucs2 < 20 || c.ussd.screen_limit_gsm7 < 20)
                d.push_back({{path, 0}, "ussd screen limits must be at least 20"});
            if (c.ussd.max_options_per_page < 1)
                d.push_back({{path, 0}, "ussd.max_options_per_page must be >= 1"});
        }
        {
            auto s = section("sms");
            s.get_duration("idle_timeout_s", c.sms.idle_timeout);
            s.get("max_segments", c.sms.max_segments);
            s.get("start_keywords", c.sms.start_keywords);
            s.get("stop_keywords", c.sms.stop_keywords);
            s.get("per_number_limit", c.sms.per_number_limit);
            s.get("per_number_window_s", c.sms.per_number_window_s);
            s.get("per_channel_limit", c.sms.per_channel_limit);
            s.get("per_channel_window_s", c.sms.per_channel_window_s);
            s.get("max_attempts", c.sms.max_attempts);
            s.get_duration("base_delay_ms", c.sms.base_delay);
            s.get_duration("max_delay_ms", c.sms.max_delay);
            s.get_duration("poll_interval_ms", c.sms.poll_interval);
            s.get_duration("request_timeout_ms", c.sms.request_timeout);
            std::string known_channels, auth_types;
            for (const auto& a : adapters::aggregators())
                if (a.make_sms) known_channels += (known_channels.empty() ? "" : ", ") + a.name;
            for (const auto& scheme : adapters::common_auth_schemes())
                auth_types += (auth_types.empty() ? "" : ", ") + scheme;
            for (const auto& a : adapters::aggregators())
                if (!a.auth_scheme.empty()) auth_types += ", " + a.auth_scheme;
            s.known("channels");
            std::vector<std::string> unconfigured;  // channels whose secrets are not set
            bool refusing = false;                  // one of them refuses callbacks
            if (const YAML::Node chans = s.node()["channels"]; chans && chans.IsMap()) {
                for (const auto& kv : chans) {
                    sms_channel_config ch;
                    ch.name = kv.first.as<std::string>();
                    const auto* aggregator = adapters::find_aggregator(ch.name);
                    if (!aggregator || !aggregator->make_sms)
                        d.push_back(
                            {{path, kv.first.Mark().line + 1},
                             "unknown SMS channel " + ch.name + " (" + known_channels + ")"});
                    if (!kv.second.IsMap()) {
                        d.push_back({{path, kv.second.Mark().line + 1},
                                     "sms.channels." + ch.name + " must be a map"});
                        continue;
                    }
                    section_reader cr(kv.second, "sms.channels." + ch.name, path, d);
                    std::string auth_name = "token";
                    cr.get("auth", auth_name);
                    const auto* owner = adapters::find_aggregator_by_auth(auth_name);
                    if (auto common = adapters::common_auth_kind(auth_name)) {
                        ch.auth = *common;
                    } else if (owner) {
                        ch.auth = domain::auth_kind::scheme;
                        ch.auth_scheme = auth_name;
                        if (owner->name != ch.name)
                            d.push_back({{path, kv.second.Mark().line + 1},
                                         "sms.channels." + ch.name + ".auth " + auth_name + " is " +
                                             owner->name + "'s own scheme"});
                    } else {
                        d.push_back(
                            {{path, kv.second.Mark().line + 1},
                             "sms.channels." + ch.name + ".auth must be one of " + auth_types});
                    }
                    std::map<std::string, std::string> missing;  // key -> unset variable
                    cr.get_secret("token", ch.token, &missing);
                    cr.get("username", ch.username);
                    cr.get_secret("password", ch.password, &missing);
                    cr.get_secret("auth_token", ch.auth_token, &missing);
                    cr.get("public_url", ch.public_url);
                    cr.get("send_url", ch.send_url);
                    cr.get("send_username", ch.send_username);
                    cr.get_secret("send_password", ch.send_password, &missing);
                    cr.get_secret("sender", ch.sender, &missing);
                    cr.get("report_url", ch.report_url);
                    cr.unknown_keys();
                    const std::string auth_secret = ch.auth == domain::auth_kind::token ? "token"
                                                    : ch.auth == domain::auth_kind::basic
                                                        ? "password"
                                                        : "auth_token";
                    const bool auth_missing =
                        ch.auth != domain::auth_kind::none && missing.count(auth_secret);
                    const bool send_missing =
                        !ch.send_url.empty() &&
                        (missing.count("send_password") || missing.count("sender"));
                    if (auth_missing || send_missing) {
                        unconfigured.push_back(ch.name + (auth_missing ? "" : " (cannot send)"));
                        refusing |= auth_missing;
                    }
                    check_sender(ch, !missing.count("sender"), path, kv.first.Mark().line + 1, d);
                    default_report_url(ch, c.server, path, kv.first.Mark().line + 1, d);
                    if (ch.auth == domain::auth_kind::none)
                        d.push_back(
                            {{path, kv.second.Mark().line + 1},
                             "sms.channels." + ch.name + " accepts unauthenticated callbacks",
                             true});
                    c.sms.channels.push_back(std::move(ch));
                }
            }
            if (!unconfigured.empty()) {
                std::string names;
                for (const auto& n : unconfigured) names += (names.empty() ? "" : ", ") + n;
                d.push_back({{path, s.node()["channels"].Mark().line + 1},
                             "SMS channels not configured (secrets missing): " + names +
                                 (refusing ? " — they refuse callbacks until set"
                                           : " — they cannot send until set"),
                             true});
            }
            s.unknown_keys();
        }
        {
            auto s = section("smpp");
            s.known("operators");
            std::vector<std::string> unconfigured;
            if (const YAML::Node ops = s.node()["operators"]; ops && ops.IsMap()) {
                for (const auto& kv : ops) {
                    smpp::link_settings l;
                    l.name = kv.first.as<std::string>();
                    const std::string name = "smpp.operators." + l.name;
                    const int line = kv.first.Mark().line + 1;
                    if (!kv.second.IsMap()) {
                        d.push_back({{path, line}, name + " must be a map"});
                        continue;
                    }
                    bool name_ok = !l.name.empty() && l.name.size() <= 32;
                    for (char ch : l.name)
                        name_ok = name_ok && ((ch >= 'a' && ch <= 'z') ||
                                              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-');
                    if (!name_ok)
                        d.push_back({{path, line},
                                     name + ": operator names are lower-case letters, digits, "
                                            "'-' and '_' (at most 32)"});
                    section_reader o(kv.second, name, path, d);
                    std::map<std::string, std::string> missing;
                    o.get("host", l.host);
                    int port = l.port;
                    o.get("port", port);
                    if (port < 1 || port > 65535)
                        d.push_back({{path, line}, name + ".port out of range"});
                    l.port = static_cast<std::uint16_t>(port);
                    o.get("tls", l.tls);
                    o.get("tls_ca_file", l.tls_ca_file);
                    o.get("system_id", l.system_id);
                    o.get_secret("password", l.password, &missing);
                    o.get("system_type", l.system_type);
                    std::string bind = "transceiver";
                    o.get("bind", bind);
                    if (bind != "transceiver" && bind != "transmitter_receiver")
                        d.push_back({{path, line},
                                     name + ".bind must be transceiver or "
                                            "transmitter_receiver"});
                    l.transceiver = bind == "transceiver";
                    o.get_duration("enquire_link_s", l.enquire_link_interval);
                    o.get_duration("response_timeout_ms", l.response_timeout);
                    o.get("window", l.window);
                    o.get_duration("reconnect_min_ms", l.reconnect_min);
                    o.get_duration("reconnect_max_ms", l.reconnect_max);
                    o.get_duration("throttle_pause_ms", l.throttle_pause);
                    if (l.system_id.empty() || l.system_id.size() > 15)
                        d.push_back({{path, line}, name + ".system_id: 1 to 15 characters"});
                    if (l.password.size() > 8)
                        d.push_back({{path, line}, name + ".password: SMPP allows 8 characters"});
                    if (l.window < 1) d.push_back({{path, line}, name + ".window must be >= 1"});
                    if (l.enquire_link_interval.count() < 1 || l.response_timeout.count() < 100 ||
                        l.reconnect_min.count() < 10 || l.reconnect_max < l.reconnect_min)
                        d.push_back({{path, line},
                                     name + ": enquire_link_s >= 1, response_timeout_ms >= 100, "
                                            "10 <= reconnect_min_ms <= reconnect_max_ms"});
                    o.known("ussd");
                    if (const YAML::Node u = kv.second["ussd"]; u && u.IsMap()) {
                        section_reader ur(u, name + ".ussd", path, d);
                        ur.get("enabled", l.ussd);
                        ur.get("code", l.ussd_code);
                        ur.get("service_type", l.ussd_service_type);
                        int tag = l.session_tag;
                        ur.get("session_tag", tag);
                        l.session_tag = static_cast<std::uint16_t>(tag);
                        ur.get_duration("reply_deadline_ms", l.ussd_reply_deadline);
                        ur.known("ops");
                        if (const YAML::Node ops = u["ops"]; ops && ops.IsMap()) {
                            section_reader opr(ops, name + ".ussd.ops", path, d);
                            auto op = [&](const char* key, std::uint8_t& into) {
                                int v = into;
                                opr.get(key, v);
                                if (v < 0 || v > 255)
                                    d.push_back({{path, line},
                                                 name + ".ussd.ops." + key + " must be 0-255"});
                                into = static_cast<std::uint8_t>(v);
                            };
                            op("begin", l.ops.begin);
                            op("user_response", l.ops.user_response);
                            op("next_screen", l.ops.next_screen);
                            op("last_screen", l.ops.last_screen);
                            if (ops["release"]) {
                                std::uint8_t r = 0;
                                op("release", r);
                                l.ops.release = r;
                            }
                            opr.unknown_keys();
                        }
                        ur.unknown_keys();
                        if (l.ussd && l.ussd_code.empty())
                            d.push_back({{path, line},
                                         name + ".ussd.code: the USSD code women dial "
                                                "(such as \"*1313#\")"});
                    }
                    o.known("sms");
                    if (const YAML::Node sm = kv.second["sms"]; sm && sm.IsMap()) {
                        section_reader sr(sm, name + ".sms", path, d);
                        sr.get("enabled", l.sms);
                        sr.get_secret("sender", l.sender, &missing);
                        int ton = l.sender_ton, npi = l.sender_npi;
                        sr.get("sender_ton", ton);
                        sr.get("sender_npi", npi);
                        l.sender_ton = static_cast<std::uint8_t>(ton);
                        l.sender_npi = static_cast<std::uint8_t>(npi);
                        sr.get("delivery_receipts", l.delivery_receipts);
                        sr.unknown_keys();
                    }
                    o.unknown_keys();
                    if (missing.count("password")) {
                        unconfigured.push_back(l.name + " (" + missing["password"] + ")");
                        continue;
                    }
                    c.smpp.operators.push_back(std::move(l));
                }
            }
            if (!unconfigured.empty()) {
                std::string names;
                for (const auto& n : unconfigured) names += (names.empty() ? "" : ", ") + n;
                d.push_back({{path, s.node()["operators"].Mark().line + 1},
                             "SMPP operators not configured (password variable not set): " + names,
                             true});
            }
            s.unknown_keys();
        }
        {
            auto s = section("referrals");
            s.get("partners_file", c.referrals.partners_file);
            s.get("rules_directory", c.referrals.rules_directory);
            s.get("notify_channel", c.referrals.notify_channel);
            // One text, or one per language: {ky: "...", ru: "..."}.
            if (const auto n = s.node()["focal_new_referral"]; n && n.IsScalar()) {
                std::string text;
                s.get("focal_new_referral", text);
                c.referrals.focal_new_referral = {{"", text}};
            } else if (n) {
                s.get("focal_new_referral", c.referrals.focal_new_referral);
            } else {
                s.known("focal_new_referral");
            }
            s.get_duration("sweep_interval_ms", c.referrals.sweep_interval);
            s.unknown_keys();
        }
        {
            auto s = section("privacy");
            s.get_secret("data_key", c.privacy.data_key);
            s.get("data_key_file", c.privacy.data_key_file);
            s.get("retention_days", c.privacy.retention_days);
            s.unknown_keys();
            if (c.privacy.retention_days < 0)
                d.push_back({{path, 0}, "privacy.retention_days must be >= 0"});
            if (c.privacy.data_key.empty() && c.privacy.data_key_file.empty())
                d.push_back(
                    {{path, 0}, "privacy: no data key (set data_key_env or data_key_file)"});
        }
        {
            auto s = section("console");
            s.get("directory", c.console.directory);
            s.get("chart_library", c.console.chart_library);
            s.get("reply_templates", c.console.reply_templates);
            s.get_duration("session_ttl_s", c.console.session_ttl);
            s.get("failures_before_backoff", c.console.failures_before_backoff);
            s.get_duration("max_backoff_s", c.console.max_backoff);
            s.unknown_keys();
            if (c.console.session_ttl.count() < 60)
                d.push_back({{path, 0}, "console.session_ttl_s must be at least 60"});
        }
        {
            auto s = section("phone");
            s.get("default_region", c.default_region);
            s.get("allowed_regions", c.allowed_regions);
            s.unknown_keys();
        }
        {
            auto s = section("log");
            s.get("level", c.log_level);
            s.unknown_keys();
        }
        for (const auto& kv : root) {
            static const std::set<std::string> known = {"server",  "limits",  "store", "menus",
                                                        "ussd",    "sms",     "smpp",  "referrals",
                                                        "privacy", "console", "phone", "log"};
            if (!known.count(kv.first.as<std::string>()))
                d.push_back({{path, kv.first.Mark().line + 1},
                             "unknown section " + kv.first.as<std::string>(),
                             true});
        }
        for (const auto* list : {&c.trusted_proxies, &c.ussd.allowed_sources})
            for (const auto& a : *list)
                if (!valid_address_pattern(a))
                    d.push_back({{path, 0},
                                 "'" + a + "' is not an IP address or IPv4 CIDR block (" +
                                     (list == &c.trusted_proxies ? "server.trusted_proxies"
                                                                 : "ussd.allowed_sources") +
                                     ")"});
        // Relative paths are relative to the config file.
        fs::path base = fs::absolute(path).parent_path();
        auto resolve = [&](std::string& p) {
            if (!p.empty() && p != ":memory:" && fs::path(p).is_relative())
                p = (base / p).lexically_normal().string();
        };
        resolve(c.sqlite_path);
        resolve(c.menu_directory);
        resolve(c.referrals.partners_file);
        resolve(c.referrals.rules_directory);
        resolve(c.privacy.data_key_file);
        resolve(c.console.directory);
        resolve(c.console.reply_templates);
        resolve(c.console.chart_library);
        if (!fs::exists(c.console.chart_library))
            d.push_back({{path, 0},
                         "console.chart_library: " + c.console.chart_library +
                             " does not exist: the dashboard shows its tables without charts "
                             "(apt install libjs-chart.js)",
                         /*warning=*/true});
        for (auto& op : c.smpp.operators) {
            resolve(op.tls_ca_file);
            if (!op.tls_ca_file.empty() && !fs::exists(op.tls_ca_file))
                d.push_back({{path, 0},
                             "smpp.operators." + op.name + ".tls_ca_file: " + op.tls_ca_file +
                                 " does not exist"});
        }
    } catch (const YAML::Exception& e) {
        // A shape the readers did not expect (a list where a map belongs, ...).
        d.push_back({{path, e.mark.line + 1}, e.msg});
    }
    return r;
}

}  // namespace gw::app

#pragma once
// Gateway configuration (config/gateway.yaml). Relative paths in the file
// are resolved against the directory of the file itself. Problems are
// reported as file:line diagnostics; defaults apply to absent keys.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/outbound.hpp"
#include "menu/diagnostic.hpp"
#include "server/http_server.hpp"
#include "service/operator_accounts.hpp"
#include "service/outbox_worker.hpp"
#include "service/sms_service.hpp"
#include "service/ussd_service.hpp"
#include "smpp/dialogue.hpp"

namespace gw::app {

// The HTTP server's settings (timeouts, limits), as the server module defines them.
using server_config = server::server_options;

// Requests per client address and USSD hops per number, per minute;
// over the limit: 429 with Retry-After. 0 = no limit.
struct rate_limit_config {
    std::size_t per_ip_per_minute = 0;
    std::size_t ussd_per_number_per_minute = 60;
};

// The USSD section: the service's own settings (idle_timeout,
// resume_window, max_input_bytes, session_flush) and what is checked
// before a hop reaches the service (its callback's secret and source) or
// when the menus are loaded (screen limits).
struct ussd_config : service::ussd_settings {
    // 20 ms here, where many women dial at once and batches pay; the
    // service's own default, 0 (every hop written through), is what its
    // unit tests use.
    ussd_config() { session_flush = std::chrono::milliseconds{20}; }
    std::size_t screen_limit_ucs2 = 80;
    std::size_t screen_limit_gsm7 = 182;
    std::size_t max_options_per_page = 5;
    // Callbacks must carry this secret (`?token=` or X-Gateway-Token);
    // without one configured, every USSD callback is refused with 403.
    std::string token;
    // When not empty, only these aggregator addresses (exact, or IPv4
    // CIDR such as 196.201.214.0/24) may call; others get 403.
    std::vector<std::string> allowed_sources;
};

// One SMS aggregator channel, as its adapter takes it. Secrets come from
// environment variables (`*_env` keys) or, for tests, inline values; the
// `auth` key fills auth (and auth_scheme); `sender` or `sender_env` the
// sender. Delivery reports: default Kannel http://<server address>:<port>/sms/kannel/dlr,
// Twilio <public_url>/sms/twilio/dlr; the channel's token is added when sending.
using sms_channel_config = domain::channel_settings;

// The SMS section: the SMS service's own settings (idle timeout,
// keywords, limits), the outbox's (attempts, delays, timeouts) and the
// channels, each its adapter's settings.
struct sms_config : service::sms_settings, service::outbox_settings {
    std::size_t max_segments = 3;  // one menu screen as SMS: at most this many segments
    std::vector<sms_channel_config> channels;
};

struct referral_config {
    std::string partners_file = "partners.yaml";
    std::string rules_directory = "../referral-rules";
    std::string notify_channel;  // SMS channel for focal points and women; "" = none
    // By language (a partner's focal_language); one text for all: key "".
    std::map<std::string, std::string> focal_new_referral = {
        {"",
         "New referral {ref}: {topic}, {oblast}, contact: {contact}. Reply ACCEPT {ref} or "
         "DECLINE {ref} reason"}};
    std::chrono::milliseconds sweep_interval{30000};
};

// Personal data at rest. The data key (64 hex characters) comes from the
// environment (data_key_env) or, for tests, inline; without either, from
// data_key_file, which is created on first start. Keep the key apart from
// the database and back it up: without it the numbers cannot be read.
struct privacy_config {
    std::string data_key;
    std::string data_key_file;
    int retention_days = 365;  // personal data of finished work is forgotten after this; 0 = never
};

// The hotline operators' console and API.
// The console section: the operator accounts' own settings (log-in
// lifetime, back-off) and the files the console is served from.
struct console_config : service::account_settings {
    std::string directory = "console";  // static files of the web console
    // The dashboard's charts (served as /console/vendor/chart.js).
    std::string chart_library = "/usr/share/javascript/chart.js/chart.min.js";
    std::string reply_templates = "reply-templates.yaml";
};

// Binds to operators' SMSCs and USSD gateways (smpp.operators). An
// operator whose password variable is not set is left out (check says so).
struct smpp_config {
    std::vector<smpp::link_settings> operators;
};

struct config {
    std::string source_file;
    server_config server;
    // Reverse proxies on the way in (server.trusted_proxies): only from
    // them is X-Forwarded-For believed when telling who the client is.
    std::vector<std::string> trusted_proxies;
    rate_limit_config limits;
    std::string sqlite_path = "data/gateway.db";
    // store.postgres: several gateway nodes on one PostgreSQL database
    // instead of the embedded SQLite file (url_env: the variable with its
    // libpq URL, which carries a password).
    struct postgres_store_config {
        std::string url;
        std::size_t pool_size = 16;
        long long claim_timeout_s = 60;  // an outbox claim older than this: its node died
    };
    std::optional<postgres_store_config> postgres;
    std::string menu_directory = "menus";
    ussd_config ussd;
    sms_config sms;
    smpp_config smpp;
    referral_config referrals;
    privacy_config privacy;
    console_config console;
    std::string default_region = "KG";
    std::vector<std::string> allowed_regions{"KG", "RU", "KZ"};
    std::string log_level = "info";
};

struct config_result {
    config value;
    std::vector<menu::diagnostic> diagnostics;
};

config_result load_config(const std::string& path);

}  // namespace gw::app

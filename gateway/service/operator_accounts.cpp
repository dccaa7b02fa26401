#include "service/operator_accounts.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/text.hpp"

namespace gw::service {
std::optional<account_role> role_named(const std::string& name) {
    if (name == "operator") return account_role::hotline_operator;
    if (name == "supervisor") return account_role::supervisor;
    if (name == "programme") return account_role::programme;
    return std::nullopt;
}

const char* role_name(account_role role) {
    switch (role) {
        case account_role::hotline_operator:
            return "operator";
        case account_role::supervisor:
            return "supervisor";
        case account_role::programme:
            return "programme";
    }
    return "programme";
}

namespace {

bool valid_username(const std::string& u) {
    return u.size() >= 2 && u.size() <= 32 && std::all_of(u.begin(), u.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-';
           });
}

std::optional<action_error> check_password(const std::string& p) {
    if (p.size() < min_password_length)
        return action_error{errc::bad_request,
                            "the password must have at least " +
                                std::to_string(min_password_length) + " characters",
                            "password_short"};
    if (p.size() > 1024)
        return action_error{errc::bad_request, "the password is too long", "password_long"};
    return std::nullopt;
}

bool valid_role(const std::string& role) {
    return role_named(role).has_value();
}

// An account row's identity. The store's CHECK admits only the three
// names; anything else would get the narrowest role, which sees no case.
operator_identity identity_of(const store::operator_account& a) {
    return {a.username, a.display_name, role_named(a.role).value_or(account_role::programme)};
}
const action_error bad_role{errc::bad_request, "role must be operator, supervisor or programme",
                            "role_invalid"};

std::optional<action_error> check_display_name(const std::string& n) {
    if (trim(n).empty() || n.size() > 128 || !is_valid_utf8(n))
        return action_error{errc::bad_request, "display_name must be 1-128 bytes of UTF-8 text",
                            "display_name_invalid"};
    return std::nullopt;
}

}  // namespace

operator_accounts::operator_accounts(store::store& store, const clock_source& clock,
                                     account_settings settings)
    : store_(store),
      clock_(clock),
      settings_(settings),
      pair_throttle_(settings.failures_before_backoff, settings.max_backoff.count(),
                     settings.shared_backoff ? &store : nullptr),
      account_failures_(1 << 20, settings.max_backoff.count(),
                        settings.shared_backoff ? &store : nullptr),
      account_ceiling_(std::max(1, settings.failures_before_backoff) * 5) {}

std::variant<login_ok, action_error> operator_accounts::login(const std::string& username,
                                                              const std::string& password,
                                                              const std::string& address) {
    const long long now = to_unix_seconds(clock_.now());
    const std::string account_key = "account:" + username;
    const std::string pair_key = account_key + "|address:" + address;
    if (long long wait = pair_throttle_.wait(pair_key, now); wait > 0)
        return action_error{errc::too_many, "too many failed log-ins: wait before trying again", "",
                            wait};

    std::optional<store::operator_account> account;
    if (valid_username(username) && password.size() <= 1024)
        account = store_.find_operator(username);
    bool ok = false;
    if (account && account->active) {
        ok = verify_password(account->password_hash, password);
    } else {
        // Unknown names cost the same time as known ones.
        std::call_once(dummy_once_, [this] { dummy_hash_ = hash_password("not a real password"); });
        verify_password(dummy_hash_, password);
    }
    if (!ok) {
        account_failures_.failed(account_key, now);
        if (account_failures_.failures(account_key, now) > account_ceiling_)
            pair_throttle_.failed_without_grace(pair_key, now);
        else
            pair_throttle_.failed(pair_key, now);
        if (account)
            store_.record_audit(
                {now, "operator:" + account->username, "login_failed", 0, "from " + address});
        spdlog::warn("console: failed log-in from {}", address);
        return action_error{errc::unauthorized, "wrong username or password"};
    }
    pair_throttle_.succeeded(pair_key);
    login_ok out;
    out.token = new_session_token();
    out.expires_at = now + settings_.session_ttl.count();
    out.who = identity_of(*account);
    store_.create_operator_session(session_token_hash(out.token), account->id, now, out.expires_at,
                                   {now, out.who.actor(), "logged_in", 0, "from " + address});
    return out;
}

void operator_accounts::logout(const std::string& token, const operator_identity& who) {
    store_.end_operator_session(session_token_hash(token));
    store_.record_audit({to_unix_seconds(clock_.now()), who.actor(), "logged_out", 0, ""});
}

std::optional<operator_identity> operator_accounts::authenticate(const std::string& token) {
    if (token.size() != 64) return std::nullopt;
    auto a = store_.operator_for_session(session_token_hash(token), to_unix_seconds(clock_.now()));
    if (!a) return std::nullopt;
    return identity_of(*a);
}

std::variant<store::operator_account, action_error> operator_accounts::add(
    const std::string& actor, const std::string& username, const std::string& display_name,
    const std::string& role, const std::string& password) {
    if (!valid_username(username))
        return action_error{errc::bad_request,
                            "username: 2-32 characters a-z, 0-9, '.', '_' or '-'",
                            "username_invalid"};
    if (!valid_role(role)) return bad_role;
    if (auto e = check_display_name(display_name)) return *e;
    if (auto e = check_password(password)) return *e;
    if (store_.find_operator(username))
        return action_error{errc::conflict, "that username is taken", "username_taken"};
    const long long now = to_unix_seconds(clock_.now());
    store::operator_account a;
    a.username = username;
    a.display_name = display_name;
    a.role = role;
    a.password_hash = hash_password(password);
    a.created_at = now;
    a.id = store_.create_operator(a, {now, actor, "operator_added", 0, username + " as " + role});
    return a;
}

std::variant<store::operator_account, action_error> operator_accounts::change(
    const std::string& actor, const std::string& username, const operator_change& change) {
    auto a = store_.find_operator(username);
    if (!a) return action_error{errc::not_found, "no such operator", "no_operator"};
    std::vector<std::string> what;
    if (change.display_name) {
        if (auto e = check_display_name(*change.display_name)) return *e;
        a->display_name = *change.display_name;
        what.push_back("display name");
    }
    if (change.role) {
        if (!valid_role(*change.role)) return bad_role;
        a->role = *change.role;
        what.push_back("role " + *change.role);
    }
    if (change.password) {
        if (auto e = check_password(*change.password)) return *e;
        a->password_hash = hash_password(*change.password);
        what.push_back("password");
    }
    if (change.active) {
        a->active = *change.active;
        what.push_back(*change.active ? "enabled" : "disabled");
    }
    if (what.empty())
        return action_error{errc::bad_request, "nothing to change", "nothing_to_change"};
    std::string detail = username + ":";
    for (const auto& w : what) detail += " " + w;
    // A disabled account, or one whose password was reset (it may have
    // leaked), is signed out everywhere at once.
    const bool sign_out = !a->active || change.password.has_value();
    store_.update_operator(
        *a, {to_unix_seconds(clock_.now()), actor, "operator_changed", 0, detail}, sign_out);
    return *a;
}

std::vector<store::operator_account> operator_accounts::list() {
    return store_.operators();
}

}  // namespace gw::service

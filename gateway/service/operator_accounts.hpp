#pragma once
// Hotline operator accounts and log-in sessions: who may use the console
// and with which role. Wrong passwords are answered 401 and slow down
// further attempts of that account from that address (429 with a wait).
// Every log-in and account change is audited.
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.hpp"
#include "service/operator_auth.hpp"
#include "service/referral_service.hpp"
#include "store/store.hpp"

namespace gw::service {

struct operator_identity {
    std::string username;
    std::string display_name;
    std::string role;  // operator, supervisor, programme
    bool supervisor() const { return role == "supervisor"; }
    // Programme staff see anonymous counts (the dashboard), never a case.
    bool programme() const { return role == "programme"; }
    bool sees_dashboard() const { return supervisor() || programme(); }
    std::string actor() const { return "operator:" + username; }
};

struct login_ok {
    std::string token;
    long long expires_at = 0;
    operator_identity who;
};

struct login_refused {
    int status = 401;  // 401 wrong credentials, 429 wait first
    std::string reason;
    long long retry_after = 0;
};

struct account_settings {
    long long session_ttl_s = 8 * 3600;
    int failures_before_backoff = 3;
    long long max_backoff_s = 900;
    // Several nodes: wrong passwords are counted in the store, so that
    // trying each node in turn earns no extra attempts.
    bool shared_backoff = false;
};

struct operator_change {
    std::optional<std::string> display_name, role, password;
    std::optional<bool> active;
};

class operator_accounts {
  public:
    operator_accounts(store::store& store, const clock_source& clock, account_settings settings);

    std::variant<login_ok, login_refused> login(const std::string& username,
                                                const std::string& password,
                                                const std::string& address);
    void logout(const std::string& token, const operator_identity& who);
    // The operator behind a token, if the session is valid.
    std::optional<operator_identity> authenticate(const std::string& token);

    // `actor` is recorded ("operator:...", or "cli" for the first account).
    std::variant<store::operator_account, action_error> add(const std::string& actor,
                                                            const std::string& username,
                                                            const std::string& display_name,
                                                            const std::string& role,
                                                            const std::string& password);
    std::variant<store::operator_account, action_error> change(const std::string& actor,
                                                               const std::string& username,
                                                               const operator_change& change);
    std::vector<store::operator_account> list();

  private:
    store::store& store_;
    const clock_source& clock_;
    account_settings settings_;
    // Wrong passwords wait per (account, address): an attacker's guesses
    // never lock the real operator out from her own address, and guesses
    // sprayed over many names from one address (an office behind one NAT)
    // never lock out her colleagues there.
    login_throttle pair_throttle_;
    // Failures of an account from every address. Past a ceiling the
    // account is under attack: an address then has no free failures on it
    // (it only slows; an address that has not failed still gets in).
    login_throttle account_failures_;
    int account_ceiling_;
    // Verified against for unknown names (same timing); made once, by
    // whichever log-in needs it first (log-ins run on several threads).
    std::once_flag dummy_once_;
    std::string dummy_hash_;
};

}  // namespace gw::service

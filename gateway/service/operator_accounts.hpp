#pragma once
// Hotline operator accounts and log-in sessions: who may use the console
// and with which role. Wrong passwords are answered 401 and slow down
// further attempts of that account from that address (429 with a wait).
// Every log-in and account change is audited.
#include <chrono>
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

// What an account may do: an operator the queue and cases; a supervisor
// also accounts, audit, partners and the dashboard; programme staff the
// dashboard only, never a case. Stored and sent by its name.
enum class account_role { hotline_operator, supervisor, programme };
// "operator", "supervisor", "programme"; nothing for any other name.
std::optional<account_role> role_named(const std::string& name);
const char* role_name(account_role role);

struct operator_identity {
    std::string username;
    std::string display_name;
    account_role role = account_role::hotline_operator;
    bool supervisor() const { return role == account_role::supervisor; }
    // Programme staff see anonymous counts (the dashboard), never a case.
    bool programme() const { return role == account_role::programme; }
    bool sees_dashboard() const { return supervisor() || programme(); }
    std::string actor() const { return "operator:" + username; }
};

struct login_ok {
    std::string token;
    long long expires_at = 0;
    operator_identity who;
};

struct account_settings {
    std::chrono::seconds session_ttl{8 * 3600};  // a log-in lasts one shift
    int failures_before_backoff = 3;             // wrong passwords per account or address
    std::chrono::seconds max_backoff{900};
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

    // Refused: unauthorized (wrong credentials), too_many (wait retry_after).
    std::variant<login_ok, action_error> login(const std::string& username,
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

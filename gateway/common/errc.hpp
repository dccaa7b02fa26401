#pragma once
// The one vocabulary of a request a service refuses: what kind of refusal
// (errc), why in English (for logs and API clients), a stable code a
// client translates, and when to try again. Services return it in an
// outcome<T>; only the app turns the kind into an HTTP status, in one
// function (app/json_http.hpp: http_status) with one JSON shape.
// Aggregator callbacks keep their plain bodies; bugs and infrastructure
// failures throw (store_error) and are answered 500/503 by the server.
#include <string>
#include <variant>

namespace gw {

enum class errc {
    bad_request,   // the request itself is wrong (a missing field, an unknown value)
    unauthorized,  // who asks is not known (wrong password, no or expired token)
    forbidden,     // known, but not allowed to (role, another partner's referral)
    not_found,     // nothing by that reference or id (for this caller)
    conflict,      // not in this state (claimed by another, closed, already answered)
    too_many,      // too often: wait retry_after seconds
    unavailable,   // cannot be done now, try later (503; storage trouble throws store_error)
};

struct action_error {
    errc kind;
    std::string reason;         // English, for logs and API clients
    std::string code = {};      // stable key a client translates; empty: its kind's name
    long long retry_after = 0;  // seconds, for too_many (0: none said)
};

// A service's answer: the value, or why not.
template <class T>
using outcome = std::variant<T, action_error>;

}  // namespace gw

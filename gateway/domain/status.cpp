#include "domain/status.hpp"

#include <array>
#include <utility>

namespace gw::domain {
namespace {

// The names are the store's and the APIs' vocabulary: never renamed.
constexpr std::array<std::pair<case_status, std::string_view>, 4> case_names{{
    {case_status::new_, "new"},
    {case_status::escalated, "escalated"},
    {case_status::claimed, "claimed"},
    {case_status::closed, "closed"},
}};

constexpr std::array<std::pair<referral_status, std::string_view>, 8> referral_names{{
    {referral_status::new_, "new"},
    {referral_status::accepted, "accepted"},
    {referral_status::in_progress, "in_progress"},
    {referral_status::declined, "declined"},
    {referral_status::closed, "closed"},
    {referral_status::revoked, "revoked"},
    {referral_status::overdue, "overdue"},
    {referral_status::escalated, "escalated"},
}};

constexpr std::array<std::pair<session_status, std::string_view>, 5> session_names{{
    {session_status::active, "active"},
    {session_status::finished, "finished"},
    {session_status::abandoned, "abandoned"},
    {session_status::resumed, "resumed"},
    {session_status::closed, "closed"},
}};

constexpr std::array<std::pair<message_status, std::string_view>, 6> message_names{{
    {message_status::queued, "queued"},
    {message_status::sending, "sending"},
    {message_status::sent, "sent"},
    {message_status::delivered, "delivered"},
    {message_status::failed, "failed"},
    {message_status::dead, "dead"},
}};

template <class Table, class E>
std::string_view name_in(const Table& table, E value) {
    for (const auto& [v, n] : table)
        if (v == value) return n;
    return "?";
}

template <class E, class Table>
std::optional<E> named_in(const Table& table, std::string_view name) {
    for (const auto& [v, n] : table)
        if (n == name) return v;
    return std::nullopt;
}

}  // namespace

std::string_view name(case_status s) {
    return name_in(case_names, s);
}
std::string_view name(referral_status s) {
    return name_in(referral_names, s);
}
std::string_view name(session_status s) {
    return name_in(session_names, s);
}
std::string_view name(message_status s) {
    return name_in(message_names, s);
}

std::optional<case_status> case_status_named(std::string_view name) {
    return named_in<case_status>(case_names, name);
}

std::optional<referral_status> referral_status_named(std::string_view name) {
    return named_in<referral_status>(referral_names, name);
}

std::optional<session_status> session_status_named(std::string_view name) {
    return named_in<session_status>(session_names, name);
}

std::optional<message_status> message_status_named(std::string_view name) {
    return named_in<message_status>(message_names, name);
}

}  // namespace gw::domain

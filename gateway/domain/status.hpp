#pragma once
// Where a case is with the hotline, a referral with its partner, a menu
// session with her and a message in the outbox: enums inside the gateway,
// their names only where they leave it (the store's columns, JSON, CSV,
// the audit trail, logs).
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace gw::domain {

enum class case_status {
    new_,       // "new": stored; routed, or waiting to be
    escalated,  // urgent: the operators' from the start (a case no partner
                // takes stays new, its referral escalated, needs_hotline set)
    claimed,    // an operator has it
    closed,
};

enum class referral_status {
    new_,  // "new": the partner has not answered yet
    accepted,
    in_progress,
    declined,
    closed,
    revoked,    // withdrawn by the hotline
    overdue,    // not acknowledged in time; routed on
    escalated,  // no partner: the operators'
};

enum class session_status {
    active,     // her dialogue goes on
    finished,   // ended on an END, which a retry of its last hop gets again
    abandoned,  // she hung up or went idle: offered for resuming for a while
    resumed,    // she chose to continue it in a new dialogue
    closed,     // she chose to start again instead of continuing it
};

// An outgoing message in the outbox; sent, delivered and failed are also
// what an aggregator's delivery report says.
enum class message_status {
    queued,     // waiting for its lane (again, after a failed attempt)
    sending,    // claimed by its lane; back to queued if the process dies
    sent,       // the aggregator took it; no final report yet
    delivered,  // a report says it reached the phone
    failed,     // a report says it did not
    dead,       // refused for good or out of attempts: for the operators
};

// A report that settles a message: delivered or failed.
constexpr bool is_final_report(message_status s) {
    return s == message_status::delivered || s == message_status::failed;
}

std::string_view name(case_status s);
std::string_view name(referral_status s);
std::string_view name(session_status s);
std::string_view name(message_status s);
// nullopt for a name that is none of them.
std::optional<case_status> case_status_named(std::string_view name);
std::optional<referral_status> referral_status_named(std::string_view name);
std::optional<session_status> session_status_named(std::string_view name);
std::optional<message_status> message_status_named(std::string_view name);

// new, accepted, in_progress: the partner still owes an answer or an
// outcome, and the referral counts against its capacity.
constexpr bool is_open(referral_status s) {
    return s == referral_status::new_ || s == referral_status::accepted ||
           s == referral_status::in_progress;
}

// For messages (and gtest's): the name.
inline std::ostream& operator<<(std::ostream& out, case_status s) {
    return out << name(s);
}
inline std::ostream& operator<<(std::ostream& out, referral_status s) {
    return out << name(s);
}
inline std::ostream& operator<<(std::ostream& out, session_status s) {
    return out << name(s);
}
inline std::ostream& operator<<(std::ostream& out, message_status s) {
    return out << name(s);
}

}  // namespace gw::domain

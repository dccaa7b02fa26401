#pragma once
// The case an action screen asks for, from the answers a session collected
// (topic, oblast, target group, consent, ...), and how a new case is
// stored. Shared by USSD and SMS.
#include <functional>
#include <string>

#include "menu/engine.hpp"
#include "store/store.hpp"

namespace gw::service {

store::new_case case_from_session(const menu::action_request& action,
                                  const menu::session_state& state, const std::string& channel,
                                  const std::string& origin_key, const std::string& phone,
                                  const std::string& default_language);

// Stores a new case durably under a fresh reference code (R- and seven
// digits, what she quotes), drawing again if the code is taken, with its
// first status: urgent cases are escalated and in the operators' hands
// from the start, others are new. A retry of the same origin_key returns
// the case stored first. Throws store::store_error.
store::case_record store_case(store::case_store& cases, store::new_case c, long long now);

// The same, with what `plan` makes for the case about to be stored (its
// first referral, her session after it) written in the case's own
// transaction. Asked again for each code drawn: both quote it. A retry
// writes nothing, the plan included (written_now is false).
using case_plan = std::function<store::written_with_case(const store::case_record& about_to_be)>;
store::created_case store_case(store::case_store& cases, store::new_case c, long long now,
                               const case_plan& plan);

// Her session's state once her case is stored under `reference`.
using session_after_case = std::function<store::session_record(const std::string& reference)>;

// How a service stores the cases it makes, with her session after it:
// store_cases_alone by default; the gateway routes them in the same write
// (referral_service::store_new_case).
using case_writer = std::function<store::created_case(const store::new_case& c, long long now,
                                                      const session_after_case& session)>;

// store_case with her session (if any) and no referral in the case's write.
case_writer store_cases_alone(store::case_store& cases);

}  // namespace gw::service

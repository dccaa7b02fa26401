#pragma once
// The case an action screen asks for, from the answers a session collected
// (topic, oblast, target group, consent, ...), and how a new case is
// stored. Shared by USSD and SMS.
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

}  // namespace gw::service

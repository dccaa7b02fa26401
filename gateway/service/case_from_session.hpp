#pragma once
// The case an action screen asks for, from the answers a session collected
// (topic, oblast, target group, consent, ...). Shared by USSD and SMS.
#include <string>

#include "menu/engine.hpp"
#include "store/store.hpp"

namespace gw::service {

store::new_case case_from_session(const menu::action_request& action,
                                  const menu::session_state& state, const std::string& channel,
                                  const std::string& origin_key, const std::string& phone,
                                  const std::string& default_language);

}  // namespace gw::service

#pragma once
// Menu actions other than making a case, the same for USSD and SMS:
// "check my request" (her code's status, only for the number that made
// it) and "SMS me this" (the text of the info screen she read, through
// the outbox, STOP respected). Each answers with the ui text that fills
// {status} on the screen that follows.
#include <functional>
#include <string>

#include "menu/engine.hpp"
#include "store/store.hpp"

namespace gw::service {

// A code as she may type it ("R-0012345", "r0012345", "12345", " 12345 ")
// as the reference it stands for; "" when it cannot be one.
std::string normalize_reference(const std::string& typed);

// The ui key for the status of the case behind `typed`, or
// "lookup_not_found" when there is none or it was made from another number
// (the same answer: a code alone reveals nothing).
std::string lookup_status_key(store::store& store, const std::string& typed,
                              const std::string& phone);

struct info_sms_settings {
    std::string channel;           // SMS channel to send by; "" = none configured
    std::size_t max_segments = 3;  // longer texts are cut at a word
};

// Queues the text of `action.info_screen` to `phone`; the ui key to show:
// "sms_queued", or "sms_not_sent" (no channel, no info screen, STOP).
// `queued` is called after a message was queued (wakes the outbox).
std::string send_info_sms(store::store& store, const menu::engine& engine,
                          const menu::session_state& state, const menu::action_request& action,
                          const std::string& phone, const info_sms_settings& settings,
                          long long now, const std::function<void()>& queued);

// Runs a lookup_case or send_info_sms action and moves the session on;
// nullopt for action kinds that make a case (the caller does those).
std::optional<menu::reply> run_status_action(store::store& store, const menu::engine& engine,
                                             menu::session_state& state,
                                             const menu::action_request& action,
                                             const std::string& phone, const info_sms_settings& sms,
                                             long long now, const std::function<void()>& queued);

}  // namespace gw::service

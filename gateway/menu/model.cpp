#include "menu/model.hpp"

#include "menu/diagnostic.hpp"

namespace gw::menu {

const std::string& menu::ui_text(const std::string& key, const std::string& lang) const {
    static const std::string empty;
    auto it = ui.find(key);
    if (it == ui.end()) return empty;
    if (auto t = it->second.find(lang); t != it->second.end()) return t->second;
    if (auto t = it->second.find(default_language); t != it->second.end()) return t->second;
    return empty;
}

std::string menu::label(const std::string& var, const std::string& value,
                        const std::string& lang) const {
    auto v = labels.find(var);
    if (v == labels.end()) return value;
    auto l = v->second.find(value);
    if (l == v->second.end()) return value;
    if (auto t = l->second.find(lang); t != l->second.end()) return t->second;
    if (auto t = l->second.find(default_language); t != l->second.end()) return t->second;
    return value;
}

const std::vector<std::string>& required_ui_keys() {
    static const std::vector<std::string> keys = {"invalid_option",
                                                  "empty_input",
                                                  "more",
                                                  "back",
                                                  "home",
                                                  "resume_prompt",
                                                  "resume_continue",
                                                  "resume_restart",
                                                  "store_error",
                                                  "bad_number",
                                                  "session_expired",
                                                  "goodbye",
                                                  "referral_accepted_sms"};
    return keys;
}

const std::vector<std::string>& action_kinds() {
    // create_case: a referral case; escalate: an urgent case for the
    // operators; lookup_case: her code's status into {status};
    // send_info_sms: the info text she came from, by SMS, {status} says how.
    static const std::vector<std::string> kinds = {"create_case", "escalate", "lookup_case",
                                                   "send_info_sms"};
    return kinds;
}

// UI keys a menu needs when it uses an action kind.
const std::vector<std::string>& ui_keys_for_action(const std::string& kind) {
    static const std::vector<std::string> none;
    static const std::vector<std::string> lookup = {"lookup_registered", "lookup_with_partner",
                                                    "lookup_accepted", "lookup_closed",
                                                    "lookup_not_found"};
    static const std::vector<std::string> sms = {"sms_queued", "sms_not_sent"};
    if (kind == "lookup_case") return lookup;
    if (kind == "send_info_sms") return sms;
    return none;
}

const char* to_string(screen_kind k) {
    switch (k) {
        case screen_kind::language:
            return "language";
        case screen_kind::choice:
            return "choice";
        case screen_kind::info:
            return "info";
        case screen_kind::input:
            return "input";
        case screen_kind::action:
            return "action";
        case screen_kind::end:
            return "end";
    }
    return "?";
}

}  // namespace gw::menu

#pragma once
// The menu as programme staff write it in menus/*.yaml: screens keyed by
// id, every text given per language. Loaded by load_menu(), validated by
// check_menu(), laid out into phone screens by laid_out_menu.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/diagnostic.hpp"

namespace gw::menu {

// Language code -> text.
using localized = std::map<std::string, std::string>;

using gw::source_location;  // common/diagnostic.hpp

enum class screen_kind { language, choice, info, input, action, end };

struct option {
    localized label;
    std::string next;
    std::vector<std::pair<std::string, std::string>> set;  // session variables
    source_location where;
};

struct screen {
    std::string id;
    screen_kind kind = screen_kind::info;
    localized text;
    std::vector<option> options;  // choice screens
    std::string next;             // language, input and action screens
    std::string var;              // input screens: variable to fill
    std::size_t min_length = 1;   // input screens, in characters
    std::size_t max_length = 160;
    localized error;     // input screens: error line for a rejected answer
    std::string action;  // action screens: one of action_kinds()
    // Urgent, violence, trafficking: never offered for resuming, never named in an SMS.
    bool sensitive = false;
    source_location where;
};

// What an action screen may ask the service to do.
const std::vector<std::string>& action_kinds();
// UI keys a menu must define when one of its screens uses that action.
const std::vector<std::string>& ui_keys_for_action(const std::string& kind);

struct language {
    std::string code;
    std::string name;  // shown on the language screen, in that language
};

struct menu {
    std::vector<language> languages;
    std::string default_language;
    std::string start;     // first screen for a number never seen before
    std::string home;      // where "00" leads and where a known number starts
    std::string sms_home;  // SMS sessions start here (empty: `home`)
    // Most pages a screen may take on a USSD phone, by screen type
    // ("choice", "info", ...): `check` reports screens over it as errors.
    std::map<std::string, std::size_t> page_limits;
    std::map<std::string, localized> ui;
    // Readable words for the values options set (variable -> value -> text
    // per language), for partners' SMS and the console: `check` wants one
    // for every value of topic, subtopic, oblast, target_group, contact and
    // call_time.
    std::map<std::string, std::map<std::string, localized>> labels;
    source_location labels_where;
    std::map<std::string, source_location> ui_where;
    std::map<std::string, screen> screens;
    source_location meta_where;

    const screen* find(const std::string& id) const {
        auto it = screens.find(id);
        return it == screens.end() ? nullptr : &it->second;
    }
    bool has_language(const std::string& code) const {
        for (const auto& l : languages)
            if (l.code == code) return true;
        return false;
    }
    // UI string in a language, falling back to the default language.
    const std::string& ui_text(const std::string& key, const std::string& lang) const;
    // The readable label of a value (falls back to the value itself).
    std::string label(const std::string& var, const std::string& value,
                      const std::string& lang) const;
};

// UI keys every menu must define (see menus/README.md).
const std::vector<std::string>& required_ui_keys();

const char* to_string(screen_kind k);

}  // namespace gw::menu

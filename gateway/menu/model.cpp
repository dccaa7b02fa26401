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

const std::vector<std::string>& required_ui_keys() {
    static const std::vector<std::string> keys = {
        "invalid_option", "empty_input",     "more",           "back",
        "home",           "resume_prompt",   "resume_continue", "resume_restart",
        "store_error",    "bad_number",      "session_expired", "goodbye",
        "referral_accepted_sms"};
    return keys;
}

const char* to_string(screen_kind k) {
    switch (k) {
        case screen_kind::language: return "language";
        case screen_kind::choice: return "choice";
        case screen_kind::info: return "info";
        case screen_kind::input: return "input";
        case screen_kind::action: return "action";
        case screen_kind::end: return "end";
    }
    return "?";
}

std::string format(const diagnostic& d) {
    std::string out = d.where.file;
    if (d.where.line > 0) out += ":" + std::to_string(d.where.line);
    out += d.warning ? ": warning: " : ": error: ";
    out += d.message;
    return out;
}

bool has_errors(const std::vector<diagnostic>& ds) {
    for (const auto& d : ds)
        if (!d.warning) return true;
    return false;
}

}  // namespace gw::menu

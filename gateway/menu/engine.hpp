#pragma once
// The menu engine: pure state transitions over a laid-out menu. It knows
// nothing of HTTP, aggregators or storage: the caller owns the session
// state, performs the actions the engine asks for (create a case,
// escalate) and hands their outcome back.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "menu/layout.hpp"

namespace gw::menu {

struct session_state {
    std::string language;  // empty until chosen (or remembered)
    std::string screen;
    int page = 0;
    std::vector<std::pair<std::string, int>> history;  // (screen, page) for "back"
    std::vector<std::string> trail;  // every screen shown, in order (not undone by "back")
    std::map<std::string, std::string> vars;
    bool finished = false;
};

// Screens kept in session_state::trail at most.
inline constexpr std::size_t max_trail = 60;

struct reply {
    std::string text;
    bool end = false;
};

// An action screen was reached: the caller must perform it and call
// engine::complete_action (or fail_action).
struct action_request {
    std::string kind;       // one of action_kinds()
    std::string screen_id;  // the action screen
    std::map<std::string, std::string> vars;
    std::string info_screen;  // the nearest info screen she came through ("" if none)
};

struct step {
    reply out;
    std::optional<action_request> action;
};

class engine {
  public:
    // `sms`: sessions start (and "00" leads) at the menu's sms_home when it has one.
    explicit engine(std::shared_ptr<const laid_out_menu> layout, bool sms = false);

    const laid_out_menu& layout() const { return *layout_; }

    // A new session: language screen, or home in a remembered language.
    step start(session_state& s, const std::string& known_language) const;
    // One input from the phone (already separated from earlier inputs).
    step input(session_state& s, std::string_view text) const;
    // The action succeeded; `ref` is quoted on the following screen.
    reply complete_action(session_state& s, const std::string& ref) const;
    // The action found something out: `status` fills {status} on the next screen.
    reply complete_action_with_status(session_state& s, const std::string& status) const;
    // A screen's own text in the session's language (e.g. to send it by SMS).
    std::string text_of(const session_state& s, const std::string& screen_id) const;
    // The action could not be stored: polite END, nothing promised.
    reply fail_action(session_state& s) const;
    // The current page again (e.g. after resuming a session).
    reply render(const session_state& s) const;
    // The current page again under the error line of a UI key
    // (e.g. "invalid_option" for input the caller refuses itself).
    reply reject(const session_state& s, const std::string& ui_key) const;
    // A UI string in the session's language.
    const std::string& ui(const session_state& s, const std::string& key) const;

  private:
    step go_to(session_state& s, const std::string& screen_id, bool remember) const;
    step choose(session_state& s, const screen& sc, int option) const;
    reply render_with_error(const session_state& s, const std::string& error) const;
    const laid_out_screen* current(const session_state& s) const;
    std::string lang_of(const session_state& s) const;

    const std::string& home() const;

    std::shared_ptr<const laid_out_menu> layout_;
    bool sms_ = false;
};

}  // namespace gw::menu

#include "menu/engine.hpp"

#include "common/text.hpp"

namespace gw::menu {
namespace {

// Fills {ref} and {status} from the session's variables of those names.
std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
    for (const auto& [ph, var] : {std::pair{std::string(ref_placeholder), "ref"},
                                  std::pair{std::string(status_placeholder), "status"}}) {
        auto it = vars.find(var);
        if (it == vars.end()) continue;
        for (auto pos = text.find(ph); pos != std::string::npos; pos = text.find(ph, pos)) {
            text.replace(pos, ph.size(), it->second);
            pos += it->second.size();
        }
    }
    return text;
}

// The text cut at a word boundary to at most `keep` words, marked as cut.
std::string first_words(const std::string& text, std::size_t keep) {
    std::size_t pos = 0, words = 0;
    while (words < keep) {
        std::size_t next = text.find_first_of(" \n", pos);
        if (next == std::string::npos) return text;
        pos = next + 1;
        ++words;
    }
    return text.substr(0, pos == 0 ? 0 : pos - 1) + "…";
}

}  // namespace

engine::engine(std::shared_ptr<const laid_out_menu> layout, bool sms)
    : layout_(std::move(layout)), sms_(sms) {}

const std::string& engine::home() const {
    const menu& m = layout_->source();
    return sms_ && !m.sms_home.empty() ? m.sms_home : m.home;
}

std::string engine::lang_of(const session_state& s) const {
    return s.language.empty() ? layout_->source().default_language : s.language;
}

const std::string& engine::ui(const session_state& s, const std::string& key) const {
    return layout_->source().ui_text(key, lang_of(s));
}

const laid_out_screen* engine::current(const session_state& s) const {
    return layout_->find(s.screen, lang_of(s));
}

reply engine::render(const session_state& s) const {
    const laid_out_screen* ls = current(s);
    if (!ls || ls->pages.empty()) return {ui(s, "store_error"), true};
    const page& p = ls->pages[std::min<std::size_t>(s.page, ls->pages.size() - 1)];
    const screen* sc = layout_->source().find(s.screen);
    bool end = p.last && sc && sc->kind == screen_kind::end;
    return {substitute(p.body, s.vars), end};
}

reply engine::render_with_error(const session_state& s, const std::string& error) const {
    const laid_out_screen* ls = current(s);
    if (!ls || ls->pages.empty()) return {ui(s, "store_error"), true};
    const page& p = ls->pages[std::min<std::size_t>(s.page, ls->pages.size() - 1)];
    auto with_error = [&](const std::string& under) {
        return under.empty() ? error : error + "\n" + under;
    };
    // Most to least: error over the whole page; over the page's text cut
    // short (she keeps reading what she was reading) and its choices;
    // over the choices and navigation; over its options alone.
    if (std::string full = with_error(substitute(p.body, s.vars)); layout_->fits(full))
        return {full, false};
    const std::string text = substitute(p.text, s.vars);
    std::size_t words = 1;
    for (std::size_t i = 0; i < text.size(); ++i) words += text[i] == ' ' || text[i] == '\n';
    for (std::size_t keep = words; keep-- > 1 && !text.empty();) {
        std::string shortened = first_words(text, keep);
        std::string full = with_error(p.choices.empty() ? shortened : shortened + "\n" + p.choices);
        if (layout_->fits(full)) return {full, false};
    }
    for (const std::string& under : {p.choices, p.options}) {
        std::string full = with_error(under);
        if (layout_->fits(full)) return {full, false};
    }
    return {error, false};
}

reply engine::reject(const session_state& s, const std::string& ui_key) const {
    return render_with_error(s, ui(s, ui_key));
}

step engine::start(session_state& s, const std::string& known_language) const {
    const menu& m = layout_->source();
    s = session_state{};
    if (!known_language.empty() && m.has_language(known_language)) {
        s.language = known_language;
        return go_to(s, home(), false);
    }
    return go_to(s, m.start, false);
}

step engine::go_to(session_state& s, const std::string& screen_id, bool remember) const {
    const screen* target = layout_->source().find(screen_id);
    if (!target) return {{ui(s, "store_error"), true}, std::nullopt};
    if (remember && !s.screen.empty()) s.history.emplace_back(s.screen, s.page);
    s.screen = screen_id;
    s.page = 0;
    // For the operators' transcript; bounded so a looping caller cannot grow the state.
    if (s.trail.size() < max_trail) s.trail.push_back(screen_id);
    if (target->kind == screen_kind::action) {
        action_request a{target->action, target->id, s.vars, {}};
        for (auto it = s.history.rbegin(); it != s.history.rend(); ++it)
            if (const screen* h = layout_->source().find(it->first);
                h && h->kind == screen_kind::info) {
                a.info_screen = h->id;
                break;
            }
        return {{}, std::move(a)};
    }
    reply r = render(s);
    if (r.end) s.finished = true;
    return {r, std::nullopt};
}

step engine::input(session_state& s, std::string_view raw) const {
    const menu& m = layout_->source();
    const screen* sc = m.find(s.screen);
    const laid_out_screen* ls = current(s);
    if (!sc || !ls || s.finished) return {{ui(s, "store_error"), true}, std::nullopt};
    const page& p = ls->pages[std::min<std::size_t>(s.page, ls->pages.size() - 1)];
    std::string_view in = trim(raw);

    if (auto it = p.inputs.find(std::string(in)); it != p.inputs.end()) {
        switch (it->second.kind) {
            case page_input::more:
                ++s.page;
                return {render(s), std::nullopt};
            case page_input::back:
                if (s.page > 0) {
                    --s.page;
                } else if (!s.history.empty()) {
                    std::tie(s.screen, s.page) = s.history.back();
                    s.history.pop_back();
                }
                return {render(s), std::nullopt};
            case page_input::home:
                s.history.clear();
                s.screen = home();
                s.page = 0;
                return {render(s), std::nullopt};
            case page_input::choose:
                return choose(s, *sc, it->second.option);
        }
    }
    // Options are numbered across pages: one shown on another page still counts.
    if (sc->kind == screen_kind::choice || sc->kind == screen_kind::language ||
        (sc->kind == screen_kind::info && !sc->options.empty())) {
        std::size_t count =
            sc->kind == screen_kind::language ? m.languages.size() : sc->options.size();
        if (!in.empty() && in.size() <= 3 && in[0] != '0' &&
            in.find_first_not_of("0123456789") == std::string_view::npos) {
            std::size_t n = std::stoul(std::string(in));
            if (n >= 1 && n <= count) return choose(s, *sc, static_cast<int>(n - 1));
        }
    }
    if (sc->kind == screen_kind::input) {
        std::size_t n = count_code_points(in);
        if (!in.empty() && is_valid_utf8(in) && n >= sc->min_length && n <= sc->max_length) {
            s.vars[sc->var] = std::string(in);
            return go_to(s, sc->next, true);
        }
        auto e = sc->error.find(lang_of(s));
        return {render_with_error(s, e != sc->error.end() ? e->second : ui(s, "invalid_option")),
                std::nullopt};
    }
    return {render_with_error(s, ui(s, in.empty() ? "empty_input" : "invalid_option")),
            std::nullopt};
}

step engine::choose(session_state& s, const screen& sc, int option) const {
    if (sc.kind == screen_kind::language) {
        s.language = layout_->source().languages.at(option).code;
        // In SMS the language screen leads to the SMS menu, not the USSD one.
        return go_to(s, sc.next == layout_->source().home ? home() : sc.next, false);
    }
    const gw::menu::option& o = sc.options.at(option);
    for (const auto& [k, v] : o.set) s.vars[k] = v;
    return go_to(s, o.next, true);
}

reply engine::complete_action(session_state& s, const std::string& ref) const {
    const screen* sc = layout_->source().find(s.screen);
    if (!sc || sc->kind != screen_kind::action) return {ui(s, "store_error"), true};
    s.vars["ref"] = ref;
    s.history.clear();  // "back" must never lead into the action again
    step next = go_to(s, sc->next, false);
    if (next.action) {  // actions never chain; the checker reports it
        s.finished = true;
        return {ui(s, "store_error"), true};
    }
    return next.out;
}

reply engine::complete_action_with_status(session_state& s, const std::string& status) const {
    const screen* sc = layout_->source().find(s.screen);
    if (!sc || sc->kind != screen_kind::action) return {ui(s, "store_error"), true};
    s.vars["status"] = status;
    step next = go_to(s, sc->next, false);
    if (next.action) {
        s.finished = true;
        return {ui(s, "store_error"), true};
    }
    return next.out;
}

std::string engine::text_of(const session_state& s, const std::string& screen_id) const {
    const screen* sc = layout_->source().find(screen_id);
    if (!sc) return {};
    if (auto it = sc->text.find(lang_of(s)); it != sc->text.end()) return it->second;
    auto it = sc->text.find(layout_->source().default_language);
    return it == sc->text.end() ? std::string() : it->second;
}

reply engine::fail_action(session_state& s) const {
    s.finished = true;
    return {ui(s, "store_error"), true};
}

}  // namespace gw::menu

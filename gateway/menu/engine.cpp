#include "menu/engine.hpp"

#include "common/text.hpp"

namespace gw::menu {
namespace {

std::string substitute(std::string text, const std::map<std::string, std::string>& vars) {
    auto it = vars.find("ref");
    if (it == vars.end()) return text;
    const std::string ph = ref_placeholder;
    for (auto pos = text.find(ph); pos != std::string::npos; pos = text.find(ph, pos)) {
        text.replace(pos, ph.size(), it->second);
        pos += it->second.size();
    }
    return text;
}

}  // namespace

engine::engine(std::shared_ptr<const laid_out_menu> layout) : layout_(std::move(layout)) {}

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
    // Most to least: error over the whole page, over its choices and
    // navigation, over its options alone (navigation keys still work).
    for (const std::string& under : {substitute(p.body, s.vars), p.choices, p.options}) {
        std::string full = under.empty() ? error : error + "\n" + under;
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
        return go_to(s, m.home, false);
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
    if (target->kind == screen_kind::action)
        return {{}, action_request{target->action, target->id, s.vars}};
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
                s.screen = m.home;
                s.page = 0;
                return {render(s), std::nullopt};
            case page_input::choose:
                return choose(s, *sc, it->second.option);
        }
    }
    // Options are numbered across pages: one shown on another page still counts.
    if (sc->kind == screen_kind::choice || sc->kind == screen_kind::language) {
        std::size_t count =
            sc->kind == screen_kind::choice ? sc->options.size() : m.languages.size();
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
        return go_to(s, sc.next, false);
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

reply engine::fail_action(session_state& s) const {
    s.finished = true;
    return {ui(s, "store_error"), true};
}

}  // namespace gw::menu

#include "menu/check.hpp"

#include <deque>
#include <set>

#include "common/text.hpp"

namespace gw::menu {
namespace {

class checker {
  public:
    checker(const menu& m, std::vector<diagnostic>& out) : m_(m), out_(out) {}

    void error(const source_location& at, std::string msg) { out_.push_back({at, std::move(msg)}); }
    void warn(const source_location& at, std::string msg) {
        out_.push_back({at, std::move(msg), true});
    }

    void translations(const localized& texts, const source_location& at, const std::string& what) {
        for (const auto& l : m_.languages) {
            auto it = texts.find(l.code);
            if (it == texts.end() || it->second.empty())
                error(at, what + ": missing '" + l.code + "' translation");
        }
        for (const auto& [code, _] : texts)
            if (!m_.has_language(code))
                warn(at, what + ": text for unknown language '" + code + "'");
    }

    void reference(const std::string& id, const source_location& at, const std::string& what) {
        if (id.empty()) return;  // reported by the loader
        if (!m_.find(id)) error(at, what + " refers to unknown screen '" + id + "'");
    }

    void run() {
        const source_location& meta = m_.meta_where;
        if (m_.languages.empty()) error(meta, "no languages defined");
        if (!m_.has_language(m_.default_language))
            error(meta, "default_language '" + m_.default_language + "' is not in languages");
        reference(m_.start, meta, "start");
        reference(m_.home, meta, "home");
        reference(m_.sms_home, meta, "sms_home");
        std::set<std::string> actions_used;
        for (const auto& [id, s] : m_.screens)
            if (s.kind == screen_kind::action) actions_used.insert(s.action);
        for (const auto& action : actions_used)
            for (const auto& key : ui_keys_for_action(action)) {
                auto it = m_.ui.find(key);
                if (it == m_.ui.end())
                    error(meta, "ui." + key + " is missing (the " + action + " action needs it)");
                else
                    translations(it->second, m_.ui_where.at(key), "ui." + key);
            }
        for (const auto& key : required_ui_keys()) {
            auto it = m_.ui.find(key);
            if (it == m_.ui.end())
                error(meta, "ui." + key + " is missing");
            else
                translations(it->second, m_.ui_where.at(key), "ui." + key);
        }
        for (const auto& [id, s] : m_.screens) screen_checks(s);
        reachability();
        label_checks();
    }

  private:
    void screen_checks(const screen& s) {
        const std::string name = "screen '" + s.id + "'";
        if (s.kind != screen_kind::action) translations(s.text, s.where, name + " text");
        if (s.kind == screen_kind::input && !s.error.empty())
            translations(s.error, s.where, name + " error");
        if (s.kind == screen_kind::input && s.min_length > s.max_length)
            error(s.where, name + ": min_length is greater than max_length");
        for (std::size_t i = 0; i < s.options.size(); ++i) {
            const option& o = s.options[i];
            const std::string oname = name + " option " + std::to_string(i + 1);
            translations(o.label, o.where, oname + " label");
            reference(o.next, o.where, oname);
        }
        reference(s.next, s.where, name + " next");
        if (s.kind == screen_kind::action) {
            const screen* next = m_.find(s.next);
            if (next && next->kind != screen_kind::end)
                error(s.where, name + ": an action must lead to an end screen");
        }
        if ((s.kind == screen_kind::info || s.kind == screen_kind::end) && !s.next.empty())
            warn(s.where, name + ": `next` is ignored on " + to_string(s.kind) + " screens");
        if (s.kind != screen_kind::end && s.kind != screen_kind::action) {
            for (const auto& [lang, text] : s.text)
                if (text.find(ref_placeholder) != std::string::npos)
                    warn(s.where, name + ": {ref} is only filled on end screens after an action");
        }
    }

    // A value partners and operators read must have words in every language.
    void label_checks() {
        if (m_.labels.empty()) return;  // a menu without a labels section shows raw values
        for (const auto& [id, s] : m_.screens)
            for (const auto& o : s.options)
                for (const auto& [var, value] : o.set) {
                    static const std::set<std::string> read_by_people = {
                        "topic", "subtopic", "oblast", "target_group", "contact", "call_time"};
                    if (!read_by_people.count(var)) continue;
                    auto v = m_.labels.find(var);
                    if (v == m_.labels.end() || !v->second.count(value)) {
                        if (reported_.insert(var + "." + value).second)
                            error(o.where, "labels." + var + "." + value +
                                               " is missing (partners and operators read it)");
                        continue;
                    }
                    if (reported_.insert(var + "." + value).second)
                        translations(v->second.at(value), m_.labels_where,
                                     "labels." + var + "." + value);
                }
    }

    void reachability() {
        std::set<std::string> seen;
        std::deque<std::string> todo{m_.start, m_.home, m_.sms_home};
        while (!todo.empty()) {
            std::string id = todo.front();
            todo.pop_front();
            const screen* s = m_.find(id);
            if (!s || !seen.insert(id).second) continue;
            if (!s->next.empty()) todo.push_back(s->next);
            for (const auto& o : s->options) todo.push_back(o.next);
        }
        for (const auto& [id, s] : m_.screens)
            if (!seen.count(id)) error(s.where, "screen '" + id + "' is unreachable");
    }

    const menu& m_;
    std::vector<diagnostic>& out_;
    std::set<std::string> reported_;
};

}  // namespace

namespace {

// Engine strings the USSD service shows alone as a whole END screen, not
// laid out into pages: a network cuts what does not fit one screen.
void whole_screen_texts(const menu& m, const laid_out_menu& ussd, std::vector<diagnostic>& out) {
    auto where = [&](const std::string& key) {
        auto it = m.ui_where.find(key);
        return it == m.ui_where.end() ? m.meta_where : it->second;
    };
    auto limit = " (limit " + std::to_string(ussd.profile().limit_ucs2) + " UCS-2 / " +
                 std::to_string(ussd.profile().limit_gsm7) + " GSM-7)";
    // Her number could not be read, so her language is unknown: every
    // language on the same screen, in the menu's order.
    if (m.ui.count("bad_number")) {
        std::string joined;
        for (const auto& l : m.languages) {
            if (!joined.empty()) joined += '\n';
            joined += m.ui_text("bad_number", l.code);
        }
        if (!ussd.fits(joined))
            out.push_back({where("bad_number"), "ui.bad_number: all languages together are " +
                                                    std::to_string(measure_text(joined).units) +
                                                    " characters, over one USSD screen" + limit});
    }
    for (const char* key : {"store_error", "session_expired"}) {
        if (!m.ui.count(key)) continue;
        for (const auto& l : m.languages) {
            const std::string& text = m.ui_text(key, l.code);
            if (!ussd.fits(text))
                out.push_back({where(key), "ui." + std::string(key) + " '" + l.code + "' is " +
                                               std::to_string(measure_text(text).units) +
                                               " characters, over one USSD screen" + limit});
        }
    }
}

}  // namespace

std::vector<diagnostic> check_menu(const menu& m,
                                   const std::vector<const laid_out_menu*>& layouts) {
    std::vector<diagnostic> out;
    checker(m, out).run();
    for (const auto* l : layouts) {
        out.insert(out.end(), l->diagnostics().begin(), l->diagnostics().end());
        if (l->profile().name == "ussd") whole_screen_texts(m, *l, out);
        if (l->profile().name != "ussd" || m.page_limits.empty()) continue;
        // What she pages through on a USSD phone: at most page_limits pages.
        for (const auto& [id, s] : m.screens) {
            auto limit = m.page_limits.find(to_string(s.kind));
            if (limit == m.page_limits.end()) continue;
            for (const auto& lang : m.languages) {
                const laid_out_screen* ls = l->find(id, lang.code);
                if (ls && ls->pages.size() > limit->second)
                    out.push_back({s.where, "screen '" + id + "' (" + lang.code +
                                                "): " + std::to_string(ls->pages.size()) +
                                                " pages on a USSD phone, at most " +
                                                std::to_string(limit->second) + " for " +
                                                to_string(s.kind) + " screens (page_limits)"});
            }
        }
    }
    return out;
}

}  // namespace gw::menu

// The content in menus/ must pass every check, and walking every path
// through it must never show a screen over the limit.
#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "app/gateway.hpp"
#include "common/text.hpp"
#include "support/temp_dir.hpp"

using namespace gw;

namespace {
app::config shipped_config() {
    auto c = app::load_config(test::source_path("config/gateway.yaml"));
    return c.value;
}
}  // namespace

TEST(ShippedMenus, PassCheck) {
    auto bundle = app::load_menus(shipped_config());
    for (const auto& d : bundle.diagnostics) ADD_FAILURE() << menu::format(d);
    const auto& m = *bundle.source;
    ASSERT_TRUE(m.has_language("ky"));
    ASSERT_TRUE(m.has_language("ru"));
    for (const char* topic : {"rights", "legal_aid", "employment", "migration", "urgent"}) {
        bool set_somewhere = false;
        for (const auto& [id, s] : m.screens)
            for (const auto& o : s.options)
                for (const auto& [k, v] : o.set) set_somewhere |= (k == "topic" && v == topic);
        EXPECT_TRUE(set_somewhere) << "no menu path sets topic " << topic;
    }
    bool has_create = false, has_escalate = false;
    for (const auto& [id, s] : m.screens) {
        has_create |= s.action == "create_case";
        has_escalate |= s.action == "escalate";
    }
    EXPECT_TRUE(has_create);
    EXPECT_TRUE(has_escalate);
}

TEST(ShippedMenus, EveryReachableScreenFitsEveryLanguage) {
    auto bundle = app::load_menus(shipped_config());
    const menu::engine& eng = *bundle.ussd_engine;
    const auto& m = *bundle.source;
    // Breadth-first over (language, screen, page) following every input.
    std::set<std::string> seen;
    std::size_t screens_shown = 0;
    for (const auto& lang : m.languages) {
        std::deque<menu::session_state> todo;
        menu::session_state s;
        eng.start(s, lang.code);
        todo.push_back(s);
        while (!todo.empty()) {
            menu::session_state cur = todo.front();
            todo.pop_front();
            std::string key = lang.code + "/" + cur.screen + "/" + std::to_string(cur.page);
            if (!seen.insert(key).second) continue;
            auto shown = eng.render(cur);
            ++screens_shown;
            auto size = measure_text(shown.text);
            EXPECT_LE(size.units, size.encoding == text_encoding::gsm7 ? 182u : 80u) << key << ":\n"
                                                                                     << shown.text;
            const auto* laid = bundle.ussd_layout->find(cur.screen, cur.language);
            ASSERT_NE(laid, nullptr) << key;
            for (const auto& [input, what] : laid->pages[cur.page].inputs) {
                menu::session_state next = cur;
                auto st = eng.input(next, input);
                if (st.action) eng.complete_action(next, "R-1234567");
                if (!next.finished) next.language = lang.code;  // keep walking her language
                if (!next.finished) todo.push_back(next);
            }
        }
    }
    EXPECT_GT(screens_shown, 40u);
}

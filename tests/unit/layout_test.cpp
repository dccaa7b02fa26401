#include <gtest/gtest.h>

#include "common/text.hpp"
#include "unit/menu_fixture.hpp"

using namespace gw;
using namespace gw::menu;

namespace {

std::size_t limit_for(const std::string& text, const screen_profile& p) {
    return measure_text(text).encoding == text_encoding::gsm7 ? p.limit_gsm7 : p.limit_ucs2;
}

void expect_all_pages_fit(const laid_out_menu& layout) {
    const screen_profile& p = layout.profile();
    for (const auto& lang : layout.source().languages)
        for (const auto& [id, s] : layout.source().screens) {
            const laid_out_screen* ls = layout.find(id, lang.code);
            if (s.kind == screen_kind::action) continue;
            ASSERT_NE(ls, nullptr) << id;
            for (const auto& page : ls->pages) {
                std::string shown = page.body;
                EXPECT_LE(measure_text(shown).units, limit_for(shown, p))
                    << id << "/" << lang.code << ":\n"
                    << shown;
            }
        }
}

}  // namespace

TEST(Layout, EveryPageFitsTheDefaultLimits) {
    auto layout = test::load_layout(test::small_menu_dir());
    EXPECT_TRUE(layout->diagnostics().empty());
    expect_all_pages_fit(*layout);
}

TEST(Layout, LongOptionListsArePaginatedWithMoreAndBack) {
    screen_profile p;
    p.max_options_per_page = 5;
    auto layout = test::load_layout(test::small_menu_dir(), p);
    const laid_out_screen* main = layout->find("main", "ru");
    ASSERT_NE(main, nullptr);
    ASSERT_GE(main->pages.size(), 2u);
    const page& first = main->pages[0];
    EXPECT_TRUE(first.inputs.count("98"));
    EXPECT_FALSE(first.inputs.count("0")) << "root first page has nothing to go back to";
    EXPECT_FALSE(first.inputs.count("00"));
    EXPECT_NE(first.body.find("98 Далее"), std::string::npos);
    const page& second = main->pages[1];
    EXPECT_TRUE(second.inputs.count("0")) << "later pages go back to the previous page";
    EXPECT_TRUE(second.last);
    std::size_t options = 0;
    for (const auto& pg : main->pages) {
        std::size_t on_page = 0;
        for (const auto& [key, in] : pg.inputs)
            if (in.kind == page_input::choose) ++on_page;
        EXPECT_LE(on_page, 5u);
        options += on_page;
    }
    EXPECT_EQ(options, 7u);
}

TEST(Layout, NonRootScreensOfferBackAndHome) {
    auto layout = test::load_layout(test::small_menu_dir());
    const laid_out_screen* info = layout->find("info_short", "ky");
    ASSERT_NE(info, nullptr);
    ASSERT_EQ(info->pages.size(), 1u);
    EXPECT_TRUE(info->pages[0].inputs.count("0"));
    EXPECT_TRUE(info->pages[0].inputs.count("00"));
    EXPECT_NE(info->pages[0].body.find("0 Артка"), std::string::npos);
    EXPECT_NE(info->pages[0].body.find("00 Башкы"), std::string::npos);
}

TEST(Layout, LongTextSplitsOverPagesInUcs2ButFitsOnePageInGsm7) {
    auto layout = test::load_layout(test::small_menu_dir());
    EXPECT_GE(layout->find("info_long", "ru")->pages.size(), 3u);
    // Latin Uzbek text is GSM-7: the 182 limit applies.
    const auto* uz = layout->find("info_long", "uz");
    ASSERT_NE(uz, nullptr);
    EXPECT_LE(uz->pages.size(), 2u);
    for (const auto& p : uz->pages)
        EXPECT_EQ(measure_text(p.body).encoding, text_encoding::gsm7) << p.body;
}

TEST(Layout, TighterLimitsStillFitEveryPage) {
    screen_profile p;
    p.limit_ucs2 = 60;
    p.limit_gsm7 = 100;
    p.max_options_per_page = 3;
    auto layout = test::load_layout(test::small_menu_dir(), p);
    EXPECT_TRUE(layout->diagnostics().empty());
    expect_all_pages_fit(*layout);
}

TEST(Layout, ReportsScreensThatCannotFit) {
    screen_profile p;
    p.limit_ucs2 = 20;  // an option line plus the error line cannot fit
    p.limit_gsm7 = 20;
    auto layout = test::load_layout(test::small_menu_dir(), p);
    ASSERT_FALSE(layout->diagnostics().empty());
    EXPECT_NE(layout->diagnostics()[0].message.find("cannot fit"), std::string::npos);
    EXPECT_GT(layout->diagnostics()[0].where.line, 0);
}

TEST(Layout, EndScreensHaveNoNavigationOnTheirLastPage) {
    auto layout = test::load_layout(test::small_menu_dir());
    const auto* done = layout->find("done", "ru");
    ASSERT_NE(done, nullptr);
    EXPECT_TRUE(done->pages.back().inputs.empty());
    EXPECT_NE(done->pages.back().body.find("{ref}"), std::string::npos);
}

TEST(Layout, LastPageOfAnEndScreenOffersNoWayBack) {
    // The last page of an end screen is sent as END: the session is over,
    // so "0 back" there would be a promise the network cannot keep. (The
    // shipped end screens fit one page; a narrow profile splits one here.)
    screen_profile narrow;
    narrow.limit_ucs2 = 18;
    narrow.limit_gsm7 = 40;
    auto layout = test::load_layout(test::small_menu_dir(), narrow);
    for (const char* lang : {"ky", "ru"}) {
        const auto* info = layout->find("info_short", lang);
        ASSERT_NE(info, nullptr);
        const auto* done = layout->find("done", lang);
        ASSERT_NE(done, nullptr);
        ASSERT_GE(done->pages.size(), 2u) << "a long end screen, split over pages";
        EXPECT_EQ(done->pages.back().inputs.count("0"), 0u) << lang;
        EXPECT_EQ(done->pages.back().body.find("\n0 "), std::string::npos)
            << done->pages.back().body;
        EXPECT_EQ(done->pages.front().inputs.count("98"), 1u);
    }
}

TEST(Layout, ShippedScreensKeepToTheirPageLimits) {
    auto layout = test::load_layout(test::source_path("menus"));
    const auto& m = layout->source();
    ASSERT_FALSE(m.page_limits.empty());
    for (const auto& [id, s] : m.screens) {
        auto limit = m.page_limits.find(to_string(s.kind));
        if (limit == m.page_limits.end()) continue;
        for (const char* lang : {"ky", "ru"})
            EXPECT_LE(layout->find(id, lang)->pages.size(), limit->second) << id << " " << lang;
    }
}

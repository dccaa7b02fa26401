#include <gtest/gtest.h>

#include <filesystem>

#include "menu/check.hpp"
#include "unit/menu_fixture.hpp"

using namespace gw;
using namespace gw::menu;

namespace {

// Copies the small menu and replaces one file, so each case breaks one thing.
class BrokenMenu {
public:
    BrokenMenu(const std::string& file, const std::string& content) {
        for (const auto& e : std::filesystem::directory_iterator(test::small_menu_dir()))
            std::filesystem::copy_file(e.path(), dir.path() / e.path().filename());
        dir.write(file, content);
    }
    std::vector<diagnostic> check() const {
        auto loaded = load_menu(dir.path().string());
        auto m = std::make_shared<const menu::menu>(loaded.value);
        laid_out_menu layout(m, {});
        auto ds = loaded.diagnostics;
        auto more = check_menu(*m, {&layout});
        ds.insert(ds.end(), more.begin(), more.end());
        return ds;
    }
    test::temp_dir dir;
};

std::string all(const std::vector<diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += format(d) + "\n";
    return out;
}

}  // namespace

TEST(Check, SmallMenuIsClean) {
    BrokenMenu ok("extra.yaml", "screens: {}\n");
    EXPECT_EQ(all(ok.check()), "");
}

TEST(Check, BadYamlReportsFileAndLine) {
    BrokenMenu m("extra.yaml", "screens:\n  x:\n    type: info\n    text: {ky: \"a\"\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("extra.yaml:"), std::string::npos) << text;
}

TEST(Check, MissingTranslation) {
    BrokenMenu m("extra.yaml",
                 "screens:\n  lonely:\n    type: info\n    text: {ky: \"a\", ru: \"b\"}\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("extra.yaml:2: error: screen 'lonely' text: missing 'uz' translation"),
              std::string::npos)
        << text;
}

TEST(Check, UnknownReferenceAndUnreachableScreen) {
    BrokenMenu m("extra.yaml",
                 "screens:\n"
                 "  orphan:\n"
                 "    type: choice\n"
                 "    text: {ky: a, ru: b, uz: c}\n"
                 "    options:\n"
                 "      - label: {ky: a, ru: b, uz: c}\n"
                 "        next: nowhere\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("extra.yaml:6: error: screen 'orphan' option 1 refers to unknown screen "
                        "'nowhere'"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("extra.yaml:2: error: screen 'orphan' is unreachable"), std::string::npos)
        << text;
}

TEST(Check, UnknownTypeAndDuplicateId) {
    BrokenMenu m("extra.yaml",
                 "screens:\n  main:\n    type: info\n    text: {ky: a, ru: b, uz: c}\n"
                 "  odd:\n    type: carousel\n    text: {ky: a, ru: b, uz: c}\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("duplicate screen id 'main'"), std::string::npos) << text;
    EXPECT_NE(text.find("extra.yaml:6: error: screen 'odd': unknown type"), std::string::npos)
        << text;
}

TEST(Check, ScreenThatCannotFit) {
    std::string word(100, 'x');
    BrokenMenu m("extra.yaml", "screens:\n  huge:\n    type: info\n    text: {ky: " + word +
                                   ", ru: " + word + ", uz: " + word + "}\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("extra.yaml:2: error: screen 'huge' (ky, ussd): the word"),
              std::string::npos)
        << text;
}

TEST(Check, MissingUiString) {
    BrokenMenu m("menu.yaml",
                 "languages:\n  - {code: ky, name: K}\ndefault_language: ky\nstart: language\n"
                 "home: main\nui:\n  more: {ky: Дагы}\n");
    auto text = all(m.check());
    EXPECT_NE(text.find("ui.invalid_option is missing"), std::string::npos) << text;
}

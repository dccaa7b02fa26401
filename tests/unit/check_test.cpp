#include "menu/check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

namespace {
// The small menu's menu.yaml with one ui line replaced.
std::string small_menu_yaml_with(const std::string& key, const std::string& line) {
    std::ifstream in(test::small_menu_dir() + "/menu.yaml");
    std::string out, l;
    while (std::getline(in, l)) out += (l.rfind("  " + key + ":", 0) == 0 ? line : l) + "\n";
    return out;
}
}  // namespace

TEST(Check, BadNumberInAllLanguagesMustFitOneUssdScreen) {
    // Each text fits alone (30 characters), but she sees all three at once.
    std::string t;
    for (int i = 0; i < 30; ++i) t += "ж";  // Cyrillic: UCS-2, 80 a screen
    BrokenMenu m("menu.yaml",
                 small_menu_yaml_with("bad_number", "  bad_number: {ky: \"" + t + "\", ru: \"" + t +
                                                        "\", uz: \"" + t + "\"}"));
    auto text = all(m.check());
    EXPECT_NE(text.find("menu.yaml:23: error: ui.bad_number: all languages together are 92 "
                        "characters, over one USSD screen (limit 80 UCS-2 / 182 GSM-7)"),
              std::string::npos)
        << text;
}

TEST(Check, WholeScreenUiTextOverOneScreen) {
    std::string t;
    for (int i = 0; i < 81; ++i) t += "ж";
    BrokenMenu m("menu.yaml",
                 small_menu_yaml_with("store_error", "  store_error: {ky: \"Ката\", ru: \"" + t +
                                                         "\", uz: \"Xato\"}"));
    auto text = all(m.check());
    EXPECT_NE(text.find("menu.yaml:22: error: ui.store_error 'ru' is 81 characters, over one "
                        "USSD screen"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("ui.store_error 'ky'"), std::string::npos) << text;
}

// Partners and operators read values in words: with a labels section, every
// topic, oblast, ... a menu can set needs a label in every language.
TEST(Check, ValuesWithoutALabelAreReported) {
    std::ifstream in(test::small_menu_dir() + "/menu.yaml");
    std::string meta((std::istreambuf_iterator<char>(in)), {});
    meta +=
        "labels:\n  topic:\n    rights: {ky: \"укуктар\", ru: \"права\", uz: \"huquq\"}\n"
        "    legal_aid: {ky: \"юрист\", ru: \"юрист\"}\n";
    BrokenMenu m("menu.yaml", meta);
    const std::string out = all(m.check());
    EXPECT_NE(out.find("labels.topic.employment is missing"), std::string::npos) << out;
    EXPECT_NE(out.find("labels.topic.legal_aid: missing 'uz' translation"), std::string::npos)
        << out;
    EXPECT_EQ(out.find("labels.topic.rights"), std::string::npos) << out;
}

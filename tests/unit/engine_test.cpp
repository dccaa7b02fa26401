#include <gtest/gtest.h>

#include "unit/menu_fixture.hpp"

using namespace gw;
using namespace gw::menu;

class Engine : public ::testing::Test {
  protected:
    engine eng{test::load_layout(test::small_menu_dir())};
    session_state s;

    std::string start(const std::string& known = "") { return eng.start(s, known).out.text; }
    step in(const std::string& text) { return eng.input(s, text); }
};

TEST_F(Engine, NewNumberStartsWithLanguageChoice) {
    std::string text = start();
    EXPECT_EQ(s.screen, "language");
    EXPECT_NE(text.find("1 Кыргызча"), std::string::npos);
    EXPECT_NE(text.find("2 Русский"), std::string::npos);
    EXPECT_NE(text.find("3 O'zbekcha"), std::string::npos);
}

TEST_F(Engine, KnownNumberStartsAtHomeInHerLanguage) {
    std::string text = start("ru");
    EXPECT_EQ(s.screen, "main");
    EXPECT_EQ(s.language, "ru");
    EXPECT_NE(text.find("Главное меню"), std::string::npos);
}

TEST_F(Engine, UnknownRememberedLanguageFallsBackToLanguageScreen) {
    start("fr");
    EXPECT_EQ(s.screen, "language");
}

TEST_F(Engine, ChoosingALanguageSwitchesTexts) {
    start();
    auto r = in("2");
    EXPECT_EQ(s.language, "ru");
    EXPECT_NE(r.out.text.find("Главное меню"), std::string::npos);
    start();
    r = in("3");
    EXPECT_EQ(s.language, "uz");
    EXPECT_NE(r.out.text.find("Asosiy menyu"), std::string::npos);
}

TEST_F(Engine, InvalidInputReshowsTheSameScreenWithAnError) {
    start("ru");
    for (const char* bad : {"x", "9", "42", "-1", "1.5", "٣"}) {
        auto r = in(bad);
        EXPECT_FALSE(r.out.end) << bad;
        EXPECT_EQ(s.screen, "main") << bad;
        EXPECT_EQ(r.out.text.rfind("Неверно.", 0), 0u) << bad << ": " << r.out.text;
    }
    auto r = in("");
    EXPECT_EQ(r.out.text.rfind("Пусто.", 0), 0u);
    EXPECT_EQ(s.screen, "main");
}

TEST_F(Engine, MoreBackAndHome) {
    start("ru");
    auto r = in("98");
    EXPECT_EQ(s.page, 1);
    EXPECT_NE(r.out.text.find("6 Шестой"), std::string::npos);
    r = in("0");
    EXPECT_EQ(s.page, 0);
    in("1");  // info_long
    EXPECT_EQ(s.screen, "info_long");
    in("98");
    EXPECT_EQ(s.page, 1);
    in("0");
    EXPECT_EQ(s.page, 0);
    in("0");
    EXPECT_EQ(s.screen, "main");
    in("1");
    in("98");
    in("00");
    EXPECT_EQ(s.screen, "main");
    EXPECT_EQ(s.page, 0);
    EXPECT_TRUE(s.history.empty());
}

TEST_F(Engine, OptionsFromAnotherPageStillWork) {
    start("ru");
    in("98");
    in("1");  // option 1 is on page 1, she is on page 2
    EXPECT_EQ(s.screen, "info_long");
    start("ru");
    in("7");  // option 7 is on page 2, she is on page 1
    EXPECT_EQ(s.screen, "info_sensitive");
}

TEST_F(Engine, InputScreenValidatesLength) {
    start("ky");
    in("2");
    EXPECT_EQ(s.screen, "ask");
    auto r = in("a");
    EXPECT_EQ(s.screen, "ask");
    EXPECT_EQ(r.out.text.rfind("2-20 тамга.", 0), 0u);
    r = in(std::string(21, 'a'));
    EXPECT_EQ(s.screen, "ask");
    r = in("Айгүл");
    EXPECT_EQ(s.screen, "consent");
    EXPECT_EQ(s.vars["details"], "Айгүл");
    EXPECT_EQ(s.vars["topic"], "legal_aid");
}

TEST_F(Engine, ActionIsRequestedThenCompletedWithReference) {
    start("ru");
    in("3");
    auto r = in("1");
    ASSERT_TRUE(r.action);
    EXPECT_EQ(r.action->kind, "create_case");
    EXPECT_EQ(r.action->vars.at("consent"), "yes");
    EXPECT_EQ(r.action->vars.at("topic"), "employment");
    EXPECT_EQ(r.action->vars.at("oblast"), "osh");
    auto done = eng.complete_action(s, "R-1234567");
    EXPECT_TRUE(done.end);
    EXPECT_EQ(done.text, "Принято: R-1234567.");
    EXPECT_TRUE(s.finished);
}

TEST_F(Engine, FailedActionEndsPolitelyWithoutReference) {
    start("ru");
    in("3");
    ASSERT_TRUE(in("2").action);
    auto r = eng.fail_action(s);
    EXPECT_TRUE(r.end);
    EXPECT_EQ(r.text, "Ошибка. Повторите позже.");
}

TEST_F(Engine, RenderShowsCurrentPage) {
    start("ru");
    in("98");
    EXPECT_NE(eng.render(s).text.find("6 Шестой"), std::string::npos);
}

// Issue "what she meets on her phone": bad input on an info page keeps
// the text she was reading (shortened to make room), not only the error.
TEST_F(Engine, BadInputOnAnInfoPageKeepsItsText) {
    start("ru");
    in("1");  // info_long, page 1
    auto r = in("7");
    EXPECT_EQ(r.out.text.rfind("Неверно.\nПервое предложение", 0), 0u) << r.out.text;
    EXPECT_TRUE(eng.layout().fits(r.out.text));
    EXPECT_NE(r.out.text.find("98 Далее"), std::string::npos) << "navigation stays";
}

TEST_F(Engine, InfoScreensEndWithTheirNextStep) {
    start("ru");
    in("1");
    for (int page = 0; page < 10 && eng.render(s).text.find("1 SMS") == std::string::npos; ++page)
        in("98");
    auto r = in("1");
    ASSERT_TRUE(r.action);
    EXPECT_EQ(r.action->kind, "send_info_sms");
    EXPECT_EQ(r.action->info_screen, "info_long");
    auto done = eng.complete_action_with_status(s, "SMS отправлено.");
    EXPECT_TRUE(done.end);
    EXPECT_EQ(done.text, "SMS отправлено.");
}

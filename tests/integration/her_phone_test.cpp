// The service as a woman meets it on a feature phone: the real server and
// the shipped menus, over Africa's Talking's form, choosing options by
// what the screen shows. Issue "what she meets on her phone".
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "app/gateway.hpp"
#include "common/text.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class HerPhone : public ::testing::Test {
  protected:
    HerPhone()
        : running(test::write_test_config(
                      dir,
                      "sms:\n  channels:\n    kannel:\n      auth: token\n      token: k\n"
                      "      sender: \"5555\"\n"
                      "referrals:\n  partners_file: " +
                          test::source_path("config/partners.yaml") + "\n  rules_directory: " +
                          test::source_path("referral-rules") + "\n  notify_channel: kannel\n"),
                  {.warnings_allowed = true}) {}

    // One USSD session; every press is counted.
    struct session {
        HerPhone& t;
        std::string id, phone, text, screen;
        int presses = 0;
        std::string hop() {
            auto r = test::post_form(t.port, test::ussd_path,
                                     test::form({{"sessionId", id},
                                                 {"phoneNumber", phone},
                                                 {"serviceCode", "*384#"},
                                                 {"text", text}}));
            EXPECT_EQ(r.status, 200);
            screen = r.body;
            // Every screen fits the phone: 80 UCS-2 units after "CON "/"END ".
            EXPECT_LE(measure_text(screen.substr(4)).units, 80u) << screen;
            return screen;
        }
        std::string press(const std::string& key) {
            text = presses++ == 0 ? key : text + "*" + key;
            return hop();
        }
        // Presses the option whose label starts with `label`; it must be on this page.
        std::string choose(const std::string& label) {
            std::smatch m;
            EXPECT_TRUE(std::regex_search(screen, m, std::regex("(?:^|\\n)([0-9]+) " + label)))
                << "no option '" << label << "' visible on:\n"
                << screen;
            return press(m.size() > 1 ? m[1].str() : "?");
        }
    };
    session dial(const std::string& id, const std::string& phone) {
        session s{*this, id, phone};
        s.hop();
        return s;
    }
    static std::string reference_in(const std::string& text) {
        std::smatch m;
        return std::regex_search(text, m, std::regex("R-[0-9]{7}")) ? m.str() : "";
    }

    test::temp_dir dir;
    test::running_gateway running;
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;
};

}  // namespace

TEST_F(HerPhone, FirstTimeCallerReachesALegalAidReferralInEightPressesAtMost) {
    for (const auto& [lang, labels] :
         {std::pair{std::string("ru"),
                    std::vector<std::string>{"Русский", "Юрист", "Нужен юрист", "Ош", "Вернулась",
                                             "Звоните", "Да"}},
          std::pair{std::string("ky"),
                    std::vector<std::string>{"Кыргызча", "Юрист", "Юрист керек", "Ош", "Кайттым",
                                             "Чалыңыз", "Ооба"}}}) {
        auto s = dial("first-" + lang, lang == "ru" ? "+996555300001" : "+996555300002");
        for (const auto& l : labels) s.choose(l);
        EXPECT_EQ(s.screen.rfind("END ", 0), 0u) << s.screen;
        const std::string ref = reference_in(s.screen);
        ASSERT_FALSE(ref.empty()) << s.screen;
        EXPECT_LE(s.presses, 8) << lang;
        auto c = gateway->storage().find_case(ref);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->topic, "legal_aid");
        EXPECT_EQ(c->oblast, "osh");
        EXPECT_EQ(c->language, lang);
        EXPECT_EQ(c->contact, "call_any");
        EXPECT_TRUE(c->consent);
    }
}

TEST_F(HerPhone, ReturningCallerNeedsSevenPressesAtMost) {
    auto first = dial("ret-1", "+996555300003");
    first.choose("Русский");
    auto again = dial("ret-2", "+996555300003");  // language remembered: main menu first
    for (const char* l : {"Юрист", "Нужен юрист", "Талас", "Уезжаю", "Звоните", "Да"})
        again.choose(l);
    EXPECT_FALSE(reference_in(again.screen).empty()) << again.screen;
    EXPECT_LE(again.presses, 7);
}

TEST_F(HerPhone, BadInputOnAnInfoScreenKeepsItsText) {
    auto s = dial("info-bad", "+996555300004");
    s.choose("Русский");
    s.choose("Юрист");
    const std::string info = s.choose("Что бесплатно");
    ASSERT_NE(info.find("Центры юрпомощи"), std::string::npos) << info;
    const std::string after = s.press("7");
    EXPECT_EQ(after.rfind("CON Неверно", 0), 0u) << after;
    EXPECT_NE(after.find("Центры юрпомощи"), std::string::npos) << "the text she was reading stays";
}

TEST_F(HerPhone, EachSafeContactAnswerEndsWithItsOwnTextAndIsKept) {
    std::set<std::string> ends;
    const std::vector<std::pair<std::vector<std::string>, std::string>> paths = {
        {{"Звоните", "Да"}, "call_any"},
        {{"В удобное время", "Вечером", "Да"}, "call_time"},
        {{"Только SMS"}, "sms_only"},
        {{"Без связи"}, "none"}};
    int n = 0;
    for (const auto& [presses, contact] : paths) {
        auto s = dial("contact-" + contact, "+99655530010" + std::to_string(n++));
        for (const char* l : {"Русский", "Юрист", "Нужен юрист", "Ош", "Вернулась"}) s.choose(l);
        for (const auto& l : presses) s.choose(l);
        ASSERT_EQ(s.screen.rfind("END ", 0), 0u) << s.screen;
        const std::string ref = reference_in(s.screen);
        ASSERT_FALSE(ref.empty()) << s.screen;
        std::string text = s.screen;
        text.replace(text.find(ref), ref.size(), "R-…");
        EXPECT_TRUE(ends.insert(text).second) << "the same end text as another answer: " << text;
        auto c = gateway->storage().find_case(ref);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->contact, contact);
        if (contact == "call_time") EXPECT_EQ(c->call_time, "evening");
        // Her number goes to a partner only when she said yes to a call.
        EXPECT_EQ(c->consent, contact == "call_any" || contact == "call_time") << contact;
    }
}

TEST_F(HerPhone, HerCodeAnswersHerAndNobodyElse) {
    auto s = dial("code-1", "+996555300201");
    for (const char* l : {"Русский", "Юрист", "Нужен юрист", "Ош", "Вернулась", "Без связи"})
        s.choose(l);
    const std::string ref = reference_in(s.screen);
    ASSERT_FALSE(ref.empty());
    auto check = [&](const std::string& id, const std::string& phone, const std::string& typed) {
        auto q = dial(id, phone);
        if (q.screen.find("Русский") != std::string::npos) q.choose("Русский");
        q.choose("Моё обращение");
        return q.press(typed);
    };
    const std::string mine = check("code-2", "+996555300201", ref.substr(2));  // digits only
    EXPECT_EQ(mine.rfind("END ", 0), 0u) << mine;
    const std::string theirs = check("code-3", "+996555300202", ref);
    const std::string wrong = check("code-4", "+996555300203", "R-0000001");
    EXPECT_EQ(theirs, wrong) << "another number learns nothing from her code";
    EXPECT_NE(mine, theirs);
    EXPECT_EQ(mine.find(ref), std::string::npos) << "the answer names no code";
}

TEST_F(HerPhone, TheFirstSmsOfANewNumberSaysSmsStayOnThePhone) {
    auto r = test::get(port, "/sms/kannel?" + test::form({{"from", "+79161234567"},
                                                          {"to", "5555"},
                                                          {"text", "HELP"},
                                                          {"id", "first-1"},
                                                          {"token", "k"}}));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("STOP"), std::string::npos) << r.body;
    r = test::get(port, "/sms/kannel?" + test::form({{"from", "+79161234567"},
                                                     {"to", "5555"},
                                                     {"text", "1"},
                                                     {"id", "first-2"},
                                                     {"token", "k"}}));
    EXPECT_EQ(r.body.find("STOP"), std::string::npos) << "only the first: " << r.body;
}

// The shipped menus in `dir`/menus, to edit for a test.
std::filesystem::path copy_of_shipped_menus(const test::temp_dir& dir) {
    const auto menus = dir.path() / "menus";
    std::filesystem::create_directories(menus);
    for (const auto& e : std::filesystem::directory_iterator(test::source_path("menus")))
        if (e.path().extension() == ".yaml")
            std::filesystem::copy_file(e.path(), menus / e.path().filename());
    return menus;
}

// The real binary: SIGHUP reloads a changed menu; a broken one keeps the old.
TEST(HerPhoneReload, SighupReloadsMenusAndKeepsThemOnABrokenFile) {
    test::temp_dir dir;
    const auto menus = copy_of_shipped_menus(dir);
    test::gateway_process gw(test::write_test_config(dir, "", menus.string()),
                             dir.file("gateway.log"));
    auto first_screen = [&](const std::string& id) {
        return test::post_form(
                   gw.port(), test::ussd_path,
                   test::form({{"sessionId", id}, {"phoneNumber", "+996555300301"}, {"text", ""}}))
            .body;
    };
    auto replace_in = [&](const std::string& file, const std::string& from, const std::string& to) {
        std::ifstream in(menus / file);
        std::string all((std::istreambuf_iterator<char>(in)), {});
        auto pos = all.find(from);
        ASSERT_NE(pos, std::string::npos) << from;
        all.replace(pos, from.size(), to);
        std::ofstream(menus / file) << all;
    };
    ASSERT_NE(first_screen("r1").find("Тилди тандаңыз"), std::string::npos);
    replace_in("main.yaml", "Тилди тандаңыз / Выберите язык", "Тил / Язык");
    ::kill(gw.pid(), SIGHUP);
    std::string shown;
    for (int i = 0; i < 50 && shown.find("CON Тил / Язык") != 0; ++i) {
        std::this_thread::sleep_for(50ms);
        shown = first_screen("r2-" + std::to_string(i));
    }
    EXPECT_EQ(shown.rfind("CON Тил / Язык", 0), 0u) << shown;
    // A broken edit: the menus in force stay, and the log says why.
    replace_in("main.yaml", "next: main", "next: no_such_screen");
    ::kill(gw.pid(), SIGHUP);
    for (int i = 0; i < 50 && gw.log().find("menu reload refused") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_NE(gw.log().find("menu reload refused"), std::string::npos) << gw.log();
    EXPECT_EQ(first_screen("r3").rfind("CON Тил / Язык", 0), 0u);
    EXPECT_EQ(gw.terminate(), 0);
}

// `check` fails on a screen over its page limit, with file and line.
TEST(HerPhoneCheck, AScreenOverItsPageLimitFailsTheCheck) {
    test::temp_dir dir;
    const auto menus = copy_of_shipped_menus(dir);
    {
        std::ifstream in(menus / "legal_aid.yaml");
        std::string all((std::istreambuf_iterator<char>(in)), {});
        const std::string from = "ru: \"Центры юрпомощи:";
        auto pos = all.find(from);
        ASSERT_NE(pos, std::string::npos);
        all.insert(pos + from.size(), std::string(" Очень длинный текст, который не помещается.") +
                                          " Ещё одно предложение. И ещё одно предложение здесь.");
        std::ofstream(menus / "legal_aid.yaml") << all;
    }
    const std::string cmd = std::string(GW_GATEWAY_BINARY) + " check --config " +
                            test::write_test_config(dir, "", menus.string()) + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = ::pclose(p);
    EXPECT_NE(status, 0) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex("legal_aid\\.yaml:[0-9]+: error: screen "
                                                  "'legal_aid_what' \\(ru\\): [0-9] pages on a "
                                                  "USSD phone, at most 2")))
        << out;
}

// A partner reads and signs off the whole service at once.
TEST(HerPhoneCheck, PreviewWritesEveryScreenAsThePhoneShowsIt) {
    test::temp_dir dir;
    const std::string out = dir.file("preview.html");
    const std::string cmd = std::string(GW_GATEWAY_BINARY) + " preview --config " +
                            test::source_path("config/gateway.yaml") + " --output " + out +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(out);
    std::string html((std::istreambuf_iterator<char>(in)), {});
    for (const char* id : {"id=\"main\"", "id=\"refer_done_call\"", "id=\"sms_home\""})
        EXPECT_NE(html.find(id), std::string::npos) << id;
    EXPECT_NE(html.find("REVIEW(partners)"), std::string::npos);
    EXPECT_NE(html.find("R-0000000") == std::string::npos ? html.find("{ref}") : 0,
              std::string::npos);
    EXPECT_NE(html.find("USSD: 1 page"), std::string::npos);
    EXPECT_NE(html.find("Кыргызча"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
}

// Issue "hotline operator console", over HTTP without a browser: an urgent
// USSD session reaches the operators' queue; an operator claims it, notes,
// replies by SMS through the outbox and closes it; a supervisor reads each
// step in the audit trail; the database file holds no number in clear.
// Also: who may call what (401/403/405/404/400), the log-in back-off,
// and the console's files and headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "app/gateway.hpp"
#include "integration/console_gateway.hpp"
#include "net/http_client.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string her_number = "+996555123456";

class OperatorConsole : public ::testing::Test, protected test::console_gateway {
  protected:
    test::http_reply call(const std::string& method, const std::string& path,
                          const std::string& token = "", const std::string& body = "") {
        std::string req =
            method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
        if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
        if (!body.empty() || method == "POST" || method == "PATCH")
            req +=
                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n";
        return test::send_raw(port, req + "\r\n" + body);
    }

    std::string login(const std::string& user) {
        auto r = call("POST", "/api/operator/v1/login", "",
                      json{{"username", user}, {"password", "correct horse battery"}}.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        return json::parse(r.body).value("token", "");
    }

    // Walks the urgent menu as a phone does, choosing options by their label.
    std::string urgent_ussd_session() {
        std::string text;
        auto hop = [&](const std::string& input) {
            text =
                text.empty() && input != "" ? input : (input.empty() ? text : text + "*" + input);
            auto r = test::post_form(port, test::ussd_path,
                                     test::form({{"sessionId", "S-urgent"},
                                                 {"serviceCode", "*123#"},
                                                 {"phoneNumber", her_number},
                                                 {"text", text}}));
            EXPECT_EQ(r.status, 200);
            return r.body;
        };
        auto pick = [](const std::string& screen, const std::string& label) {
            std::smatch m;
            std::regex line("(?:^|\\n)([0-9]+) " + label);
            EXPECT_TRUE(std::regex_search(screen, m, line)) << screen;
            return m.size() > 1 ? m[1].str() : std::string("?");
        };
        std::string screen = hop("");
        screen = hop(pick(screen, "Русский"));
        screen = hop(pick(screen, "Срочно"));
        screen = hop(pick(screen, "Ош"));
        screen = hop(pick(screen, "Только SMS"));  // so the operator may reply by SMS
        std::smatch ref;
        EXPECT_TRUE(std::regex_search(screen, ref, std::regex("R-[0-9]{7}"))) << screen;
        return ref.size() ? ref[0].str() : "";
    }

    std::string database_bytes() {
        std::string all;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::ifstream in(dir.file(std::string("gateway.db") + suffix), std::ios::binary);
            std::ostringstream s;
            s << in.rdbuf();
            all += s.str();
        }
        return all;
    }
};

}  // namespace

TEST_F(OperatorConsole, UrgentSessionClaimedAnsweredClosedAndAudited) {
    const std::string aida = login("aida");
    const std::string ref = urgent_ussd_session();
    ASSERT_FALSE(ref.empty());

    auto queue = json::parse(call("GET", "/api/operator/v1/queue", aida).body);
    ASSERT_FALSE(queue["items"].empty());
    EXPECT_EQ(queue["items"][0]["reference"], ref);
    EXPECT_EQ(queue["items"][0]["reasons"], json({"urgent"})) << "she asked for SMS, not a call";
    EXPECT_FALSE(queue["items"][0].contains("phone")) << "the list shows no number";
    EXPECT_FALSE(queue["items"][0].contains("details"))
        << "nor her words: only the audited case file";

    auto claimed = call("POST", "/api/operator/v1/cases/" + ref + "/claim", aida, "{}");
    ASSERT_EQ(claimed.status, 200) << claimed.body;
    EXPECT_TRUE(json::parse(claimed.body).contains("transcript"))
        << "actions answer the whole file";
    auto file = json::parse(call("GET", "/api/operator/v1/cases/" + ref, aida).body);
    EXPECT_EQ(file["phone"], her_number) << "her number for the operator who holds the case";
    EXPECT_EQ(file["safe_to_call"], false);
    EXPECT_EQ(file["contact"], "sms_only");
    ASSERT_GE(file["transcript"].size(), 4u);
    EXPECT_EQ(file["transcript"][2]["screen"], "urgent_start");
    EXPECT_FALSE(file["referrals"].empty());
    EXPECT_FALSE(file["referrals"][0]["explanation"].get<std::string>().empty());
    ASSERT_FALSE(file["templates"].empty());
    const std::string template_id = file["templates"][0]["id"];
    const std::string template_text = file["templates"][0]["text"];
    EXPECT_NE(template_text.find(ref), std::string::npos);

    EXPECT_EQ(call("POST", "/api/operator/v1/cases/" + ref + "/notes", aida,
                   json{{"text", "<script>alert(1)</script>Позвонила"}}.dump())
                  .status,
              200);
    auto replied = call("POST", "/api/operator/v1/cases/" + ref + "/reply", aida,
                        json{{"template", template_id}}.dump());
    ASSERT_EQ(replied.status, 200) << replied.body;
    EXPECT_GT(json::parse(replied.body)["message_id"].get<long long>(), 0);
    // The outbox delivers it to the aggregator: to her, the template text, no topic.
    bool delivered = false;
    for (int i = 0; i < 100 && !delivered; ++i) {
        std::this_thread::sleep_for(50ms);
        for (const auto& r : sms_api.received()) {
            auto f = parse_form(r.body);
            delivered = delivered || (f && f->find("to") && *f->find("to") == her_number);
        }
    }
    for (const auto& r : sms_api.received()) {
        auto f = parse_form(r.body);
        if (!f || !f->find("to") || *f->find("to") != her_number) continue;
        EXPECT_EQ(*f->find("message"), template_text);
        EXPECT_EQ(f->find("message")->find("Сроч"), std::string::npos);
    }
    EXPECT_TRUE(delivered);

    auto closed = call("POST", "/api/operator/v1/cases/" + ref + "/close", aida,
                       json{{"outcome", "Консультация дана"}}.dump());
    ASSERT_EQ(closed.status, 200) << closed.body;
    EXPECT_EQ(json::parse(closed.body)["status"], "closed");
    queue = json::parse(call("GET", "/api/operator/v1/queue", aida).body);
    for (const auto& item : queue["items"]) EXPECT_NE(item["reference"], ref);

    EXPECT_EQ(call("GET", "/api/operator/v1/audit?case=" + ref, aida).status, 403);
    auto audit =
        json::parse(call("GET", "/api/operator/v1/audit?case=" + ref, login("gulnara")).body);
    std::vector<std::string> steps;
    for (auto it = audit["events"].rbegin(); it != audit["events"].rend(); ++it)
        if ((*it)["actor"] == "operator:aida") steps.push_back((*it)["action"]);
    // Closing is recorded for the case and for the referral it closed
    // (same second: the two lines may come in either order).
    EXPECT_EQ(std::count(steps.begin(), steps.end(), "closed"), 2);
    steps.erase(std::remove(steps.begin(), steps.end(), "closed"), steps.end());
    EXPECT_EQ(steps, (std::vector<std::string>{"claimed", "viewed", "noted", "replied"}));

    // Nothing of her number in clear in the database files.
    gateway->ussd().flush_sessions();
    const std::string bytes = database_bytes();
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(bytes.find("996555123456"), std::string::npos);
    EXPECT_EQ(bytes.find("Позвонила"), std::string::npos) << "notes are sealed too";
}

TEST_F(OperatorConsole, WhoMayCallWhat) {
    const std::string aida = login("aida");
    const std::string gulnara = login("gulnara");
    const std::string ref = urgent_ussd_session();
    const std::string p = "/api/operator/v1/";
    // Without a valid token: 401 everywhere but log-in.
    for (auto [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "me"},
                                                          {"GET", "queue"},
                                                          {"GET", "cases/" + ref},
                                                          {"POST", "cases/" + ref + "/claim"},
                                                          {"POST", "cases/" + ref + "/notes"},
                                                          {"POST", "cases/" + ref + "/reply"},
                                                          {"POST", "cases/" + ref + "/refer"},
                                                          {"POST", "cases/" + ref + "/close"},
                                                          {"POST", "cases/" + ref + "/release"},
                                                          {"POST", "referrals/1/revoke"},
                                                          {"POST", "messages/1/retry"},
                                                          {"GET", "partners"},
                                                          {"POST", "partners/crisis_centres/pause"},
                                                          {"GET", "operators"},
                                                          {"POST", "operators"},
                                                          {"PATCH", "operators/aida"},
                                                          {"GET", "audit"},
                                                          {"GET", "stats.csv"},
                                                          {"POST", "logout"}}) {
        EXPECT_EQ(call(method, p + path).status, 401) << method << " " << path;
        EXPECT_EQ(call(method, p + path, std::string(64, 'f')).status, 401)
            << method << " " << path;
    }
    // Operators: no supervisor work.
    for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "operators"},
             {"POST", "operators"},
             {"PATCH", "operators/gulnara"},
             {"GET", "audit"},
             {"GET", "stats.csv"},
             {"POST", "partners/crisis_centres/pause"}})
        EXPECT_EQ(call(method, p + path, aida, method == "GET" ? "" : "{}").status, 403)
            << method << " " << path;
    // Supervisors may.
    EXPECT_EQ(call("GET", p + "operators", gulnara).status, 200);
    auto csv = call("GET", p + "stats.csv", gulnara);
    EXPECT_EQ(csv.status, 200);
    EXPECT_EQ(csv.headers["content-type"].rfind("text/csv", 0), 0u);
    auto added = call("POST", p + "operators", gulnara,
                      json{{"username", "bermet"},
                           {"display_name", "Бермет"},
                           {"role", "operator"},
                           {"password", "another good password"}}
                          .dump());
    EXPECT_EQ(added.status, 200) << added.body;
    EXPECT_EQ(call("PATCH", p + "operators/gulnara", gulnara, R"({"active": false})").status, 409);
    // Bad input: clear answers, never internals.
    EXPECT_EQ(call("POST", p + "cases/" + ref + "/notes", aida, "{not json").status, 400);
    EXPECT_EQ(call("GET", p + "cases/R-0000000", aida).status, 404);
    EXPECT_EQ(call("DELETE", p + "queue", aida).status, 405);
    EXPECT_EQ(call("GET", p + "queue?filter=everything", aida).status, 400);
    EXPECT_EQ(call("POST", p + "referrals/abc/revoke", aida, "{}").status, 404);
    auto r = call("GET", p + "cases/" + ref, aida);
    EXPECT_EQ(r.headers["cache-control"], "no-store");
    // Logging out ends the token.
    EXPECT_EQ(call("POST", p + "logout", aida, "{}").status, 200);
    EXPECT_EQ(call("GET", p + "me", aida).status, 401);
}

TEST_F(OperatorConsole, WrongPasswordsSlowDownTheAttacker) {
    auto attempt = [&](const std::string& password) {
        return call("POST", "/api/operator/v1/login", "",
                    json{{"username", "aida"}, {"password", password}}.dump());
    };
    int unauthorized = 0;
    test::http_reply last;
    for (int i = 0; i < 6; ++i) {
        last = attempt("guess number " + std::to_string(i));
        if (last.status == 401) ++unauthorized;
        if (last.status == 429) break;
    }
    EXPECT_GE(unauthorized, 3);
    ASSERT_EQ(last.status, 429) << last.body;
    EXPECT_FALSE(last.headers["retry-after"].empty());
    EXPECT_EQ(attempt("correct horse battery").status, 429) << "even the right password waits";
    EXPECT_EQ(last.body.find("sql"), std::string::npos);
}

TEST_F(OperatorConsole, ConsoleFilesComeWithAStrictPolicy) {
    auto page = test::get(port, "/console/");
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.headers["content-type"].rfind("text/html", 0), 0u);
    EXPECT_NE(page.headers["content-security-policy"].find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(page.body.find("http://"), std::string::npos) << "no external resources";
    EXPECT_EQ(page.body.find("https://"), std::string::npos) << "no external resources";
    auto script = test::get(port, "/console/app.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.headers["content-type"].rfind("text/javascript", 0), 0u);
    EXPECT_EQ(test::get(port, "/console").status, 301);
    for (const char* bad : {"/console/../config/gateway.yaml", "/console/%2e%2e/README.md",
                            "/console/.hidden.js", "/console/nope.js", "/console/app.exe"})
        EXPECT_EQ(test::get(port, bad).status, 404) << bad;
}

// Handlers run on several threads: an operator's log-in (Argon2id, about
// 100 ms) runs beside her hop instead of in front of it (issue #13).
TEST_F(OperatorConsole, ALogInDoesNotHoldUpAUssdHop) {
    using clock_type = std::chrono::steady_clock;
    // How long a log-in takes here, alone.
    auto t0 = clock_type::now();
    login("aida");
    const auto alone = clock_type::now() - t0;
    std::chrono::steady_clock::duration hop{};
    for (int round = 0; round < 3; ++round) {
        std::thread in_the_console([this] { login("gulnara"); });
        std::this_thread::sleep_for(alone / 10);  // the log-in is hashing now
        const auto start = clock_type::now();
        auto r = test::post_form(port, test::ussd_path,
                                 test::form({{"sessionId", "S-beside-" + std::to_string(round)},
                                             {"serviceCode", "*123#"},
                                             {"phoneNumber", "+996555300777"},
                                             {"text", ""}}));
        hop = clock_type::now() - start;
        in_the_console.join();
        EXPECT_EQ(r.status, 200);
        if (hop < alone / 3) break;  // a busy machine may stall one round
    }
    // Queued behind the log-in, the hop would take most of a log-in.
    EXPECT_LT(hop, alone / 3)
        << "hop " << std::chrono::duration_cast<std::chrono::milliseconds>(hop).count()
        << " ms, log-in alone "
        << std::chrono::duration_cast<std::chrono::milliseconds>(alone).count() << " ms";
}

// The store under the real binary, as it is run: operators log in, the
// console and partners read, /metrics is scraped, and `operator add` (a
// second process) writes to the same database while the gateway serves.
// Afterwards cases still commit, /healthz stays 200, and nothing of the
// gateway's holds the write-ahead log back from a checkpoint (issue:
// "the store locks up after another process writes").
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using nlohmann::json;

namespace {

const std::string password = "correct horse battery";

int run_binary(const std::string& args) {
    std::string cmd = std::string("GATEWAY_OPERATOR_PASSWORD='") + password + "' " +
                      GW_GATEWAY_BINARY + " " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
}

test::http_reply call(unsigned short port, const std::string& method, const std::string& path,
                      const std::string& bearer = "", const std::string& body = "") {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    if (method == "POST")
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    return test::send_raw(port, req + "\r\n" + body);
}

// Russian, lawyer/family, need a lawyer, Osh, returning, call me, consent yes.
// A first-time caller each time (a known number would skip the language screen).
std::string legal_aid_case(unsigned short port, const std::string& session) {
    static int caller = 0;
    const std::string phone = "+99655510" + std::to_string(1000 + ++caller);
    std::string text, last;
    for (const std::string in : {"", "2", "2", "1", "3", "2", "1", "1"}) {
        text = text.empty() ? in : text + "*" + in;
        last = test::post_form(
                   port, test::ussd_path,
                   test::form({{"sessionId", session}, {"phoneNumber", phone}, {"text", text}}))
                   .body;
        if (last.rfind("END ", 0) == 0) break;
    }
    std::smatch m;
    return std::regex_search(last, m, std::regex("R-[0-9]{7}")) ? m.str() : "no code in: " + last;
}

// (log frames, frames checkpointed) of a PASSIVE checkpoint from outside:
// equal when no reader of the gateway holds the log back.
std::pair<int, int> passive_checkpoint(const std::string& db_path) {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    SQLite::Statement q(db, "PRAGMA wal_checkpoint(PASSIVE)");
    EXPECT_TRUE(q.executeStep());
    return {q.getColumn(1).getInt(), q.getColumn(2).getInt()};
}

class StoreIntegrity : public ::testing::Test {
  protected:
    StoreIntegrity() {
        dir.write("partners.yaml",
                  "partners:\n"
                  "  - {id: legal_aid_osh, name: Legal aid Osh, names: {ky: legal_aid_osh ky, ru: "
                  "legal_aid_osh ru}, oblasts: [osh], topics: [legal_aid, "
                  "rights],\n     api_token: tok-osh}\n"
                  "  - {id: crisis_centres, name: Crisis, names: {ky: crisis_centres ky, ru: "
                  "crisis_centres ru}, topics: [urgent], api_token: tok-crisis}\n");
        dir.write("rules/rules.yaml",
                  "rules:\n"
                  "  - id: urgent\n    when: {urgent: true}\n    route_to: crisis_centres\n"
                  "  - id: osh\n    when: {oblast: osh}\n    route_to: legal_aid_osh\n");
        config = test::write_test_config(
            dir, "referrals:\n  partners_file: " + dir.file("partners.yaml") +
                     "\n  rules_directory: " + dir.file("rules") + "\n");
        EXPECT_EQ(
            run_binary("operator add --config " + config + " --username aida --role supervisor"),
            0);
    }
    test::temp_dir dir;
    std::string config;
};

}  // namespace

TEST_F(StoreIntegrity, AnotherProcessWritingNeverLocksTheGatewayOut) {
    test::gateway_process gw(config, dir.file("gateway.log"));
    const std::string db = dir.file("gateway.db");
    ASSERT_EQ(legal_aid_case(gw.port(), "before").rfind("R-", 0), 0u);

    // Every kind of read the defect was seen after: /metrics, log-ins with
    // a right and a wrong password, console and partner reads.
    ASSERT_EQ(test::get(gw.port(), "/metrics").status, 200);
    EXPECT_EQ(call(gw.port(), "POST", "/api/operator/v1/login", "",
                   json{{"username", "aida"}, {"password", "wrong"}}.dump())
                  .status,
              401);
    auto login = call(gw.port(), "POST", "/api/operator/v1/login", "",
                      json{{"username", "aida"}, {"password", password}}.dump());
    ASSERT_EQ(login.status, 200) << login.body;
    const std::string token = json::parse(login.body).value("token", "");
    for (const char* path :
         {"/api/operator/v1/queue", "/api/operator/v1/stats.csv", "/api/operator/v1/operators",
          "/api/operator/v1/partners", "/api/operator/v1/audit"})
        EXPECT_NE(call(gw.port(), "GET", path, token).status, 500) << path;
    EXPECT_EQ(call(gw.port(), "GET", "/api/partner/v1/referrals", "tok-osh").status, 200);

    // Nothing the gateway read is still open: the whole log can be copied back.
    auto [frames, copied] = passive_checkpoint(db);
    EXPECT_EQ(frames, copied) << "a reader holds the write-ahead log back";

    // A second process writes while the gateway serves.
    ASSERT_EQ(run_binary("operator add --config " + config + " --username bakyt"), 0);
    ASSERT_EQ(test::get(gw.port(), "/metrics").status, 200);

    // Cases still commit, and the gateway is healthy.
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(legal_aid_case(gw.port(), "after-" + std::to_string(i)).rfind("R-", 0), 0u);
    EXPECT_EQ(test::get(gw.port(), "/healthz").status, 200);
    EXPECT_EQ(gw.log().find("ALERT"), std::string::npos) << gw.log();

    // And the log folds back after all of it.
    std::tie(frames, copied) = passive_checkpoint(db);
    EXPECT_EQ(frames, copied);
    {
        SQLite::Database outside(db, SQLite::OPEN_READWRITE);
        SQLite::Statement q(outside, "PRAGMA wal_checkpoint(TRUNCATE)");
        ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getInt(), 0) << "the gateway keeps a read open";
    }
    EXPECT_LT(std::filesystem::file_size(db + "-wal"), 16u << 20);
    EXPECT_EQ(gw.terminate(), 0);
}

TEST_F(StoreIntegrity, DatabaseFilesAreTheGatewaysOwn) {
    // A data folder the gateway makes itself: 0700; the files 0600.
    std::string yaml = std::filesystem::path(config).parent_path() / "private.yaml";
    {
        std::ifstream in(config);
        std::string all((std::istreambuf_iterator<char>(in)), {});
        all = std::regex_replace(all, std::regex("sqlite_path: [^\n]*"),
                                 "sqlite_path: " + dir.file("fresh/data/gateway.db"));
        // The key file in the same new folder, as the shipped config has it.
        all =
            std::regex_replace(all, std::regex("privacy:\n  data_key: [^\n]*"),
                               "privacy:\n  data_key_file: " + dir.file("fresh/data/gateway.key"));
        dir.write("private.yaml", all);
    }
    test::gateway_process gw(yaml, dir.file("gateway2.log"));
    ASSERT_EQ(legal_aid_case(gw.port(), "perm").rfind("R-", 0), 0u);
    auto mode = [](const std::string& p) {
        struct stat st {};
        EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
        return st.st_mode & 0777;
    };
    EXPECT_EQ(mode(dir.file("fresh/data")), 0700u);
    for (const char* f : {"gateway.db", "gateway.db-wal", "gateway.db-shm", "gateway.key"})
        EXPECT_EQ(mode(dir.file(std::string("fresh/data/") + f)), 0600u) << f;
    EXPECT_EQ(gw.terminate(), 0);
}

// The built hotline-gateway binary, as an operator runs it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace gw;

namespace {

struct run_result {
    int exit_code;
    std::string output;
};

// Runs the binary with arguments and optional stdin; collects stdout+stderr.
run_result run(const std::vector<std::string>& args, const std::string& input = "") {
    test::temp_dir dir;
    std::string cmd = GW_GATEWAY_BINARY;
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " < " + dir.write("stdin", input) + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
        out.append(buf.data(), n);
    int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST(Binary, CheckPassesOnTheShippedConfig) {
    auto r = run({"check", "--config", test::source_path("config/gateway.yaml")});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("check ok"), std::string::npos);
    EXPECT_NE(r.output.find("main"), std::string::npos);
}

TEST(Binary, CheckFailsWithFileAndLine) {
    test::temp_dir dir;
    std::filesystem::create_directories(dir.path() / "menus");
    for (const auto& e : std::filesystem::directory_iterator(test::source_path("menus")))
        if (e.path().extension() == ".yaml")
            std::filesystem::copy_file(e.path(), dir.path() / "menus" / e.path().filename());
    dir.write("menus/broken.yaml",
              "screens:\n  stray:\n    type: info\n    text: {ky: \"Кыска\"}\n");
    auto cfg = test::write_test_config(dir, "", dir.file("menus"));
    auto r = run({"check", "--config", cfg});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("broken.yaml:2: error: screen 'stray' text: missing 'ru' translation"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("broken.yaml:2: error: screen 'stray' is unreachable"),
              std::string::npos)
        << r.output;
}

TEST(Binary, SimulatorWalksToACase) {
    // Russian, urgent help, Osh, call me, then quit.
    auto r =
        run({"simulate", "--config", test::source_path("config/gateway.yaml")}, "2\n1\n3\n1\nq\n");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Русский"), std::string::npos);
    EXPECT_TRUE(std::regex_search(r.output, std::regex("R-[0-9]{7}"))) << r.output;
}

TEST(Binary, ServeAnswersAndStopsCleanlyOnSigterm) {
    test::temp_dir dir;
    auto cfg = test::write_test_config(dir);
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        ::close(out[0]);
        ::execl(GW_GATEWAY_BINARY, GW_GATEWAY_BINARY, "serve", "--config", cfg.c_str(), nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    std::string log;
    std::smatch m;
    char buf[1024];
    while (!std::regex_search(log, m, std::regex("listening on http://127.0.0.1:([0-9]+)"))) {
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        log.append(buf, n);
    }
    ASSERT_TRUE(m.size() == 2) << log;
    auto port = static_cast<unsigned short>(std::stoi(m[1]));
    EXPECT_EQ(test::get(port, "/healthz").status, 200);
    auto r = test::post_form(
        port, test::ussd_path,
        test::form({{"sessionId", "bin-1"}, {"phoneNumber", "+996555123456"}, {"text", ""}}));
    EXPECT_EQ(r.body.rfind("CON ", 0), 0u);
    ::kill(pid, SIGTERM);
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) log.append(buf, n);
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
    EXPECT_NE(log.find("stopped cleanly"), std::string::npos) << log;
    EXPECT_EQ(log.find("+996555123456"), std::string::npos) << "full number in the log";
}

TEST(Binary, SighupReloadsRulesAndKeepsServing) {
    test::temp_dir dir;
    auto cfg = test::write_test_config(dir);
    test::gateway_process gw(cfg, dir.file("gateway.log"));
    ::kill(gw.pid(), SIGHUP);
    // The menus reload first, then partners and rules: wait for the latter.
    for (int i = 0; i < 250 && gw.log().find("reload: 8 partner") == std::string::npos; ++i)
        ::usleep(20000);
    EXPECT_NE(gw.log().find("reload: 8 partner(s), 12 rule(s)"), std::string::npos) << gw.log();
    EXPECT_EQ(test::get(gw.port(), "/healthz").status, 200);
    EXPECT_EQ(gw.terminate(), 0);
}

TEST(Binary, MetricsForTheLocalMonitoringAgent) {
    test::temp_dir dir;
    test::gateway_process gw(test::write_test_config(dir), dir.file("gateway.log"));
    test::get(gw.port(), "/healthz");
    test::post_form(
        gw.port(), test::ussd_path,
        test::form({{"sessionId", "m1"}, {"phoneNumber", "+996555123456"}, {"text", ""}}));
    // A request is counted once its response is written, which can be just
    // after the client has read it: ask again for a moment if need be.
    auto r = test::get(gw.port(), "/metrics");
    for (int i = 0; i < 100 && r.body.find("gateway_http_request_duration_seconds_count{route="
                                           "\"/ussd/africastalking\"} 1") == std::string::npos;
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        r = test::get(gw.port(), "/metrics");
    }
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.headers["content-type"].find("text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(r.body.find("gateway_http_requests_total{route=\"/healthz\",code=\"2xx\"} 1"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find(
                  "gateway_http_request_duration_seconds_count{route=\"/ussd/africastalking\"} 1"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("gateway_ussd_active_sessions 1"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("gateway_storage_failing 0"), std::string::npos);
    EXPECT_EQ(r.body.find("+996"), std::string::npos) << "no numbers in metrics";
    EXPECT_EQ(gw.terminate(), 0);
}

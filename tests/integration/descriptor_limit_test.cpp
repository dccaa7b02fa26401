// The built binary when file descriptors run short: started under a low
// RLIMIT_NOFILE, or with the limit lowered under it while it runs. It must
// answer (503) instead of leaving clients hanging, not spin on accept, not
// flood its log, and serve again once connections are given back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/raw_http.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

// `hotline-gateway serve` with RLIMIT_NOFILE set to `soft`/`hard` before
// exec (0: unchanged). Killed when the test ends.
class limited_gateway {
  public:
    limited_gateway(const std::string& config, const std::string& log_file, rlim_t soft,
                    rlim_t hard)
        : log_file_(log_file) {
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            // Nothing of the test's own descriptors counts against its limit.
            for (int i = 3; i < 4096; ++i) ::close(i);
            if (soft) {
                rlimit lim{soft, hard};
                if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(126);
            }
            ::execl(GW_GATEWAY_BINARY, GW_GATEWAY_BINARY, "serve", "--config", config.c_str(),
                    nullptr);
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        const std::string listening = "listening on http://127.0.0.1:";
        while (std::chrono::steady_clock::now() < deadline) {
            std::string text = log();
            if (auto at = text.find(listening); at != std::string::npos) {
                port_ = static_cast<unsigned short>(std::stoi(text.substr(at + listening.size())));
                return;
            }
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                pid_ = -1;
                return;  // exited at start: port() stays 0
            }
            std::this_thread::sleep_for(10ms);
        }
        throw std::runtime_error("gateway did not start:\n" + log());
    }
    ~limited_gateway() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    int exit_code() const { return exit_code_; }
    std::string log() const {
        std::ifstream in(log_file_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::uintmax_t log_size() const {
        std::error_code ec;
        auto n = std::filesystem::file_size(log_file_, ec);
        return ec ? 0 : n;
    }
    // CPU seconds (user + system) the process has used so far.
    double cpu_seconds() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), {});
        std::istringstream rest(stat.substr(stat.rfind(')') + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        // After the name: state is field 3; utime and stime are 14 and 15.
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoull(field);
            if (i == 15) stime = std::stoull(field);
        }
        return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

  private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    int exit_code_ = -1;
    std::string log_file_;
};

// Opens `n` connections and leaves them silent.
std::vector<int> hold_connections(unsigned short port, int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) fds.push_back(test::connect_loopback(port));
    return fds;
}

// How many of `fds` have received a 503 by `deadline` (each read once it
// has something; those answered are closed and removed from `fds`).
int count_refused(std::vector<int>& fds, std::chrono::steady_clock::time_point deadline) {
    int refused = 0;
    std::vector<std::string> got(fds.size());
    std::vector<bool> done(fds.size(), false);
    while (std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> polls;
        for (int fd : fds) polls.push_back({fd, POLLIN, 0});
        if (::poll(polls.data(), polls.size(), 100) <= 0) continue;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (done[i] || !(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[512];
            ssize_t n = ::recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) got[i].append(buf, static_cast<std::size_t>(n));
            if (n <= 0 || got[i].find("\r\n\r\n") != std::string::npos) {
                done[i] = true;
                if (got[i].rfind("HTTP/1.1 503", 0) == 0) ++refused;
            }
        }
    }
    std::vector<int> still_open;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        if (done[i])
            ::close(fds[i]);
        else
            still_open.push_back(fds[i]);
    }
    fds = still_open;
    return refused;
}

void release(std::vector<int>& fds) {
    for (int fd : fds) ::close(fd);
    fds.clear();
}

test::http_reply ussd_hop(unsigned short port, const std::string& session) {
    return test::post_form(
        port, test::ussd_path,
        test::form({{"sessionId", session}, {"phoneNumber", "+996555123456"}, {"text", ""}}));
}

// Answered at all (the server may be busy), within `within`.
bool eventually_ok(unsigned short port, std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
        if (test::get(port, "/healthz").status == 200) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

}  // namespace

TEST(BinaryFdLimits, UnderALowLimitExtraConnectionsGet503AndServiceResumes) {
    test::temp_dir dir;
    // The default max_connections (1024) cannot fit in 128 descriptors.
    auto cfg = test::config_with_server_keys(dir, "  max_connections_per_address: 0\n");
    limited_gateway gw(cfg, dir.file("gateway.log"), 128, 128);
    ASSERT_NE(gw.port(), 0) << gw.log();
    EXPECT_NE(gw.log().find("LimitNOFILE"), std::string::npos) << gw.log();

    auto held = hold_connections(gw.port(), 200);
    // Descriptors for at most 128 of them: the others are refused, promptly.
    int refused = count_refused(held, std::chrono::steady_clock::now() + 3s);
    EXPECT_GE(refused, 200 - 128);
    EXPECT_EQ(static_cast<int>(held.size()) + refused, 200);
    // A newcomer is answered (busy) rather than left hanging.
    EXPECT_EQ(test::get(gw.port(), "/healthz").status, 503);

    const double cpu_before = gw.cpu_seconds();
    std::this_thread::sleep_for(1s);
    EXPECT_LT(gw.cpu_seconds() - cpu_before, 0.3) << "the server spins";
    EXPECT_LT(gw.log_size(), 64u * 1024) << "the log is flooded";

    release(held);
    ASSERT_TRUE(eventually_ok(gw.port(), 5s));
    auto hop = ussd_hop(gw.port(), "fd-1");
    EXPECT_EQ(hop.status, 200);
    EXPECT_EQ(hop.body.rfind("CON ", 0), 0u) << hop.body;
}

TEST(BinaryFdLimits, OutOfDescriptorsWhileRunningBacksOffAndRecovers) {
#ifdef GW_SANITIZED
    // UBSan checks a pointer's memory through a pipe: with no descriptor
    // left it takes every object for invalid and aborts the server.
    GTEST_SKIP() << "out of descriptors, the sanitizers' own checks fail";
#endif
    test::temp_dir dir;
    auto cfg = test::config_with_server_keys(dir, "  max_connections_per_address: 0\n");
    limited_gateway gw(cfg, dir.file("gateway.log"), 0, 0);
    ASSERT_NE(gw.port(), 0) << gw.log();
    // The limit falls under the running server (as if something else had
    // taken the descriptors): accept fails with EMFILE.
    rlimit low{64, 64};
    ASSERT_EQ(::prlimit(gw.pid(), RLIMIT_NOFILE, &low, nullptr), 0);

    auto held = hold_connections(gw.port(), 150);
    std::this_thread::sleep_for(1500ms);
    const auto log_before = gw.log_size();
    const double cpu_before = gw.cpu_seconds();
    std::this_thread::sleep_for(1s);
    EXPECT_LT(gw.cpu_seconds() - cpu_before, 0.3) << "the server spins";
    EXPECT_LT(gw.log_size() - log_before, 4096u) << "the log is flooded";
    const std::string log = gw.log();
    EXPECT_NE(log.find("Too many open files"), std::string::npos) << log.substr(0, 4000);
    EXPECT_LT(log.size(), 64u * 1024);
    // Some of those waiting were told the server is busy rather than left hanging.
    EXPECT_GT(count_refused(held, std::chrono::steady_clock::now() + 2s), 0);

    release(held);
    ASSERT_TRUE(eventually_ok(gw.port(), 5s)) << gw.log().substr(0, 4000);
    auto hop = ussd_hop(gw.port(), "fd-2");
    EXPECT_EQ(hop.status, 200);
    EXPECT_EQ(hop.body.rfind("CON ", 0), 0u) << hop.body;
}

TEST(BinaryFdLimits, RefusesToStartWhenTheLimitLeavesNoRoom) {
    test::temp_dir dir;
    limited_gateway gw(test::write_test_config(dir), dir.file("gateway.log"), 40, 40);
    EXPECT_EQ(gw.port(), 0);
    EXPECT_EQ(gw.exit_code(), 2) << gw.log();
    EXPECT_NE(gw.log().find("LimitNOFILE"), std::string::npos) << gw.log();
}

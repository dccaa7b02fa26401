#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gw::test {

gateway_process::gateway_process(const std::string& config, const std::string& log_file)
    : log_file_(log_file) {
    // The log may hold earlier runs: only what is written after this point counts.
    const std::size_t log_before = log().size();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execl(GW_GATEWAY_BINARY, GW_GATEWAY_BINARY, "serve", "--config", config.c_str(), nullptr);
        ::_exit(127);
    }
    // From here on, any way out of the constructor but success kills the
    // child: a half-constructed object has no destructor to do it.
    struct reaper {
        gateway_process& self;
        bool armed = true;
        ~reaper() {
            if (armed) self.kill_hard();
        }
    } reap{*this};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::string listening = "listening on http://127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
        // Plain find, not std::regex: the log can grow to megabytes.
        std::string text = log();
        for (auto at = text.size() > log_before ? text.find(listening, log_before)
                                                : std::string::npos;
             at != std::string::npos; at = text.find(listening, at + 1)) {
            // The whole number must be there, and nothing else in its place.
            const std::size_t from = at + listening.size();
            const std::size_t end = text.find_first_not_of("0123456789", from);
            if (end == std::string::npos || end == from || end - from > 5) continue;
            port_ = static_cast<unsigned short>(std::stoi(text.substr(from, end - from)));
            reap.armed = false;
            return;
        }
        std::string tail = text.size() > log_before ? text.substr(log_before) : "";
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;  // already gone: nothing for the reaper to kill
            throw std::runtime_error("gateway exited at start:\n" + tail);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string text = log();
    throw std::runtime_error("gateway did not start listening (log had " +
                             std::to_string(log_before) + " bytes before, " +
                             std::to_string(text.size()) + " now); new output:\n[" +
                             (text.size() > log_before ? text.substr(log_before) : "") + "]");
}

gateway_process::~gateway_process() {
    kill_hard();
}

void gateway_process::kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

int gateway_process::terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string gateway_process::log() const {
    std::ifstream in(log_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

unsigned short free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace gw::test

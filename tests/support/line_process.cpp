#include "support/line_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace gw::test {

line_process::line_process(const std::vector<std::string>& argv) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::close(in[1]);
        ::close(out[0]);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
    ::fcntl(to_child_, F_SETFD, FD_CLOEXEC);
    ::fcntl(from_child_, F_SETFD, FD_CLOEXEC);
}

line_process::~line_process() {
    if (to_child_ >= 0) ::close(to_child_);
    if (from_child_ >= 0) ::close(from_child_);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void line_process::send(const std::string& line) {
    const std::string l = line + "\n";
    std::size_t done = 0;
    while (done < l.size()) {
        ssize_t n = ::write(to_child_, l.data() + done, l.size() - done);
        if (n <= 0) throw std::runtime_error("the helper program is gone");
        done += static_cast<std::size_t>(n);
    }
}

std::optional<std::string> line_process::next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            seen_.push_back(line);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{from_child_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char chunk[4096];
        ssize_t n = ::read(from_child_, chunk, sizeof chunk);
        if (n <= 0) return std::nullopt;  // the program ended
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

std::string line_process::expect(const std::string& prefix, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto line = next(std::max(left, std::chrono::milliseconds(0)));
        if (!line) {
            std::string recent;
            for (std::size_t i = seen_.size() > 8 ? seen_.size() - 8 : 0; i < seen_.size(); ++i)
                recent += "\n  " + seen_[i];
            throw std::runtime_error("no line starting with '" + prefix +
                                     "'; last lines:" + recent);
        }
        if (line->rfind(prefix, 0) == 0) return *line;
    }
}

}  // namespace gw::test

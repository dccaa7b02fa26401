#pragma once
// Starts the built gateway binary (`serve`) as a child process for tests
// that need a real process: signals, kill -9, restarts. Output goes to a
// log file; the port is read from the "listening on" line.
#include <sys/types.h>

#include <string>

namespace gw::test {

class gateway_process {
  public:
    // Starts `hotline-gateway serve --config <config>` and waits (up to 20 s)
    // until it listens. Throws std::runtime_error when it does not.
    gateway_process(const std::string& config, const std::string& log_file);
    ~gateway_process();  // SIGKILL if still running

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    void kill_hard();  // SIGKILL, no clean-up: a crash
    int terminate();   // SIGTERM and wait; returns the exit status
    std::string log() const;

  private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    std::string log_file_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
unsigned short free_port();

}  // namespace gw::test

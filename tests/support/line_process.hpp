#pragma once
// A helper program driven line by line: commands to its stdin, events read
// from its stdout (with a timeout). Used for the operator's SMSC played by
// Perl's Net::SMPP in the SMPP tests. Killed when the object goes.
#include <sys/types.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace gw::test {

class line_process {
  public:
    explicit line_process(const std::vector<std::string>& argv);
    ~line_process();
    line_process(const line_process&) = delete;
    line_process& operator=(const line_process&) = delete;

    void send(const std::string& line);
    // The next line, or nullopt when none came within `timeout`.
    std::optional<std::string> next(std::chrono::milliseconds timeout);
    // Reads lines until one starts with `prefix` (earlier ones are kept in
    // `seen`); throws std::runtime_error naming the prefix when none comes.
    std::string expect(const std::string& prefix,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
    const std::vector<std::string>& seen() const { return seen_; }

  private:
    pid_t pid_ = -1;
    int to_child_ = -1, from_child_ = -1;
    std::string buffer_;
    std::vector<std::string> seen_;
};

}  // namespace gw::test

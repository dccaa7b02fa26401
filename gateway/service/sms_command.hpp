#pragma once
// An SMS that is a command, not a menu answer (a partner's focal point
// writing "ACCEPT R-1234567"), once understood: what to answer. No reply:
// say nothing (the number is no partner's focal point).
#include <optional>
#include <string>

namespace gw::service {

struct command_answer {
    std::optional<std::string> reply;
};

}  // namespace gw::service

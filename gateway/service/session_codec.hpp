#pragma once
// Serialises a session (engine state plus the channel's own fields, such
// as the last cumulative USSD text) to JSON for the store, so that a
// session can continue after a restart or on another node.
#include <map>
#include <string>

#include "menu/engine.hpp"

namespace gw::service {

struct stored_state {
    menu::session_state engine;
    std::map<std::string, std::string> fields;
};

std::string encode_state(const stored_state& s);
// The same document through nlohmann's tree (the reference encode_state
// must match byte for byte; also its path for invalid UTF-8, replaced).
std::string encode_state_with_library(const stored_state& s);
// Throws std::runtime_error on a malformed document.
stored_state decode_state(const std::string& json);

}  // namespace gw::service

#pragma once
// A problem found in menus or config, reported as "file:line: message".
#include <string>
#include <vector>

#include "menu/model.hpp"

namespace gw::menu {

struct diagnostic {
    source_location where;
    std::string message;
    bool warning = false;
};

std::string format(const diagnostic& d);
bool has_errors(const std::vector<diagnostic>& ds);

}  // namespace gw::menu

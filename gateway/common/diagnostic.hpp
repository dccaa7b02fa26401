#pragma once
// A problem found in a file the programme edits (menus, rules, partners,
// config), reported as "file:line: error: message".
#include <string>
#include <vector>

namespace gw {

struct source_location {
    std::string file;
    int line = 0;  // 1-based; 0 when unknown
};

struct diagnostic {
    source_location where;
    std::string message;
    bool warning = false;
};

std::string format(const diagnostic& d);
bool has_errors(const std::vector<diagnostic>& ds);

}  // namespace gw

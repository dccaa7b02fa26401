#pragma once
// Reads menu.yaml (languages, start/home screens, UI strings) and every
// other *.yaml file in a directory (each a `screens:` map). Structural
// problems (bad YAML, unknown screen type, duplicate ids) are reported as
// diagnostics with file:line; the returned menu holds what could be read.
#include <string>
#include <vector>

#include "menu/diagnostic.hpp"
#include "menu/model.hpp"

namespace gw::menu {

struct load_result {
    menu value;
    std::vector<diagnostic> diagnostics;
};

load_result load_menu(const std::string& directory);

}  // namespace gw::menu

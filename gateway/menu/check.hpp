#pragma once
// Validation of a loaded menu: missing translations, unknown screen
// references, unreachable screens, bad action wiring, and (through the
// layouts) screens that cannot fit a handset even paginated.
#include <vector>

#include "menu/diagnostic.hpp"
#include "menu/layout.hpp"
#include "menu/model.hpp"

namespace gw::menu {

std::vector<diagnostic> check_menu(const menu& m, const std::vector<const laid_out_menu*>& layouts);

}  // namespace gw::menu

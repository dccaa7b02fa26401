#pragma once
// Menus report problems with the gateway's common diagnostics
// (common/diagnostic.hpp), under the names the menu code has always used.
#include "common/diagnostic.hpp"
#include "menu/model.hpp"

namespace gw::menu {

using gw::diagnostic;
using gw::format;
using gw::has_errors;

}  // namespace gw::menu

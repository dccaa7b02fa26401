#pragma once
// Loads a menu directory and lays it out for USSD; fails the test on load errors.
#include <gtest/gtest.h>

#include <memory>

#include "menu/engine.hpp"
#include "menu/loader.hpp"
#include "support/temp_dir.hpp"

namespace gw::test {

inline std::shared_ptr<const menu::laid_out_menu> load_layout(const std::string& dir,
                                                              menu::screen_profile profile = {}) {
    auto loaded = menu::load_menu(dir);
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << menu::format(d);
    auto m = std::make_shared<const menu::menu>(std::move(loaded.value));
    return std::make_shared<const menu::laid_out_menu>(m, profile);
}

inline std::string small_menu_dir() {
    return source_path("tests/data/menus_small");
}

}  // namespace gw::test

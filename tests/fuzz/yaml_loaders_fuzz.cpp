// The YAML loaders programme staff feed: menus (with layout and checks),
// referral rules, partners and the gateway config. Bad files must give
// diagnostics, never a crash.
#include <cstdint>
#include <string>

#include "app/config.hpp"
#include "app/gateway.hpp"
#include "fuzz_support.hpp"
#include "menu/check.hpp"
#include "menu/loader.hpp"
#include "referral/partners.hpp"
#include "referral/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace fz = gw::fuzz;
    static const auto dir = fz::scratch_dir() / "yaml";
    static const bool copied = [] {
        std::filesystem::create_directories(dir / "menus");
        for (const auto& e : std::filesystem::directory_iterator(fz::source("menus")))
            if (e.path().filename() == "menu.yaml")
                std::filesystem::copy_file(e.path(), dir / "menus" / "menu.yaml",
                                           std::filesystem::copy_options::overwrite_existing);
        return true;
    }();
    (void)copied;
    std::string text(reinterpret_cast<const char*>(data), size);
    fz::write_file(dir / "menus" / "screens.yaml", text);
    auto loaded = gw::menu::load_menu((dir / "menus").string());
    auto m = std::make_shared<const gw::menu::menu>(std::move(loaded.value));
    gw::menu::laid_out_menu layout(m, {});
    gw::menu::check_menu(*m, {&layout});

    fz::write_file(dir / "rules" / "rules.yaml", text);
    auto rules = gw::referral::load_rules((dir / "rules").string());
    fz::write_file(dir / "partners.yaml", text);
    auto partners = gw::referral::load_partners((dir / "partners.yaml").string());
    gw::referral::check_rules(rules.value, partners.value, {"legal_aid", "urgent"});
    gw::referral::route(rules.value, partners.value, {"legal_aid", "", "osh", "ky", "", false},
                        gw::time_point{}, {});
    fz::write_file(dir / "config.yaml", text);
    gw::app::load_config((dir / "config.yaml").string());
    return 0;
}

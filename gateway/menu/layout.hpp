#pragma once
// Screen fitting: turns every screen of a menu, per language, into pages
// that each fit one handset screen (measured in GSM-7 septets or UCS-2
// units against a profile's limits). Long texts and long option lists are
// split with "more"/"back" entries; non-root screens always offer back and
// home. Layout happens once at load, so a hop only looks up a page.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "menu/diagnostic.hpp"
#include "menu/model.hpp"

namespace gw::menu {

struct screen_profile {
    std::string name = "ussd";
    std::size_t limit_ucs2 = 80;
    std::size_t limit_gsm7 = 182;
    std::size_t max_options_per_page = 5;
    std::string more_key = "98";
    std::string back_key = "0";
    std::string home_key = "00";
};

// What an input selects on a page.
struct page_input {
    enum kind_t { choose, more, back, home } kind;
    int option = -1;  // index into screen options (or languages) for `choose`
};

struct page {
    std::string body;     // full page text (may hold the placeholder {ref})
    std::string text;     // the screen's own text on this page (no option lines)
    std::string choices;  // option and navigation lines: shown under an error line
    std::string options;  // option lines alone: under an error line when choices do not fit
    std::map<std::string, page_input> inputs;
    bool last = false;
};

struct laid_out_screen {
    std::vector<page> pages;
};

// Placeholder replaced by a case reference code at render time, and the
// longest text it stands for when measuring.
inline constexpr const char* ref_placeholder = "{ref}";
inline constexpr const char* ref_sample = "R-0000000";
// Placeholder for what an action found out (a status, whether an SMS went),
// a ui text; measured as this many characters.
inline constexpr const char* status_placeholder = "{status}";
inline constexpr std::size_t status_sample_chars = 40;

class laid_out_menu {
  public:
    laid_out_menu(std::shared_ptr<const menu> source, screen_profile profile);

    const menu& source() const { return *source_; }
    const screen_profile& profile() const { return profile_; }
    // nullptr for unknown screen or language.
    const laid_out_screen* find(const std::string& screen_id, const std::string& lang) const;
    // Problems found while laying out: screens that cannot fit.
    const std::vector<diagnostic>& diagnostics() const { return diagnostics_; }

    // Length limit that applies to a text (by its encoding).
    bool fits(const std::string& text) const;

  private:
    void lay_out(const screen& s, const std::string& lang);

    std::shared_ptr<const menu> source_;
    screen_profile profile_;
    std::map<std::string, std::map<std::string, laid_out_screen>> screens_;  // lang -> id -> pages
    std::vector<diagnostic> diagnostics_;
};

}  // namespace gw::menu

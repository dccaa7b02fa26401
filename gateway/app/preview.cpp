// `hotline-gateway preview`: every screen, page by page, exactly as a phone
// shows it (USSD and SMS, each language), in one HTML file a partner can
// read and sign off, with each screen's id, page count and REVIEW notes.
#include <fstream>
#include <sstream>

#include "app/commands.hpp"
#include "app/gateway.hpp"
#include "common/text.hpp"

namespace gw::app {
namespace {

// The comment lines of a screen's block in its YAML file: sources and
// REVIEW(...) notes sit there, beside the texts.
std::vector<std::string> comments_of(const menu::screen& s) {
    std::vector<std::string> out;
    std::ifstream in(s.where.file);
    std::string line;
    int n = 0;
    std::size_t indent = std::string::npos;
    while (std::getline(in, line)) {
        if (++n < s.where.line) continue;
        const std::size_t first = line.find_first_not_of(' ');
        if (n == s.where.line) {
            indent = first;
            continue;
        }
        if (first == std::string::npos) continue;
        // The next key at the screen's own indent (or less) ends the block.
        if (first <= indent && line[first] != '#') break;
        if (line[first] == '#') out.push_back(line.substr(first + 1));
    }
    return out;
}

const char* page_style =
    "body{font-family:sans-serif;margin:1.5em;max-width:70em}"
    "section{border-top:1px solid #999;padding:.5em 0}"
    ".lang{display:inline-block;vertical-align:top;margin:0 2em 1em 0}"
    ".phone{font-family:monospace;white-space:pre-wrap;width:20ch;border:2px solid #333;"
    "border-radius:.5em;padding:.4em;margin:.3em 0;background:#f7f7f2}"
    ".end{border-color:#a33}.note{color:#555;font-size:.9em;margin:.1em 0}"
    ".review{color:#a35800;font-weight:bold}h2{font-size:1.1em}";

}  // namespace

int preview(const std::string& config_path, const std::string& output, std::ostream& out) {
    auto cfg = load_config(config_path);
    for (const auto& d : cfg.diagnostics)
        if (!d.warning) out << menu::format(d) << "\n";
    if (menu::has_errors(cfg.diagnostics)) return 1;
    menu_bundle menus = load_menus(cfg.value);
    for (const auto& d : menus.diagnostics) out << menu::format(d) << "\n";
    const menu::menu& m = *menus.source;

    std::ostringstream html;
    html << "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">"
         << "<title>Hotline screens for review</title><style>" << page_style << "</style></head>"
         << "<body><h1>Hotline screens for review</h1><p>Every screen as a phone shows it: "
         << "USSD pages (" << cfg.value.ussd.screen_limit_ucs2 << " Cyrillic characters a page) "
         << "and the SMS that carries the same screen, in each language. "
         << "<span class=\"review\">REVIEW</span> notes name who must confirm a text. "
         << "{ref} stands for her code (R-0000000), {status} for what a look-up or an SMS "
         << "found.</p>";
    std::size_t reviews = 0;
    for (const auto& [id, s] : m.screens) {
        if (s.kind == menu::screen_kind::action) continue;
        html << "<section id=\"" << escape_markup(id) << "\"><h2>" << escape_markup(id)
             << " <small>(" << menu::to_string(s.kind) << (s.sensitive ? ", sensitive" : "") << ", "
             << escape_markup(s.where.file.substr(s.where.file.find_last_of('/') + 1)) << ":"
             << s.where.line << ")</small></h2>";
        for (const auto& c : comments_of(s)) {
            const bool review = c.find("REVIEW") != std::string::npos;
            reviews += review;
            html << "<p class=\"note" << (review ? " review" : "") << "\">" << escape_markup(c)
                 << "</p>";
        }
        for (const auto& lang : m.languages) {
            html << "<div class=\"lang\"><b>" << escape_markup(lang.name) << "</b>";
            for (const auto& [label, layout] :
                 {std::pair{"USSD", menus.ussd_layout}, std::pair{"SMS", menus.sms_layout}}) {
                const auto* ls = layout->find(id, lang.code);
                if (!ls) continue;
                html << "<p class=\"note\">" << label << ": " << ls->pages.size() << " page"
                     << (ls->pages.size() == 1 ? "" : "s") << "</p>";
                for (const auto& p : ls->pages)
                    html << "<div class=\"phone"
                         << (p.last && s.kind == menu::screen_kind::end ? " end" : "") << "\">"
                         << escape_markup(p.body) << "</div>";
            }
            html << "</div>";
        }
        html << "</section>";
    }
    html << "</body></html>\n";
    std::ofstream file(output, std::ios::binary);
    file << html.str();
    if (!file) {
        out << "cannot write " << output << "\n";
        return 1;
    }
    out << "wrote " << output << ": " << m.screens.size() << " screens, " << reviews
        << " REVIEW notes\n";
    return menu::has_errors(menus.diagnostics) ? 1 : 0;
}

}  // namespace gw::app

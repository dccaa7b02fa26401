#include "menu/layout.hpp"

#include <algorithm>
#include <sstream>

#include "common/text.hpp"

namespace gw::menu {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
        if (l.empty()) continue;
        if (!out.empty()) out += '\n';
        out += l;
    }
    return out;
}

std::string with_sample_ref(std::string s) {
    const std::pair<std::string, std::string> samples[] = {
        {ref_placeholder, ref_sample},
        // Cyrillic, so a status counts in UCS-2 units like the ui texts it stands for.
        {status_placeholder, [] {
             std::string x;
             for (std::size_t i = 0; i < status_sample_chars; ++i) x += "ж";
             return x;
         }()}};
    for (const auto& [ph, sample] : samples)
        for (auto pos = s.find(ph); pos != std::string::npos; pos = s.find(ph, pos + sample.size()))
            s.replace(pos, ph.size(), sample);
    return s;
}

bool ends_sentence(const std::string& word) {
    if (word.empty()) return false;
    const char c = word.back();
    return c == '.' || c == '!' || c == '?' || c == ':' || c == ';';
}

bool has_digit(const std::string& word) {
    return word.find_first_of("0123456789") != std::string::npos;
}

std::vector<std::vector<std::string>> paragraphs_of(const std::string& text) {
    std::vector<std::vector<std::string>> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> ws;
        for (std::string w; words >> w;) ws.push_back(w);
        if (!ws.empty()) out.push_back(std::move(ws));
    }
    return out;
}

}  // namespace

laid_out_menu::laid_out_menu(std::shared_ptr<const menu> source, screen_profile profile)
    : source_(std::move(source)), profile_(std::move(profile)) {
    for (const auto& lang : source_->languages)
        for (const auto& [id, s] : source_->screens)
            if (s.kind != screen_kind::action) lay_out(s, lang.code);
}

bool laid_out_menu::fits(const std::string& text) const {
    text_size size = measure_text(with_sample_ref(text));
    std::size_t limit =
        size.encoding == text_encoding::gsm7 ? profile_.limit_gsm7 : profile_.limit_ucs2;
    return size.units <= limit;
}

const laid_out_screen* laid_out_menu::find(const std::string& screen_id,
                                           const std::string& lang) const {
    auto l = screens_.find(lang);
    if (l == screens_.end()) return nullptr;
    auto s = l->second.find(screen_id);
    return s == l->second.end() ? nullptr : &s->second;
}

void laid_out_menu::lay_out(const screen& s, const std::string& lang) {
    const menu& m = *source_;
    const bool root =
        s.id == m.start || s.id == m.home || (!m.sms_home.empty() && s.id == m.sms_home);
    const bool ends = s.kind == screen_kind::end;

    auto text_in = [&](const localized& texts) -> std::string {
        if (auto it = texts.find(lang); it != texts.end()) return it->second;
        if (auto it = texts.find(m.default_language); it != texts.end()) return it->second;
        return {};
    };

    std::vector<std::string> option_lines;
    if (s.kind == screen_kind::choice || s.kind == screen_kind::info) {
        for (std::size_t i = 0; i < s.options.size(); ++i)
            option_lines.push_back(std::to_string(i + 1) + " " + text_in(s.options[i].label));
    } else if (s.kind == screen_kind::language) {
        for (std::size_t i = 0; i < m.languages.size(); ++i)
            option_lines.push_back(std::to_string(i + 1) + " " + m.languages[i].name);
    }

    // The longest error line that may be shown above this screen's choices.
    std::string error_line = m.ui_text("invalid_option", lang);
    for (const std::string& e : {m.ui_text("empty_input", lang), text_in(s.error)})
        if (measure_text(e).units > measure_text(error_line).units) error_line = e;

    auto footer = [&](std::size_t page_no, bool last) {
        std::vector<std::string> lines;
        if (!last) lines.push_back(profile_.more_key + " " + m.ui_text("more", lang));
        // An end screen follows an action: nothing to go back or home to,
        // only its own earlier pages, and not from its last page, which
        // ends the session.
        if ((page_no > 0 && !(ends && last)) || (!root && !ends))
            lines.push_back(profile_.back_key + " " + m.ui_text("back", lang));
        if (!root && !ends) lines.push_back(profile_.home_key + " " + m.ui_text("home", lang));
        return lines;
    };
    auto compose = [&](const std::string& head, const std::vector<std::size_t>& opts,
                       std::size_t page_no, bool last) {
        std::vector<std::string> lines{head};
        for (auto i : opts) lines.push_back(option_lines[i]);
        for (auto& f : footer(page_no, last)) lines.push_back(std::move(f));
        return join_lines(lines);
    };
    auto page_fits = [&](const std::string& text, const std::vector<std::size_t>& opts,
                         std::size_t page_no, bool last) {
        if (!fits(compose(text, opts, page_no, last))) return false;
        // Under an error line the text (and if need be the navigation) is
        // dropped; the options must still fit.
        std::vector<std::string> lines{error_line};
        for (auto i : opts) lines.push_back(option_lines[i]);
        return fits(join_lines(lines));
    };

    laid_out_screen out;
    auto flush = [&](const std::string& text, const std::vector<std::size_t>& opts, bool last) {
        std::size_t page_no = out.pages.size();
        page p;
        p.body = compose(text, opts, page_no, last);
        p.text = text;
        p.choices = compose("", opts, page_no, last);
        std::vector<std::string> option_only;
        for (auto i : opts) option_only.push_back(option_lines[i]);
        p.options = join_lines(option_only);
        p.last = last;
        for (auto i : opts)
            p.inputs[std::to_string(i + 1)] = {page_input::choose, static_cast<int>(i)};
        if (!last) p.inputs[profile_.more_key] = {page_input::more};
        if ((page_no > 0 && !(ends && last)) || (!root && !ends))
            p.inputs[profile_.back_key] = {page_input::back};
        if (!root && !ends) p.inputs[profile_.home_key] = {page_input::home};
        out.pages.push_back(std::move(p));
    };
    auto cannot_fit = [&](const std::string& what) {
        diagnostics_.push_back({s.where, "screen '" + s.id + "' (" + lang + ", " + profile_.name +
                                             "): " + what +
                                             " cannot fit one screen even paginated"});
    };

    const std::string text = text_in(s.text);
    std::vector<std::size_t> all(option_lines.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;

    if (all.size() <= profile_.max_options_per_page && page_fits(text, all, 0, true)) {
        flush(text, all, true);
    } else {
        // Words with the separator before each ("\n" starts a paragraph).
        std::vector<std::pair<std::string, std::string>> words;
        for (const auto& para : paragraphs_of(text))
            for (std::size_t i = 0; i < para.size(); ++i)
                words.emplace_back(i == 0 ? "\n" : " ", para[i]);
        auto join = [&](std::size_t from, std::size_t to) {
            std::string t;
            for (std::size_t i = from; i < to; ++i)
                t += (t.empty() ? "" : words[i].first) + words[i].second;
            return t;
        };
        // The text's pages, the last one still open (options may join it).
        // `prefer`: a page ends after a sentence (or paragraph) in its second
        // half, else not right after a number or a code ("102ге | чалыңыз"
        // reads as two messages), else where the words run out.
        auto paginate = [&](bool prefer, bool report) {
            std::vector<std::string> pages;
            std::size_t page_start = 0;
            for (std::size_t i = 0; i < words.size(); ++i) {
                if (page_fits(join(page_start, i + 1), {}, pages.size(), false)) continue;
                if (i == page_start) {
                    if (report) cannot_fit("the word '" + words[i].second + "'");
                    continue;
                }
                std::size_t cut = i;  // the page holds words [page_start, cut)
                if (prefer) {
                    const std::size_t half = page_start + (i - page_start) / 2;
                    for (std::size_t k = i; k > half; --k)
                        if (ends_sentence(words[k - 1].second) || words[k].first == "\n") {
                            cut = k;
                            break;
                        }
                    if (cut == i && has_digit(words[i - 1].second) && i - 1 > page_start)
                        cut = i - 1;
                }
                pages.push_back(join(page_start, cut));
                page_start = cut;
            }
            pages.push_back(join(page_start, words.size()));
            return pages;
        };
        // Reading breaks are worth it only when they cost no extra page,
        // counting a page of its own for options that do not fit the last.
        auto total = [&](const std::vector<std::string>& pages) {
            const bool options_join = all.size() <= profile_.max_options_per_page &&
                                      page_fits(pages.back(), all, pages.size() - 1, true);
            return pages.size() + (all.empty() || options_join ? 0 : 1);
        };
        auto text_pages = paginate(true, false);
        if (auto plain = paginate(false, false); total(plain) < total(text_pages))
            text_pages = std::move(plain);
        paginate(false, true);  // reports words that cannot fit at all
        for (std::size_t k = 0; k + 1 < text_pages.size(); ++k) flush(text_pages[k], {}, false);
        std::string cur = text_pages.empty() ? std::string() : text_pages.back();
        std::vector<std::size_t> opts;
        // Options that fit one page together stay together: better the text
        // alone on a page than the choices split over two.
        const bool options_fit_together =
            !all.empty() && all.size() <= profile_.max_options_per_page &&
            page_fits("", all, out.pages.size() + (cur.empty() ? 0 : 1), true);
        if (all.size() <= profile_.max_options_per_page &&
            page_fits(cur, all, out.pages.size(), true)) {
            flush(cur, all, true);
        } else if (options_fit_together) {
            if (!cur.empty()) flush(cur, {}, false);
            flush("", all, true);
        } else {
            for (std::size_t k = 0; k < all.size(); ++k) {
                const std::size_t i = all[k];
                // Everything left fits this page as the last one (no "more")?
                std::vector<std::size_t> rest = opts;
                rest.insert(rest.end(), all.begin() + k, all.end());
                if (rest.size() <= profile_.max_options_per_page &&
                    page_fits(cur, rest, out.pages.size(), true)) {
                    opts = std::move(rest);
                    break;
                }
                auto cand = opts;
                cand.push_back(i);
                if (cand.size() <= profile_.max_options_per_page &&
                    page_fits(cur, cand, out.pages.size(), false)) {
                    opts = std::move(cand);
                    continue;
                }
                if (!cur.empty() || !opts.empty()) {
                    flush(cur, opts, false);
                    cur.clear();
                    opts.clear();
                }
                if (!page_fits("", {i}, out.pages.size(), false))
                    cannot_fit("option " + std::to_string(i + 1));
                opts.push_back(i);
            }
            flush(cur, opts, true);
        }
    }
    // A last page can still overflow when a single word or option is too long.
    for (const auto& p : out.pages)
        if (!fits(p.body)) {
            cannot_fit("a page");
            break;
        }
    screens_[lang][s.id] = std::move(out);
}

}  // namespace gw::menu

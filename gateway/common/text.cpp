#include "common/text.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace gw {
namespace {

// Decodes the next code point; returns false on malformed UTF-8.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::size_t len;
    if (c < 0x80) {
        cp = c;
        len = 1;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F;
        len = 2;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F;
        len = 3;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07;
        len = 4;
    } else {
        return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
        unsigned char cc = byte(i + k);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
    return true;
}

// GSM 03.38 basic character set (one septet each).
constexpr std::u32string_view gsm_basic =
    U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
// Extension table (escape + char: two septets each).
constexpr std::u32string_view gsm_extension = U"^{}\\[~]|€\f";

int gsm_septets(char32_t cp) {
    if (gsm_basic.find(cp) != std::u32string_view::npos) return 1;
    if (gsm_extension.find(cp) != std::u32string_view::npos) return 2;
    return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    char32_t cp;
    while (i < s.size())
        if (!next_code_point(s, i, cp)) return false;
    return true;
}

bool is_gsm7(std::string_view s) {
    std::size_t i = 0;
    char32_t cp;
    while (i < s.size()) {
        if (!next_code_point(s, i, cp) || gsm_septets(cp) == 0) return false;
    }
    return true;
}

text_size measure_text(std::string_view s) {
    std::size_t septets = 0, utf16 = 0, i = 0;
    bool gsm = true;
    char32_t cp;
    while (i < s.size()) {
        if (!next_code_point(s, i, cp)) {
            // Invalid bytes are counted as one replacement character each.
            ++i;
            cp = 0xFFFD;
        }
        int n = gsm_septets(cp);
        if (n == 0) gsm = false;
        septets += n;
        utf16 += cp > 0xFFFF ? 2 : 1;
    }
    if (gsm) return {text_encoding::gsm7, septets};
    return {text_encoding::ucs2, utf16};
}

sms_size measure_sms(std::string_view s) {
    text_size t = measure_text(s);
    std::size_t single = t.encoding == text_encoding::gsm7 ? 160 : 70;
    std::size_t part = t.encoding == text_encoding::gsm7 ? 153 : 67;
    std::size_t segments = t.units <= single ? 1 : (t.units + part - 1) / part;
    return {t.encoding, t.units, segments};
}

std::size_t count_code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string from_utf16be(std::string_view bytes) {
    std::string out;
    auto unit = [&](std::size_t i) {
        return static_cast<char32_t>((static_cast<unsigned char>(bytes[i]) << 8) |
                                     static_cast<unsigned char>(bytes[i + 1]));
    };
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        char32_t u = unit(i);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size() && unit(i + 2) >= 0xDC00 &&
            unit(i + 2) <= 0xDFFF) {
            append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (unit(i + 2) - 0xDC00));
            i += 2;
        } else {
            append_utf8(out, u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : u);
        }
    }
    if (i < bytes.size()) append_utf8(out, 0xFFFD);
    return out;
}

std::string to_utf16be(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size() * 2);
    auto put = [&](char32_t u) {
        out += static_cast<char>(u >> 8);
        out += static_cast<char>(u & 0xFF);
    };
    std::size_t i = 0;
    char32_t cp;
    while (i < utf8.size()) {
        if (!next_code_point(utf8, i, cp)) {
            ++i;
            cp = 0xFFFD;
        }
        if (cp > 0xFFFF) {
            cp -= 0x10000;
            put(0xD800 + (cp >> 10));
            put(0xDC00 + (cp & 0x3FF));
        } else {
            put(cp);
        }
    }
    return out;
}

std::optional<std::string> to_gsm7_unpacked(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size());
    std::size_t i = 0;
    char32_t cp;
    while (i < utf8.size()) {
        if (!next_code_point(utf8, i, cp)) return std::nullopt;
        if (auto k = gsm_basic.find(cp); k != std::u32string_view::npos) {
            out += static_cast<char>(k < 0x1B ? k : k + 1);  // 0x1B is the escape
        } else if (auto e = gsm_extension.find(cp); e != std::u32string_view::npos) {
            static constexpr char ext_codes[] = {0x14, 0x28, 0x29, 0x2F, 0x3C,
                                                 0x3D, 0x3E, 0x40, 0x65, 0x0A};
            out += '\x1B';
            out += ext_codes[e];
        } else {
            return std::nullopt;
        }
    }
    return out;
}

std::string from_gsm7_unpacked(std::string_view septets) {
    std::string out;
    for (std::size_t i = 0; i < septets.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(septets[i]) & 0x7F;
        if (c == 0x1B && i + 1 < septets.size()) {
            static constexpr std::pair<unsigned char, char32_t> ext[] = {
                {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'}, {0x3C, U'['},
                {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'€'},  {0x0A, U'\f'}};
            unsigned char n = static_cast<unsigned char>(septets[++i]) & 0x7F;
            char32_t cp = U'?';
            for (const auto& [code, ch] : ext)
                if (code == n) cp = ch;
            append_utf8(out, cp);
            continue;
        }
        // gsm_basic leaves out the escape (0x1B): codes above it sit one lower.
        append_utf8(out, c < 0x1B ? gsm_basic[c] : c > 0x1B ? gsm_basic[c - 1] : U'?');
    }
    return out;
}

std::string from_latin1(std::string_view bytes) {
    std::string out;
    for (unsigned char b : bytes) append_utf8(out, b);
    return out;
}

namespace {
char32_t lower(char32_t c) {
    if (c >= U'A' && c <= U'Z') return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;               // А..Я
    if (c >= 0x400 && c <= 0x40F) return c + 80;               // Ѐ..Џ (Ё)
    if (c == 0x4A2 || c == 0x4E8 || c == 0x4AE) return c + 1;  // Ң Ө Ү
    return c;
}
}  // namespace

std::string fold_case(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    char32_t cp;
    while (i < s.size()) {
        if (!next_code_point(s, i, cp)) {
            out += s[i++];
            continue;
        }
        append_utf8(out, lower(cp));
    }
    return out;
}

std::string_view trim(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return s;
}

std::string escape_markup(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";  // &apos; is XML's; this one is HTML's too
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace gw

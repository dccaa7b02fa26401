#pragma once
// Text measurement for phone screens and SMS: UTF-8 validation and the
// length of a text in the units a handset counts (GSM-7 septets or UCS-2
// code units). All functions expect UTF-8 input.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

bool is_valid_utf8(std::string_view s);
// Appends one code point as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// True when every character is in the GSM 03.38 default alphabet or its
// extension table, so the text can travel as 7-bit GSM.
bool is_gsm7(std::string_view s);

enum class text_encoding { gsm7, ucs2 };

struct text_size {
    text_encoding encoding;
    std::size_t units;  // septets for GSM-7 (extension chars count 2), UTF-16 units for UCS-2
};

text_size measure_text(std::string_view s);

struct sms_size {
    text_encoding encoding;
    std::size_t units;
    std::size_t segments;  // 160/153 for GSM-7, 70/67 for UCS-2
};

sms_size measure_sms(std::string_view s);

// The wire forms SMS and USSD travel in (SMPP short_message, Kannel).
// UCS-2 / UTF-16BE as phones send Cyrillic: a broken pair or an odd last
// byte becomes U+FFFD rather than losing the whole message.
std::string from_utf16be(std::string_view bytes);
// UTF-16BE of valid UTF-8 (invalid bytes become U+FFFD).
std::string to_utf16be(std::string_view utf8);
// GSM 03.38 septets, one per byte (unpacked; extension characters as
// 0x1B + code), as SMSCs take data_coding 0. Empty optional when a
// character is outside the alphabet.
std::optional<std::string> to_gsm7_unpacked(std::string_view utf8);
// The reverse; a septet with no character becomes '?'.
std::string from_gsm7_unpacked(std::string_view septets);
// ISO 8859-1 bytes to UTF-8.
std::string from_latin1(std::string_view bytes);

// Number of Unicode code points (for free-text length rules).
std::size_t count_code_points(std::string_view s);

// Lower-cases Latin and Cyrillic letters (incl. Kyrgyz ң ө ү) so that
// keywords match whatever case a phone sends; other characters stay.
std::string fold_case(std::string_view s);

// Trims ASCII white space at both ends.
std::string_view trim(std::string_view s);

// Text made safe inside XML or HTML, element content or a quoted
// attribute: & < > " ' become character references (TwiML replies, the
// menu preview).
std::string escape_markup(std::string_view s);

}  // namespace gw

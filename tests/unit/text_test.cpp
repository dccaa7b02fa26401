#include "common/text.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Text, ValidUtf8) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("hello"));
    EXPECT_TRUE(is_valid_utf8("Жардам ПОМОЩЬ ңөү"));
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // emoji
}

TEST(Text, InvalidUtf8) {
    EXPECT_FALSE(is_valid_utf8("\xFF"));
    EXPECT_FALSE(is_valid_utf8("\xC3"));              // truncated
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(is_valid_utf8("ok\x80"));
}

TEST(Text, Gsm7Detection) {
    EXPECT_TRUE(is_gsm7("Hello, world! 123"));
    EXPECT_TRUE(is_gsm7("O'zbekcha"));
    EXPECT_TRUE(is_gsm7("price €5 [x]"));
    EXPECT_FALSE(is_gsm7("Привет"));
    EXPECT_FALSE(is_gsm7("ң"));
}

TEST(Text, MeasuresGsm7InSeptets) {
    auto t = measure_text("abc");
    EXPECT_EQ(t.encoding, text_encoding::gsm7);
    EXPECT_EQ(t.units, 3u);
    EXPECT_EQ(measure_text("€").units, 2u);  // extension table: escape + char
    EXPECT_EQ(measure_text("{}").units, 4u);
}

TEST(Text, MeasuresCyrillicInUcs2Units) {
    auto t = measure_text("Жардам 1");
    EXPECT_EQ(t.encoding, text_encoding::ucs2);
    EXPECT_EQ(t.units, 8u);
    EXPECT_EQ(measure_text("\xF0\x9F\x98\x80").units, 2u);  // surrogate pair
}

TEST(Text, SmsSegments) {
    EXPECT_EQ(measure_sms(std::string(160, 'a')).segments, 1u);
    EXPECT_EQ(measure_sms(std::string(161, 'a')).segments, 2u);
    EXPECT_EQ(measure_sms(std::string(306, 'a')).segments, 2u);
    EXPECT_EQ(measure_sms(std::string(307, 'a')).segments, 3u);
    std::string cyr;
    for (int i = 0; i < 70; ++i) cyr += "ж";
    EXPECT_EQ(measure_sms(cyr).segments, 1u);
    EXPECT_EQ(measure_sms(cyr + "ж").segments, 2u);
}

TEST(Text, CountsCodePointsAndTrims) {
    EXPECT_EQ(count_code_points("Жок"), 3u);
    EXPECT_EQ(trim("  1 \r\n"), "1");
    EXPECT_EQ(trim(""), "");
}

TEST(Text, MarkupEscapingLeavesNoTagNorQuoteOpen) {
    EXPECT_EQ(gw::escape_markup("Сиз <b>\"R-1\" & 'A'</b>"),
              "Сиз &lt;b&gt;&quot;R-1&quot; &amp; &#39;A&#39;&lt;/b&gt;");
    EXPECT_EQ(gw::escape_markup("plain"), "plain");
}

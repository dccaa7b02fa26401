#include "common/form.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Form, ParsesFieldsAndDecodes) {
    auto f = parse_form("sessionId=ATUid_1&phoneNumber=%2B996555123456&text=1*2&empty=&a+b=c+d");
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->find("sessionId"), "ATUid_1");
    EXPECT_EQ(*f->find("phoneNumber"), "+996555123456");
    EXPECT_EQ(*f->find("text"), "1*2");
    EXPECT_EQ(*f->find("empty"), "");
    EXPECT_EQ(*f->find("a b"), "c d");
    EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Form, DecodesUtf8) {
    auto f = parse_form("text=%D0%96%D0%BE%D0%BA");
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->find("text"), "Жок");
}

TEST(Form, RejectsMalformedEscapes) {
    EXPECT_FALSE(parse_form("text=%"));
    EXPECT_FALSE(parse_form("text=%4"));
    EXPECT_FALSE(parse_form("text=%zz"));
    EXPECT_FALSE(parse_form("=value"));
}

TEST(Form, ToleratesEmptyPairsAndFieldsWithoutValue) {
    auto f = parse_form("&&a&b=1&");
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->find("a"), "");
    EXPECT_EQ(*f->find("b"), "1");
}

TEST(Form, EncodeRoundTrips) {
    std::string s = "R-1 +996 Жок&=*";
    EXPECT_EQ(url_decode_component(url_encode_component(s)), s);
    EXPECT_FALSE(url_decode_component("100%"));
    EXPECT_FALSE(url_decode_component("%zz"));
}

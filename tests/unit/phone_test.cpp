#include "common/phone.hpp"

#include <gtest/gtest.h>

using namespace gw;

namespace {
phone_normalizer kg() {
    return phone_normalizer("KG", {"KG", "RU", "KZ"});
}
}  // namespace

TEST(Phone, KyrgyzNumbersInAnyCommonFormat) {
    auto p = kg();
    EXPECT_EQ(p.to_e164("+996555123456"), "+996555123456");
    EXPECT_EQ(p.to_e164("0555 123 456"), "+996555123456");
    EXPECT_EQ(p.to_e164("996555123456"), "+996555123456");  // '+' dropped by aggregator
    EXPECT_EQ(p.to_e164("+996 (700) 12-34-56"), "+996700123456");
}

TEST(Phone, RussianAndKazakhNumbersAccepted) {
    auto p = kg();
    EXPECT_EQ(p.to_e164("+79161234567"), "+79161234567");
    EXPECT_EQ(p.to_e164("+77011234567"), "+77011234567");
}

TEST(Phone, OtherRegionsAndGarbageRefused) {
    auto p = kg();
    EXPECT_EQ(p.to_e164("+4915112345678"), std::nullopt);  // Germany: not allowed here
    EXPECT_EQ(p.to_e164(""), std::nullopt);
    EXPECT_EQ(p.to_e164("hello"), std::nullopt);
    EXPECT_EQ(p.to_e164("+996"), std::nullopt);
    EXPECT_EQ(p.to_e164(std::string(100, '9')), std::nullopt);
}

TEST(Phone, AnyRegionWhenListEmpty) {
    phone_normalizer p("KG", {});
    EXPECT_EQ(p.to_e164("+4915112345678"), "+4915112345678");
}

TEST(Phone, MaskKeepsOnlyLastThreeDigits) {
    EXPECT_EQ(mask_phone("+996555123456"), "+*********456");
    EXPECT_EQ(mask_phone("12"), "12");
    EXPECT_EQ(mask_phone("abc0555"), "****555");
    EXPECT_EQ(mask_phone(""), "");
}

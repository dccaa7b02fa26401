#include "common/sealing.hpp"

#include <gtest/gtest.h>

#include "support/test_sealer.hpp"

using namespace gw;

TEST(Sealing, RoundTripsWithFreshNonces) {
    const auto& s = test::test_sealer();
    auto a = s.seal("+996555123456"), b = s.seal("+996555123456");
    EXPECT_NE(a, b) << "equal numbers must not give equal blobs";
    EXPECT_EQ(a.find("996555123456"), std::string::npos);
    EXPECT_EQ(s.open(a).value(), "+996555123456");
    EXPECT_EQ(s.seal(""), "");
    EXPECT_EQ(s.open("").value(), "");
}

TEST(Sealing, RefusesAlteredBlobsAndOtherKeys) {
    const auto& s = test::test_sealer();
    auto blob = s.seal("her words");
    blob[blob.size() - 1] ^= 1;
    EXPECT_FALSE(s.open(blob));
    EXPECT_FALSE(s.open("short"));
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    EXPECT_FALSE(other.open(s.seal("her words")));
    EXPECT_NE(other.key_id(), s.key_id());
}

TEST(Sealing, LookupHashIsKeyedAndStable) {
    const auto& s = test::test_sealer();
    EXPECT_EQ(s.lookup_hash("+996555123456"), s.lookup_hash("+996555123456"));
    EXPECT_NE(s.lookup_hash("+996555123456"), s.lookup_hash("+996555123457"));
    EXPECT_EQ(s.lookup_hash("x").size(), 32u);
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    EXPECT_NE(other.lookup_hash("+996555123456"), s.lookup_hash("+996555123456"));
}

TEST(Sealing, KeyMustBe64Hex) {
    EXPECT_FALSE(data_sealer::from_hex("abc"));
    EXPECT_FALSE(data_sealer::from_hex(std::string(64, 'z')));
    EXPECT_TRUE(data_sealer::from_hex(std::string(64, 'a')));
    EXPECT_EQ(data_sealer::generate_hex_key().size(), 64u);
}

#pragma once
// The data key of test databases: write_test_config puts the same key in
// every test config, so tests can open what a gateway process wrote.
#include "common/sealing.hpp"

namespace gw::test {

inline constexpr const char* test_data_key =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

inline const data_sealer& test_sealer() {
    static const data_sealer sealer = *data_sealer::from_hex(test_data_key);
    return sealer;
}

}  // namespace gw::test

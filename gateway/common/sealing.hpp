#pragma once
// Protection of personal data at rest (libsodium). A woman's number and
// free text are sealed with XChaCha20-Poly1305 (random nonce, so equal
// numbers give different blobs) and found again through a keyed BLAKE2b
// hash. The key lives in the environment or a key file, never in the
// database: a copied database file alone reveals no number.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace gw {

class data_sealer {
  public:
    static constexpr std::size_t key_bytes = 32;

    // From 64 hex characters; an error names what is wrong (never the key).
    static result<data_sealer> from_hex(std::string_view hex);
    // A fresh random key as 64 hex characters.
    static std::string generate_hex_key();

    // "" stays "" (nothing to hide, and cheap to test for).
    std::string seal(std::string_view plain) const;
    // nullopt when the blob was not sealed with this key or was altered.
    std::optional<std::string> open(std::string_view sealed) const;
    // Deterministic, keyed: the same value gives the same 32 hex characters.
    std::string lookup_hash(std::string_view value) const;
    // The keyed hash of a number's last `number_ending_digits` digits, by
    // which an operator finds her case when she reads them out: many cases
    // share an ending, and the digits themselves are never stored. "" when
    // the number has fewer digits.
    static constexpr std::size_t number_ending_digits = 4;
    std::string number_ending_hash(std::string_view number) const;
    // A value that identifies the key without revealing it, for a
    // "wrong key for this database" check at start-up.
    std::string key_id() const;

  private:
    data_sealer() = default;
    std::array<unsigned char, key_bytes> seal_key_{};
    std::array<unsigned char, key_bytes> hash_key_{};
};

}  // namespace gw

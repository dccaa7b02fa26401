#include "common/sealing.hpp"

#include <sodium.h>

#include <stdexcept>

namespace gw {
namespace {

void ensure_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium could not be initialised");
}

// Sub-key contexts: the one master key never touches data directly.
constexpr char kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "gwdata01";
constexpr std::uint64_t seal_subkey = 1, hash_subkey = 2;

std::string to_hex(const unsigned char* p, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}

}  // namespace

result<data_sealer> data_sealer::from_hex(std::string_view hex) {
    ensure_sodium();
    std::array<unsigned char, key_bytes> master{};
    std::size_t len = 0;
    if (hex.size() != key_bytes * 2 ||
        sodium_hex2bin(master.data(), master.size(), hex.data(), hex.size(), nullptr, &len,
                       nullptr) != 0 ||
        len != key_bytes)
        return failure{"the data key must be 64 hexadecimal characters (32 bytes)"};
    data_sealer s;
    crypto_kdf_derive_from_key(s.seal_key_.data(), key_bytes, seal_subkey, kdf_context,
                               master.data());
    crypto_kdf_derive_from_key(s.hash_key_.data(), key_bytes, hash_subkey, kdf_context,
                               master.data());
    sodium_memzero(master.data(), master.size());
    return s;
}

std::string data_sealer::generate_hex_key() {
    ensure_sodium();
    std::array<unsigned char, key_bytes> key{};
    randombytes_buf(key.data(), key.size());
    std::string hex = to_hex(key.data(), key.size());
    sodium_memzero(key.data(), key.size());
    return hex;
}

std::string data_sealer::seal(std::string_view plain) const {
    if (plain.empty()) return {};
    constexpr std::size_t nonce_bytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    std::string out(nonce_bytes + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(nonce, nonce_bytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + nonce_bytes, &written, reinterpret_cast<const unsigned char*>(plain.data()),
        plain.size(), nullptr, 0, nullptr, nonce, seal_key_.data());
    out.resize(nonce_bytes + written);
    return out;
}

std::optional<std::string> data_sealer::open(std::string_view sealed) const {
    if (sealed.empty()) return std::string();
    constexpr std::size_t nonce_bytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    constexpr std::size_t tag_bytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (sealed.size() < nonce_bytes + tag_bytes) return std::nullopt;
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string out(sealed.size() - nonce_bytes - tag_bytes, '\0');
    unsigned long long written = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(out.data()), &written, nullptr, nonce + nonce_bytes,
            sealed.size() - nonce_bytes, nullptr, 0, nonce, seal_key_.data()) != 0)
        return std::nullopt;
    out.resize(written);
    return out;
}

std::string data_sealer::lookup_hash(std::string_view value) const {
    unsigned char digest[16];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(value.data()),
                       value.size(), hash_key_.data(), hash_key_.size());
    return to_hex(digest, sizeof digest);
}

std::string data_sealer::number_ending_hash(std::string_view number) const {
    std::string digits;
    for (char c : number)
        if (c >= '0' && c <= '9') digits += c;
    if (digits.size() < number_ending_digits) return {};
    // Its own domain, so an ending never collides with a whole number's hash.
    return lookup_hash("number-ending:" + digits.substr(digits.size() - number_ending_digits));
}

std::string data_sealer::key_id() const {
    unsigned char digest[16];
    static constexpr unsigned char label[] = "hotline-gateway key id";
    crypto_generichash(digest, sizeof digest, label, sizeof label - 1, hash_key_.data(),
                       hash_key_.size());
    return to_hex(digest, sizeof digest);
}

}  // namespace gw

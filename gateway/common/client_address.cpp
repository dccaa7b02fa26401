#include "common/client_address.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <optional>

#include "common/text.hpp"

namespace gw {
namespace {

std::string without_mapping(std::string a) {
    if (a.rfind("::ffff:", 0) == 0 && a.find('.') != std::string::npos) a.erase(0, 7);
    return a;
}

std::optional<std::uint32_t> ipv4(const std::string& a) {
    in_addr out{};
    if (::inet_pton(AF_INET, a.c_str(), &out) != 1) return std::nullopt;
    return ntohl(out.s_addr);
}

std::optional<std::string> ipv6_bytes(const std::string& a) {
    in6_addr out{};
    if (::inet_pton(AF_INET6, a.c_str(), &out) != 1) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(&out), sizeof out);
}

bool matches(const std::string& address, const std::string& pattern) {
    const std::string a = without_mapping(address);
    if (auto slash = pattern.find('/'); slash != std::string::npos) {
        auto net = ipv4(pattern.substr(0, slash));
        auto ip = ipv4(a);
        int bits = -1;
        try {
            bits = std::stoi(pattern.substr(slash + 1));
        } catch (const std::exception&) {
        }
        if (!net || !ip || bits < 0 || bits > 32) return false;
        const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        return (*net & mask) == (*ip & mask);
    }
    const std::string p = without_mapping(pattern);
    if (auto ip = ipv4(a)) return ipv4(p) == ip;
    auto ip6 = ipv6_bytes(a);
    return ip6 && ipv6_bytes(p) == ip6;
}

}  // namespace

bool valid_address_pattern(const std::string& pattern) {
    if (auto slash = pattern.find('/'); slash != std::string::npos) {
        const std::string bits = pattern.substr(slash + 1);
        if (bits.empty() || bits.size() > 2 ||
            bits.find_first_not_of("0123456789") != std::string::npos)
            return false;
        return ipv4(pattern.substr(0, slash)) && std::stoi(bits) <= 32;
    }
    return ipv4(without_mapping(pattern)) || ipv6_bytes(pattern);
}

bool address_in(const std::string& address, const std::vector<std::string>& patterns) {
    for (const auto& p : patterns)
        if (matches(address, p)) return true;
    return false;
}

std::string client_address(const std::string& peer, const std::string* forwarded_for,
                           const std::vector<std::string>& trusted_proxies) {
    if (!forwarded_for || !address_in(peer, trusted_proxies)) return peer;
    std::string client = peer;
    std::string_view rest = *forwarded_for;
    while (!rest.empty()) {
        auto comma = rest.rfind(',');
        std::string entry(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        if (!valid_address_pattern(entry) || entry.find('/') != std::string::npos)
            break;  // garbage: trust nothing further left
        client = entry;
        if (!address_in(entry, trusted_proxies)) break;
    }
    return client;
}

}  // namespace gw

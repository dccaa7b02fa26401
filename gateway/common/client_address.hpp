#pragma once
// Who a request comes from. Behind a reverse proxy every peer is the
// proxy, so X-Forwarded-For is read, but only when the peer is a proxy
// the config trusts (anyone else could write that header).
#include <string>
#include <vector>

namespace gw {

// An address pattern: an exact IPv4 or IPv6 address, or an IPv4 CIDR
// block such as "196.201.214.0/24".
bool valid_address_pattern(const std::string& pattern);

// Whether `address` matches one of `patterns` (IPv4-mapped IPv6 forms such
// as "::ffff:10.0.0.1" count as their IPv4 address).
bool address_in(const std::string& address, const std::vector<std::string>& patterns);

// The client's address: the peer's own, unless the peer is a trusted
// proxy; then the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries to its left were written by the client).
std::string client_address(const std::string& peer, const std::string* forwarded_for,
                           const std::vector<std::string>& trusted_proxies);

}  // namespace gw

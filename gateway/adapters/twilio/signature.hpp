#pragma once
// Twilio's callback signature (X-Twilio-Signature), the auth scheme
// "twilio_signature": Base64(HMAC-SHA1(auth token, URL + sorted POST params)).
#include <string>
#include <vector>

#include "adapters/outbound_adapter.hpp"
#include "http/message.hpp"

namespace gw::adapters::twilio {

// The base URL forms a signature may cover: as configured, and with the
// scheme's default port (:443, :80) added or removed, as Twilio's own
// validators accept.
std::vector<std::string> url_forms(const std::string& base);

// The request carries a valid signature for the channel's auth token and public URL.
bool signature_ok(const http::request& req, const channel_settings& c);

}  // namespace gw::adapters::twilio

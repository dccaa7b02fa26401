#pragma once
// Partner webhooks signed per the Standard Webhooks scheme: headers
// webhook-id, webhook-timestamp and webhook-signature = "v1,<base64
// HMAC-SHA256 of id.timestamp.body>", keyed with the base64 part of a
// "whsec_..." secret. Queued in the outbox like SMS (channel
// "webhook:<partner>"), so they are retried with backoff.
#include <memory>
#include <optional>
#include <string>

#include "adapters/outbound_adapter.hpp"

namespace gw::adapters {

// "v1,<signature>" or nullopt when the secret is not a valid whsec_ key.
std::optional<std::string> sign_webhook(const std::string& secret, const std::string& id,
                                        long long timestamp, const std::string& body);

// Checks a signature header (space-separated "v1,..." entries) and that the
// timestamp is within `tolerance_s` of `now`.
bool verify_webhook(const std::string& secret, const std::string& id, long long timestamp,
                    const std::string& body, const std::string& signature_header, long long now,
                    long long tolerance_s = 300);

std::unique_ptr<outbound_adapter> make_webhook_sender();

}  // namespace gw::adapters

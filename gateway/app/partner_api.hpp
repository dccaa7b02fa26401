#pragma once
// The partner API (JSON over HTTP, /api/partner/v1/..., documented in
// gateway/api/openapi.yaml). Each partner authenticates with its own
// bearer token and sees and changes only its own referrals: another
// partner's referral answers 404, exactly like one that does not exist.
// A woman's number is shown only when she consented for that case.
#include <string>
#include <utility>
#include <vector>

#include "http/message.hpp"
#include "service/referral_service.hpp"
#include "store/store.hpp"

namespace gw::app {

inline constexpr const char* partner_api_prefix = "/api/partner/v1/";

// One route table (route_table.hpp): an unknown path is 404, a known one
// with another method 405 with Allow.
http::response handle_partner_api(const http::request& req, service::referral_service& referrals,
                                  store::store& store);

// Every route as (method, pattern relative to the prefix), for tests and
// the OpenAPI check: "referrals/{key}/status".
std::vector<std::pair<std::string, std::string>> partner_api_routes();

}  // namespace gw::app

#pragma once
// The operator API (JSON over HTTP, /api/operator/v1/..., documented in
// gateway/api/openapi.yaml) behind the web console. Log-in gives a
// bearer token that expires; every other call needs it. What a caller may
// do is decided by the services (roles, claims), not here: this layer
// only translates between HTTP and them.
#include <string>
#include <utility>
#include <vector>

#include "http/message.hpp"
#include "service/hotline_service.hpp"
#include "service/operator_accounts.hpp"

namespace gw::app {

inline constexpr const char* operator_api_prefix = "/api/operator/v1/";

// One route table (route_table.hpp): an unknown path is 404, a known one
// with another method 405 with Allow.
http::response handle_operator_api(const http::request& req, service::operator_accounts& accounts,
                                   service::hotline_service& hotline);

// Every route as (method, pattern relative to the prefix), for tests and
// the OpenAPI check: "cases/{reference}/claim".
std::vector<std::pair<std::string, std::string>> operator_api_routes();

}  // namespace gw::app

#pragma once
// JSON request and response helpers shared by the partner and operator
// APIs: errors are {"error": reason, "code": key}, never internals. The
// reason is English for people reading logs; `code` is a stable key that
// clients translate (the console's dictionary has apierr.<code>).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/errc.hpp"
#include "http/message.hpp"

namespace gw::app {

http::response json_response(int status, const nlohmann::json& body);
// `code` empty: the generic one for the status (bad_request, unauthorized,
// forbidden, not_found, method_not_allowed, conflict, too_large, too_many,
// unavailable).
http::response json_error(int status, const std::string& reason, const std::string& code = "");
std::string error_code_for(int status);
// A path no route of a table takes with this method: 404 when no route
// takes the path at all (`allow` empty), else 405 with Allow.
http::response json_no_route(const std::string& allow);
// The one place a service's refusal becomes HTTP: its status, and the
// error body (with Retry-After when the refusal says when).
int http_status(errc kind);
http::response json_error(const action_error& refusal);
// The body as a JSON object; nullopt (and `error` set) when it is not one.
std::optional<nlohmann::json> json_object_body(const http::request& req, http::response& error);
// A string member, "" when absent or not a string.
std::string json_string(const nlohmann::json& body, const char* key);

}  // namespace gw::app

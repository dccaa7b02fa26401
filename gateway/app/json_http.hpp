#pragma once
// JSON request and response helpers shared by the partner and operator
// APIs: errors are {"error": reason}, never internals.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "http/message.hpp"

namespace gw::app {

http::response json_response(int status, const nlohmann::json& body);
http::response json_error(int status, const std::string& reason);
// The body as a JSON object; nullopt (and `error` set) when it is not one.
std::optional<nlohmann::json> json_object_body(const http::request& req, http::response& error);
// A string member, "" when absent or not a string.
std::string json_string(const nlohmann::json& body, const char* key);

}  // namespace gw::app

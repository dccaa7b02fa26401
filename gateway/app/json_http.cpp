#include "app/json_http.hpp"

#include "common/text.hpp"

namespace gw::app {

using nlohmann::json;

http::response json_response(int status, const json& body) {
    http::response r;
    r.status = status;
    r.content_type = "application/json";
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

std::string error_code_for(int status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return "conflict";
        case 413:
            return "too_large";
        case 429:
            return "too_many";
        case 503:
            return "unavailable";
        default:
            return status >= 500 ? "unavailable" : "bad_request";
    }
}

int http_status(errc kind) {
    switch (kind) {
        case errc::bad_request:
            return 400;
        case errc::unauthorized:
            return 401;
        case errc::forbidden:
            return 403;
        case errc::not_found:
            return 404;
        case errc::conflict:
            return 409;
        case errc::too_many:
            return 429;
        case errc::unavailable:
            return 503;
    }
    return 400;
}

http::response json_no_route(const std::string& allow) {
    if (allow.empty()) return json_error(404, "not found");
    auto r = json_error(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
}

http::response json_error(const action_error& refusal) {
    auto r = json_error(http_status(refusal.kind), refusal.reason, refusal.code);
    if (refusal.retry_after > 0)
        r.headers.emplace_back("Retry-After", std::to_string(refusal.retry_after));
    return r;
}

http::response json_error(int status, const std::string& reason, const std::string& code) {
    return json_response(
        status, {{"error", reason}, {"code", code.empty() ? error_code_for(status) : code}});
}

std::optional<json> json_object_body(const http::request& req, http::response& error) {
    if (!is_valid_utf8(req.body)) {
        error = json_error(400, "body is not UTF-8");
        return std::nullopt;
    }
    json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        error = json_error(400, "malformed JSON: expected an object");
        return std::nullopt;
    }
    return body;
}

std::string json_string(const json& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace gw::app

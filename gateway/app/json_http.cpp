#include "app/json_http.hpp"

#include <utility>

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

namespace {

// One row per kind of refusal: its HTTP status and the code its JSON body
// names. Both directions read this table.
struct kind_row {
    errc kind;
    int status;
    const char* code;
};
constexpr kind_row kinds[] = {
    {errc::bad_request, 400, "bad_request"}, {errc::unauthorized, 401, "unauthorized"},
    {errc::forbidden, 403, "forbidden"},     {errc::not_found, 404, "not_found"},
    {errc::conflict, 409, "conflict"},       {errc::too_many, 429, "too_many"},
    {errc::unavailable, 503, "unavailable"},
};
// Statuses the HTTP layer answers that no service refusal has.
constexpr std::pair<int, const char*> other_statuses[] = {{405, "method_not_allowed"},
                                                          {413, "too_large"}};

}  // namespace

std::string error_code_for(int status) {
    for (const auto& k : kinds)
        if (k.status == status) return k.code;
    for (const auto& [s, code] : other_statuses)
        if (s == status) return code;
    return status >= 500 ? "unavailable" : "bad_request";
}

int http_status(errc kind) {
    for (const auto& k : kinds)
        if (k.kind == kind) return k.status;
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

#pragma once
// Plain HTTP request/response values exchanged between the Beast server
// and the rest of the gateway, so that adapters and routing compile
// without Beast.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

struct request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query as received
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address;

    // Case-insensitive header look-up; nullptr when absent. The first
    // line only: for a header a proxy appends to, use header_list.
    const std::string* header(std::string_view name) const;
    // Every line of a header joined by ", " in the order received (what
    // HTTP says repeated lines mean); nullopt when absent.
    std::optional<std::string> header_list(std::string_view name) const;
};

struct response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// A response for machines: status and a short reason, never internals.
response error_response(int status, std::string reason);

// Splits a request target into path and query.
void split_target(request& r);

}  // namespace gw::http

#include "app/static_files.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace gw::app {
namespace {

const std::map<std::string, std::string>& content_types() {
    static const std::map<std::string, std::string> types = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
    };
    return types;
}

bool plain_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 && name[0] != '.' &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                      c == '-';
           });
}

void add_security_headers(http::response& r) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Cache-Control", "no-cache");
}

}  // namespace

http::response serve_console_file(const std::string& directory, const std::string& chart_library,
                                  const http::request& req) {
    if (req.method != "GET" && req.method != "HEAD")
        return http::error_response(405, "method not allowed");
    const std::string prefix = std::string(console_prefix) + "/";
    if (req.path == console_prefix) {
        http::response r = http::error_response(301, "moved");
        r.headers.emplace_back("Location", prefix);
        return r;
    }
    std::string name = req.path.substr(prefix.size());
    if (name.empty()) name = "index.html";
    std::string file = directory + "/" + name;
    if (name == "vendor/chart.js") {
        file = chart_library;
    } else if (!plain_name(name)) {
        return http::error_response(404, "not found");
    }
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) return http::error_response(404, "not found");
    auto type = content_types().find(name.substr(dot));
    if (type == content_types().end()) return http::error_response(404, "not found");
    std::ifstream in(file, std::ios::binary);
    if (!in) return http::error_response(404, "not found");
    std::ostringstream body;
    body << in.rdbuf();
    http::response r;
    r.content_type = type->second;
    r.body = body.str();
    add_security_headers(r);
    return r;
}

}  // namespace gw::app

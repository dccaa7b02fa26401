#pragma once
// The web console's static files, served from one directory: plain file
// names only (no sub-folders, no "..") and known types, with headers that
// keep the browser from running anything but the console's own scripts.
#include <string>

#include "http/message.hpp"

namespace gw::app {

inline constexpr const char* console_prefix = "/console";

// `path` is the request path (/console, /console/, /console/app.js, ...).
http::response serve_console_file(const std::string& directory, const http::request& req);

}  // namespace gw::app

#pragma once
// The web console's static files, served from one directory: plain file
// names only (no sub-folders, no "..") and known types, with headers that
// keep the browser from running anything but the console's own scripts.
// The dashboard's chart library is the one exception: /console/vendor/chart.js
// is the file the config names (Debian's libjs-chart.js), so the console
// needs no CDN and works on an offline hotline LAN.
#include <string>

#include "http/message.hpp"

namespace gw::app {

inline constexpr const char* console_prefix = "/console";

// `path` is the request path (/console, /console/, /console/app.js, ...).
http::response serve_console_file(const std::string& directory, const std::string& chart_library,
                                  const http::request& req);

}  // namespace gw::app

#pragma once
// The programme dashboard over HTTP (issue #15), under the operator API:
//   GET dashboard?from=YYYY-MM-DD&to=YYYY-MM-DD&oblast=<id|all>      JSON
//   GET dashboard.csv?(the same)                                      CSV
// for supervisors and the read-only programme role (others 403). Counts
// go out as numbers, "<5" (under 5) or "x" (hidden so that a "<5" cannot
// be worked out); the shape is in gateway/api/dashboard.md.
// The CSV export is audited like stats.csv.
#include "http/message.hpp"
#include "service/hotline_service.hpp"
#include "service/operator_accounts.hpp"

namespace gw::app {

// `req` is a call to .../dashboard or .../dashboard.csv by `who`.
http::response handle_dashboard(const http::request& req, const service::operator_identity& who,
                                service::hotline_service& hotline);

}  // namespace gw::app

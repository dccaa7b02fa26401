#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include "adapters/registry.hpp"

using namespace gw;

namespace {
// Route labels as the gateway makes them: the registry's aggregators only.
std::string route(const std::string& path) {
    return metrics::route_of(path, adapters::aggregator_names());
}
}  // namespace

TEST(Metrics, RoutesAreFixedPrefixesNeverIds) {
    EXPECT_EQ(route("/ussd/africastalking"), "/ussd/africastalking");
    EXPECT_EQ(route("/sms/kannel/dlr"), "/sms/kannel");
    EXPECT_EQ(route("/sms/anything-a-client-invents"), "/sms/unknown");
    EXPECT_EQ(route("/api/partner/v1/referrals/R-1234567"), "/api/partner");
    EXPECT_EQ(route("/api/operator/v1/cases/R-1234567"), "/api/operator")
        << "no case references in series names";
    EXPECT_EQ(route("/api/operator/v1/login"), "/api/operator/login");
    EXPECT_EQ(route("/console/app.js"), "/console");
    EXPECT_EQ(route("/healthz"), "/healthz");
    EXPECT_EQ(route("/etc/passwd"), "other");
}

TEST(Metrics, CountersAndHistogramInPrometheusTextFormat) {
    metrics m(adapters::aggregator_names());
    m.observe("/ussd/africastalking", 200, 0.0009);
    m.observe("/ussd/africastalking", 200, 0.02);
    m.observe("/ussd/africastalking", 400, 2.0);
    std::string text = m.render({{"gateway_ussd_active_sessions", 3}});
    EXPECT_NE(
        text.find("gateway_http_requests_total{route=\"/ussd/africastalking\",code=\"2xx\"} 2\n"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find("gateway_http_requests_total{route=\"/ussd/africastalking\",code=\"4xx\"} 1\n"),
        std::string::npos);
    EXPECT_NE(text.find("gateway_http_request_duration_seconds_bucket{route=\"/ussd/"
                        "africastalking\",le=\"0.001\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("gateway_http_request_duration_seconds_bucket{route=\"/ussd/"
                        "africastalking\",le=\"0.025\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("gateway_http_request_duration_seconds_bucket{route=\"/ussd/"
                        "africastalking\",le=\"+Inf\"} 3\n"),
              std::string::npos);
    EXPECT_NE(
        text.find(
            "gateway_http_request_duration_seconds_count{route=\"/ussd/africastalking\"} 3\n"),
        std::string::npos);
    EXPECT_NE(text.find("gateway_ussd_active_sessions 3\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE gateway_http_request_duration_seconds histogram"),
              std::string::npos);
}

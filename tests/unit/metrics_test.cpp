#include "common/metrics.hpp"

#include <gtest/gtest.h>

using namespace gw;

TEST(Metrics, RoutesAreFixedPrefixesNeverIds) {
    EXPECT_EQ(metrics::route_of("/ussd/africastalking"), "/ussd/africastalking");
    EXPECT_EQ(metrics::route_of("/sms/kannel/dlr"), "/sms/kannel");
    EXPECT_EQ(metrics::route_of("/sms/anything-a-client-invents"), "/sms/unknown");
    EXPECT_EQ(metrics::route_of("/api/partner/v1/referrals/R-1234567"), "/api/partner");
    EXPECT_EQ(metrics::route_of("/api/operator/v1/cases/R-1234567"), "/api/operator")
        << "no case references in series names";
    EXPECT_EQ(metrics::route_of("/api/operator/v1/login"), "/api/operator/login");
    EXPECT_EQ(metrics::route_of("/console/app.js"), "/console");
    EXPECT_EQ(metrics::route_of("/healthz"), "/healthz");
    EXPECT_EQ(metrics::route_of("/etc/passwd"), "other");
}

TEST(Metrics, CountersAndHistogramInPrometheusTextFormat) {
    metrics m;
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

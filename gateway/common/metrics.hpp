#pragma once
// Counters and a latency histogram per route, rendered in the Prometheus
// text format at GET /metrics. Route labels are fixed prefixes (never ids
// or numbers), so the number of series stays small. Thread-safe.
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gw {

class metrics {
  public:
    // `channels`: the aggregator names a callback path may carry
    // (adapters::aggregator_names()); any other gets the label "unknown".
    explicit metrics(std::vector<std::string> channels = {}) : channels_(std::move(channels)) {}

    // The route label of a request path: "/ussd/<channel>", "/sms/<channel>"
    // ("/ussd/unknown" for a name not known), "/api/partner",
    // "/api/operator/login", "/api/operator", "/console", "/healthz",
    // "/metrics" or "other".
    static std::string route_of(const std::string& path, const std::vector<std::string>& channels);

    void observe(const std::string& path, int status, double seconds);

    // Text format; `gauges` are appended as name -> value lines (a name may
    // carry its labels: `gateway_outbox_messages{status="queued"}`).
    std::string render(const std::vector<std::pair<std::string, double>>& gauges) const;

  private:
    static constexpr std::array<double, 10> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,  0.1,    0.25,  0.5,  1.0};
    struct series {
        std::map<std::string, long long> by_code;  // "2xx", "4xx", ...
        std::array<long long, buckets.size()> le{};
        long long count = 0;
        double sum = 0;
    };
    const std::vector<std::string> channels_;
    mutable std::mutex mutex_;
    std::map<std::string, series> routes_;
};

}  // namespace gw

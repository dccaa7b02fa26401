#include "common/metrics.hpp"

#include <cstdio>

namespace gw {

std::string metrics::route_of(const std::string& path, const std::vector<std::string>& channels) {
    for (const char* fixed : {"/healthz", "/metrics"})
        if (path == fixed) return fixed;
    for (const char* prefix : {"/ussd/", "/sms/"}) {
        std::string p = prefix;
        if (path.rfind(p, 0) == 0) {
            auto end = path.find('/', p.size());
            std::string channel = path.substr(p.size(), end - p.size());
            // Known channel names only: anything else would let a client mint series.
            for (const auto& known : channels)
                if (channel == known) return p + channel;
            return p + "unknown";
        }
    }
    if (path.rfind("/api/partner/", 0) == 0) return "/api/partner";
    if (path == "/api/operator/v1/login") return "/api/operator/login";
    if (path.rfind("/api/operator/", 0) == 0) return "/api/operator";
    if (path == "/console" || path.rfind("/console/", 0) == 0) return "/console";
    return "other";
}

void metrics::observe(const std::string& path, int status, double seconds) {
    const std::string route = route_of(path, channels_);
    const std::string code = std::to_string(status / 100) + "xx";
    std::lock_guard lock(mutex_);
    series& s = routes_[route];
    ++s.by_code[code];
    ++s.count;
    s.sum += seconds;
    for (std::size_t i = 0; i < buckets.size(); ++i)
        if (seconds <= buckets[i]) ++s.le[i];
}

std::string metrics::render(const std::vector<std::pair<std::string, double>>& gauges) const {
    std::string out;
    char line[256];
    std::lock_guard lock(mutex_);
    out +=
        "# HELP gateway_http_requests_total HTTP requests answered, by route and status class.\n";
    out += "# TYPE gateway_http_requests_total counter\n";
    for (const auto& [route, s] : routes_)
        for (const auto& [code, n] : s.by_code) {
            std::snprintf(line, sizeof line,
                          "gateway_http_requests_total{route=\"%s\",code=\"%s\"} %lld\n",
                          route.c_str(), code.c_str(), n);
            out += line;
        }
    out +=
        "# HELP gateway_http_request_duration_seconds Time from a request read to its response "
        "written.\n";
    out += "# TYPE gateway_http_request_duration_seconds histogram\n";
    for (const auto& [route, s] : routes_) {
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            std::snprintf(
                line, sizeof line,
                "gateway_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n",
                route.c_str(), buckets[i], s.le[i]);
            out += line;
        }
        std::snprintf(
            line, sizeof line,
            "gateway_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n"
            "gateway_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
            "gateway_http_request_duration_seconds_count{route=\"%s\"} %lld\n",
            route.c_str(), s.count, route.c_str(), s.sum, route.c_str(), s.count);
        out += line;
    }
    for (const auto& [name, value] : gauges) {
        std::snprintf(line, sizeof line, "%s %.17g\n", name.c_str(), value);
        out += line;
    }
    return out;
}

}  // namespace gw

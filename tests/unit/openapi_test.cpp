// gateway/api/openapi.yaml documents every route the partner and operator
// APIs answer, and every $ref in it resolves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <functional>

#include "support/temp_dir.hpp"

namespace {

void collect_refs(const YAML::Node& n, std::vector<std::string>& out) {
    if (n.IsMap()) {
        for (const auto& kv : n) {
            if (kv.first.as<std::string>() == "$ref") out.push_back(kv.second.as<std::string>());
            collect_refs(kv.second, out);
        }
    } else if (n.IsSequence()) {
        for (const auto& v : n) collect_refs(v, out);
    }
}

}  // namespace

TEST(OpenApi, DocumentsEveryRoute) {
    const YAML::Node doc = YAML::LoadFile(gw::test::source_path("gateway/api/openapi.yaml"));
    ASSERT_EQ(doc["servers"][0]["url"].as<std::string>(), "/api");
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"get", "/partner/v1/referrals"},
        {"get", "/partner/v1/referrals/{key}"},
        {"post", "/partner/v1/referrals/{key}/status"},
        {"post", "/partner/v1/referrals/{key}/notes"},
        {"post", "/operator/v1/login"},
        {"post", "/operator/v1/logout"},
        {"get", "/operator/v1/me"},
        {"get", "/operator/v1/queue"},
        {"get", "/operator/v1/cases/{reference}"},
        {"post", "/operator/v1/cases/{reference}/claim"},
        {"post", "/operator/v1/cases/{reference}/release"},
        {"post", "/operator/v1/cases/{reference}/notes"},
        {"post", "/operator/v1/cases/{reference}/reply"},
        {"post", "/operator/v1/cases/{reference}/refer"},
        {"post", "/operator/v1/cases/{reference}/close"},
        {"post", "/operator/v1/referrals/{id}/revoke"},
        {"post", "/operator/v1/messages/{id}/retry"},
        {"get", "/operator/v1/partners"},
        {"post", "/operator/v1/partners/{id}/pause"},
        {"post", "/operator/v1/partners/{id}/resume"},
        {"get", "/operator/v1/operators"},
        {"post", "/operator/v1/operators"},
        {"patch", "/operator/v1/operators/{username}"},
        {"get", "/operator/v1/audit"},
        {"get", "/operator/v1/stats.csv"},
        {"get", "/operator/v1/search"},
        {"get", "/operator/v1/labels"},
        {"get", "/operator/v1/dashboard"},
        {"get", "/operator/v1/dashboard.csv"},
    };
    for (const auto& [method, path] : routes) {
        const YAML::Node op = doc["paths"][path][method];
        ASSERT_TRUE(op) << method << " " << path << " is not documented";
        EXPECT_TRUE(op["responses"]) << method << " " << path;
        EXPECT_TRUE(op["security"]) << method << " " << path << ": say who may call it";
    }
    std::vector<std::string> refs;
    collect_refs(doc, refs);
    ASSERT_FALSE(refs.empty());
    for (const auto& ref : refs) {
        ASSERT_EQ(ref.rfind("#/components/", 0), 0u) << ref;
        std::string rest = ref.substr(13);
        const auto slash = rest.find('/');
        EXPECT_TRUE(doc["components"][rest.substr(0, slash)][rest.substr(slash + 1)])
            << ref << " does not resolve";
    }
}

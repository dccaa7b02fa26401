// gateway/api/openapi.yaml documents every route the partner and operator
// APIs answer, and every $ref in it resolves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "app/operator_api.hpp"
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
    };
    // The operator API's routes come from its route table itself.
    auto all = routes;
    for (auto [method, pattern] : gw::app::operator_api_routes()) {
        std::transform(method.begin(), method.end(), method.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        all.emplace_back(method, "/operator/v1/" + pattern);
    }
    ASSERT_GT(all.size(), routes.size() + 20);
    for (const auto& [method, path] : all) {
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

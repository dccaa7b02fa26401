// gateway/api/openapi.yaml documents every route the partner and operator
// APIs answer, and every $ref in it resolves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "app/operator_api.hpp"
#include "app/partner_api.hpp"
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
    // Both APIs' routes come from their route tables themselves.
    std::vector<std::pair<std::string, std::string>> all;
    auto add = [&](std::vector<std::pair<std::string, std::string>> routes,
                   const std::string& prefix) {
        for (auto [method, pattern] : routes) {
            std::transform(method.begin(), method.end(), method.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            all.emplace_back(method, prefix + pattern);
        }
    };
    add(gw::app::partner_api_routes(), "/partner/v1/");
    add(gw::app::operator_api_routes(), "/operator/v1/");
    ASSERT_GT(all.size(), 25u);
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

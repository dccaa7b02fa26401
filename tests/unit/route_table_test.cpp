// The route table (app/route_table.hpp): 404 for a path nobody serves, 405
// with Allow for a served path and another method, parameters by name.
#include "app/route_table.hpp"

#include <gtest/gtest.h>

using namespace gw::app;

namespace {
using table = route_table<int>;
const table routes({{"GET", "cases/{reference}", 1},
                    {"POST", "cases/{reference}/claim", 2},
                    {"GET", "partners", 3},
                    {"POST", "partners", 4},
                    {"PATCH", "operators/{username}", 5}});
}  // namespace

TEST(RouteTable, FindsTheRouteAndItsParameters) {
    auto found = routes.find("POST", "cases/R-1234567/claim");
    ASSERT_TRUE(std::holds_alternative<table::matched>(found));
    const auto& m = std::get<table::matched>(found);
    EXPECT_EQ(m.entry->handle, 2);
    EXPECT_EQ(m.params.at("reference"), "R-1234567");
    EXPECT_EQ(std::get<table::matched>(routes.find("GET", "partners")).entry->handle, 3);
    EXPECT_EQ(std::get<table::matched>(routes.find("POST", "partners/")).entry->handle, 4)
        << "a trailing slash is the same path";
}

TEST(RouteTable, TellsNotFoundFromMethodNotAllowed) {
    for (const char* path : {"", "nothing", "cases", "cases/R-1/claim/more", "partners/x",
                             "cases//claim", "/partners", "partners//"}) {
        auto miss = routes.find("GET", path);
        ASSERT_TRUE(std::holds_alternative<table::unmatched>(miss)) << path;
        EXPECT_EQ(std::get<table::unmatched>(miss).status, 404) << path;
    }
    auto wrong = routes.find("DELETE", "partners");
    ASSERT_TRUE(std::holds_alternative<table::unmatched>(wrong));
    EXPECT_EQ(std::get<table::unmatched>(wrong).status, 405);
    EXPECT_EQ(std::get<table::unmatched>(wrong).allow, "GET, POST");
    EXPECT_EQ(std::get<table::unmatched>(routes.find("GET", "operators/aida")).allow, "PATCH");
}

TEST(RouteTable, TheRestOfAPathGoesToAnotherTable) {
    const table mounts({{"GET", "healthz", 1},
                        {"*", "api/partner/v1/{rest...}", 2},
                        {"GET", "console/{file...}", 3}});
    auto m = std::get<table::matched>(mounts.find("PATCH", "api/partner/v1/referrals/7"));
    EXPECT_EQ(m.entry->handle, 2) << "any method: the partner table answers 405 itself";
    EXPECT_EQ(m.params.at("rest"), "referrals/7");
    auto console = std::get<table::matched>(mounts.find("GET", "console"));
    EXPECT_EQ(console.params.at("file"), "") << "none or more segments";
    EXPECT_EQ(std::get<table::matched>(mounts.find("GET", "console/js/app.js")).params.at("file"),
              "js/app.js");
    EXPECT_EQ(std::get<table::unmatched>(mounts.find("GET", "api/partner")).status, 404);
    auto wrong = std::get<table::unmatched>(mounts.find("POST", "console/index.html"));
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.allow, "GET");
}

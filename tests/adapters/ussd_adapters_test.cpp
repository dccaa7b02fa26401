// Table-driven cases for USSD adapters, run by one shared harness: each
// case is a raw HTTP request and the parse outcome expected from it.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "adapters/africastalking/ussd.hpp"
#include "support/http_client.hpp"

using namespace gw;

namespace {

struct parse_case {
    std::string name;
    std::string content_type;
    std::string body;
    // Expected on success; nullopt means the adapter must refuse with `error_contains`.
    std::optional<domain::ussd_request> expected;
    std::string error_contains;
};

struct render_case {
    std::string name;
    domain::ussd_reply reply;
    std::string body;
};

void run_parse_cases(const adapters::ussd_adapter& adapter, const std::vector<parse_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(adapter.name() + ": " + c.name);
        http::request req;
        req.method = "POST";
        req.target = req.path = "/ussd/" + adapter.name();
        if (!c.content_type.empty()) req.headers.emplace_back("Content-Type", c.content_type);
        req.body = c.body;
        auto got = adapter.parse(req);
        if (!c.expected) {
            ASSERT_FALSE(got) << "accepted a bad request";
            EXPECT_NE(got.error().find(c.error_contains), std::string::npos) << got.error();
            continue;
        }
        ASSERT_TRUE(got) << got.error();
        EXPECT_EQ(got->aggregator, adapter.name());
        EXPECT_EQ(got->session_id, c.expected->session_id);
        EXPECT_EQ(got->phone, c.expected->phone);
        EXPECT_EQ(got->service_code, c.expected->service_code);
        EXPECT_EQ(got->network_code, c.expected->network_code);
        EXPECT_EQ(got->text, c.expected->text);
    }
}

void run_render_cases(const adapters::ussd_adapter& adapter,
                      const std::vector<render_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(adapter.name() + ": " + c.name);
        auto res = adapter.render(c.reply);
        EXPECT_EQ(res.status, 200);
        EXPECT_EQ(res.body, c.body);
    }
}

domain::ussd_request req(std::string session, std::string phone, std::string code,
                         std::string network, std::string text) {
    return {"",
            std::move(session),
            std::move(phone),
            std::move(code),
            std::move(network),
            std::move(text)};
}

const std::string form_ct = "application/x-www-form-urlencoded";

}  // namespace

TEST(AfricasTalkingUssd, Parse) {
    run_parse_cases(
        adapters::africastalking_ussd{},
        {
            {"first hop", form_ct,
             test::form({{"sessionId", "ATUid_1"},
                         {"serviceCode", "*384*123#"},
                         {"phoneNumber", "+996555123456"},
                         {"networkCode", "43709"},
                         {"text", ""}}),
             req("ATUid_1", "+996555123456", "*384*123#", "43709", ""), ""},
            {"later hop with cumulative text", form_ct + "; charset=utf-8",
             "sessionId=s2&serviceCode=%2A384%2A123%23&phoneNumber=%2B79161234567&"
             "networkCode=25001&text=2%2A3%2A1",
             req("s2", "+79161234567", "*384*123#", "25001", "2*3*1"), ""},
            {"free text in Cyrillic", form_ct,
             test::form({{"sessionId", "s3"}, {"phoneNumber", "0555123456"}, {"text", "1*Айгүл"}}),
             req("s3", "0555123456", "", "", "1*Айгүл"), ""},
            {"no content type still parses", "", "sessionId=s4&phoneNumber=%2B996555123456&text=",
             req("s4", "+996555123456", "", "", ""), ""},
            {"missing sessionId", form_ct, "phoneNumber=%2B996555123456&text=", std::nullopt,
             "sessionId"},
            {"empty phoneNumber", form_ct, "sessionId=a&phoneNumber=&text=", std::nullopt,
             "phoneNumber"},
            {"malformed escape", form_ct, "sessionId=a%zz&phoneNumber=1", std::nullopt, "percent"},
            {"JSON instead of a form", "application/json", "{\"sessionId\":\"a\"}", std::nullopt,
             "x-www-form-urlencoded"},
            {"over-long session id", form_ct,
             "sessionId=" + std::string(200, 'a') + "&phoneNumber=1", std::nullopt, "too long"},
            {"invalid UTF-8 in session id", form_ct, "sessionId=%FF&phoneNumber=1", std::nullopt,
             "UTF-8"},
        });
}

TEST(AfricasTalkingUssd, Render) {
    run_render_cases(
        adapters::africastalking_ussd{},
        {
            {"continue", {"Тил / Язык\n1 Кыргызча", false}, "CON Тил / Язык\n1 Кыргызча"},
            {"end", {"Принято: R-1234567.", true}, "END Принято: R-1234567."},
        });
}

// Issue "referral rules and partner queues", end to end over HTTP: a USSD
// session in Osh about legal aid ends in the Osh legal-aid queue, visible
// through that partner's API and webhook, acceptable by SMS from its focal
// point; other partners cannot see it; editing one rule and reloading
// routes the next case elsewhere; a broken rules file keeps the old rules.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "adapters/webhook.hpp"
#include "app/gateway.hpp"
#include "integration/fake_aggregator.hpp"
#include "net/http_client.hpp"
#include "server/http_server.hpp"
#include "support/case_builder.hpp"
#include "support/http_client.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string hook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class ReferralFlow : public ::testing::Test {
  protected:
    static std::string rules_text(const std::string& osh_partner) {
        return "rules:\n"
               "  - id: urgent\n    when: {urgent: true}\n    route_to: crisis_centres\n"
               "  - id: legal-aid-osh\n    when: {topic: [legal_aid, rights], oblast: osh}\n"
               "    route_to: " +
               osh_partner +
               "\n"
               "  - id: legal-aid\n    when: {topic: [legal_aid, rights]}\n    route_to: "
               "legal_aid_ngo\n"
               "  - id: employment\n    when: {topic: employment}\n    route_to: "
               "employment_service\n";
    }

    // Language, lawyer/family, "need a lawyer", Osh, returning, call me, consent.
    std::string legal_aid_case_in_osh(const std::string& session, const std::string& phone,
                                      bool consent) {
        const auto* legal = gateway->menus().source->find("legal_aid_menu");
        int help = 0;
        for (std::size_t i = 0; i < legal->options.size(); ++i)
            if (legal->options[i].next == "refer_oblast") help = static_cast<int>(i) + 1;
        std::string text;
        std::string body;
        for (std::string in : {std::string(""), std::string("2"), std::string("2"),
                               std::to_string(help), std::string("3"), std::string("2"),
                               std::string("1"), std::string(consent ? "1" : "2")}) {
            text = text.empty() ? in : (in.empty() ? text : text + "*" + in);
            body = test::post_form(
                       port, test::ussd_path,
                       test::form({{"sessionId", session}, {"phoneNumber", phone}, {"text", text}}))
                       .body;
        }
        std::smatch m;
        EXPECT_TRUE(std::regex_search(body, m, std::regex("R-[0-9]{7}"))) << body;
        return m.str();
    }

    test::http_reply api(const std::string& method, const std::string& path,
                         const std::string& token, const std::string& body = "") {
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
        if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
        if (!body.empty()) req += "Content-Type: application/json\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        return test::send_raw(port, req);
    }

    test::fake_aggregator hooks;    // partner webhook receiver
    test::fake_aggregator sms_api;  // SMS to focal points and women
    test::temp_dir dir;
    std::string rules_file;
    test::running_gateway running{config_file(), {.send = true}};
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;

  private:
    std::string config_file() {
        // Partners as the test needs them: always open, tokens, a webhook receiver.
        dir.write(
            "partners.yaml",
            "partners:\n"
            "  - {id: legal_aid_osh, name: Legal aid Osh, names: {ky: legal_aid_osh ky, ru: "
            "legal_aid_osh ru}, oblasts: [osh], topics: [legal_aid, rights],\n"
            "     api_token: tok-osh, focal_phone: \"+996700000101\", acknowledge_within_hours: "
            "8,\n"
            "     webhook_url: \"http://127.0.0.1:" +
                std::to_string(hooks.port()) +
                "/hooks\",\n"
                "     webhook_secret: " +
                hook_secret +
                "}\n"
                "  - {id: legal_aid_ngo, name: Legal aid NGO, names: {ky: legal_aid_ngo ky, ru: "
                "legal_aid_ngo ru}, topics: [legal_aid, rights], api_token: tok-ngo}\n"
                "  - {id: employment_service, name: Employment, names: {ky: employment_service ky, "
                "ru: employment_service ru}, topics: [employment], api_token: tok-emp}\n"
                "  - {id: crisis_centres, name: Crisis, names: {ky: crisis_centres ky, ru: "
                "crisis_centres ru}, topics: [urgent], api_token: tok-crisis}\n");
        rules_file = dir.write("rules/rules.yaml", rules_text("legal_aid_osh"));
        std::string yaml =
            "sms:\n  base_delay_ms: 50\n  poll_interval_ms: 50\n  channels:\n"
            "    africastalking:\n      auth: token\n      token: at\n"
            "      send_url: http://127.0.0.1:" +
            std::to_string(sms_api.port()) +
            "/version1/messaging\n"
            "      send_username: sandbox\n      send_password: key\n      sender: HOTLINE\n"
            "    kannel:\n      auth: token\n      token: k\n"
            "referrals:\n  partners_file: " +
            dir.file("partners.yaml") +
            "\n"
            "  rules_directory: " +
            dir.file("rules") + "\n  notify_channel: africastalking\n";
        return test::write_test_config(dir, yaml);
    }
};

}  // namespace

TEST_F(ReferralFlow, OshLegalAidCaseReachesThePartnerAndIsAcceptedBySms) {
    const std::string woman = "+996555123456";
    std::string ref = legal_aid_case_in_osh("flow-1", woman, true);
    ASSERT_FALSE(ref.empty());

    // In the Osh legal aid queue, through its API.
    auto list = api("GET", "/api/partner/v1/referrals?status=new", "tok-osh");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.headers["cache-control"], "no-store") << "her number stays out of caches";
    auto j = json::parse(list.body);
    ASSERT_EQ(j["referrals"].size(), 1u);
    EXPECT_EQ(j["referrals"][0]["reference"], ref);
    EXPECT_EQ(j["referrals"][0]["topic"], "legal_aid");
    EXPECT_EQ(j["referrals"][0]["oblast"], "osh");
    auto unknown = api("GET", "/api/partner/v1/referrals?status=pending", "tok-osh");
    EXPECT_EQ(unknown.status, 400) << "a status the API does not have is named, not an empty list";
    EXPECT_NE(unknown.body.find("status must be one of"), std::string::npos) << unknown.body;
    EXPECT_EQ(j["referrals"][0]["contact"]["phone"], woman);     // she consented
    EXPECT_EQ(j["referrals"][0]["contact"]["how"], "call_any");  // and how she may be reached
    const long long id = j["referrals"][0]["id"];

    // Its webhook, signed.
    ASSERT_TRUE(hooks.wait_for(1));
    auto hook = hooks.received()[0];
    EXPECT_EQ(hook.path, "/hooks");
    auto header = [&](const char* n) { return hook.header(n) ? *hook.header(n) : std::string(); };
    EXPECT_TRUE(adapters::verify_webhook(
        hook_secret, header("webhook-id"), std::stoll(header("webhook-timestamp")), hook.body,
        header("webhook-signature"), to_unix_seconds(std::chrono::system_clock::now())))
        << hook.body;
    EXPECT_EQ(json::parse(hook.body)["reference"], ref);

    // The focal point got an SMS about it.
    ASSERT_TRUE(sms_api.wait_for(1));
    EXPECT_EQ(sms_api.field(0, "to"), "+996700000101");
    EXPECT_NE(sms_api.field(0, "message").find(ref), std::string::npos);
    // In words the focal point reads (her language, ru by default), with her contact answer.
    for (const char* words : {"юридическая помощь", "Ош", "звонить в любое время"})
        EXPECT_NE(sms_api.field(0, "message").find(words), std::string::npos)
            << words << " in " << sms_api.field(0, "message");

    // Another partner cannot see it, list it or touch it.
    EXPECT_EQ(api("GET", "/api/partner/v1/referrals/" + std::to_string(id), "tok-ngo").status, 404);
    EXPECT_EQ(api("GET", "/api/partner/v1/referrals/" + ref, "tok-ngo").status, 404);
    EXPECT_EQ(
        json::parse(api("GET", "/api/partner/v1/referrals", "tok-ngo").body)["referrals"].size(),
        0u);
    EXPECT_EQ(api("POST", "/api/partner/v1/referrals/" + std::to_string(id) + "/status", "tok-ngo",
                  R"({"status":"accepted"})")
                  .status,
              404);

    // Someone else's phone cannot accept it by SMS; the focal point can.
    auto r = test::get(port, "/sms/kannel?" + test::form({{"from", "+996555000000"},
                                                          {"text", "ACCEPT " + ref},
                                                          {"id", "k1"},
                                                          {"token", "k"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(gateway->storage().find_referral(id)->status, store::referral_status::new_);
    r = test::get(port, "/sms/kannel?" + test::form({{"from", "+996700000101"},
                                                     {"text", "ACCEPT " + ref},
                                                     {"id", "k2"},
                                                     {"token", "k"}}));
    EXPECT_EQ(r.body, ref + ": accepted");
    EXPECT_EQ(gateway->storage().find_referral(id)->status, store::referral_status::accepted);

    // She asked to be called, not texted: no SMS to her when it is accepted.
    EXPECT_FALSE(sms_api.wait_for(2, std::chrono::milliseconds(500)));
    for (std::size_t i = 0; i < sms_api.received().size(); ++i)
        EXPECT_NE(sms_api.field(i, "to"), woman);

    // The partner sees the history; the audit trail has every step.
    auto one = json::parse(api("GET", "/api/partner/v1/referrals/" + ref, "tok-osh").body);
    EXPECT_EQ(one["status"], "accepted");
    std::vector<std::string> actions;
    for (const auto& e : gateway->storage().referral_events(id)) actions.push_back(e.action);
    EXPECT_EQ(actions, (std::vector<std::string>{"created", "viewed", "accepted", "viewed"}));
}

TEST_F(ReferralFlow, NoConsentNoNumber) {
    std::string ref = legal_aid_case_in_osh("flow-2", "+996555777888", false);
    auto body = api("GET", "/api/partner/v1/referrals/" + ref, "tok-osh").body;
    auto j = json::parse(body);
    EXPECT_EQ(j["contact"]["via"], "hotline");
    EXPECT_EQ(body.find("555777888"), std::string::npos) << body;
}

TEST_F(ReferralFlow, ChangingOneRuleAndReloadingRoutesTheNextCaseElsewhere) {
    std::string first = legal_aid_case_in_osh("flow-3", "+996555000301", true);
    auto c1 = gateway->storage().find_case(first);
    EXPECT_EQ(gateway->storage().case_referrals(c1->id)[0].partner, "legal_aid_osh");

    std::ofstream(rules_file) << rules_text("legal_aid_ngo");
    EXPECT_EQ(gateway->reload_routing(), "");
    std::string second = legal_aid_case_in_osh("flow-4", "+996555000302", true);
    auto c2 = gateway->storage().find_case(second);
    EXPECT_EQ(gateway->storage().case_referrals(c2->id)[0].partner, "legal_aid_ngo");

    // A broken file: refused, with the reason, and the rules in force stay.
    std::ofstream(rules_file) << rules_text("nobody");
    std::string why = gateway->reload_routing();
    EXPECT_NE(why.find("unknown partner nobody"), std::string::npos) << why;
    EXPECT_NE(why.find("rules.yaml:5"), std::string::npos) << why;
    std::string third = legal_aid_case_in_osh("flow-5", "+996555000303", true);
    auto c3 = gateway->storage().find_case(third);
    EXPECT_EQ(gateway->storage().case_referrals(c3->id)[0].partner, "legal_aid_ngo");
}

// Every endpoint x (owner, other partner, no token, forged token) x (own,
// other partner's referral): nobody reads or changes another's referral.
TEST_F(ReferralFlow, AuthorizationMatrix) {
    std::string osh_ref = legal_aid_case_in_osh("flow-6", "+996555000401", true);
    auto osh = gateway->storage().case_referrals(gateway->storage().find_case(osh_ref)->id)[0];
    // A case for the NGO: legal aid outside Osh is easier to make through the store.
    auto ngo_case = test::a_case("matrix")
                        .phone("+996555000402")
                        .oblast("talas")
                        .consent()
                        .store_in(gateway->storage(), 1);
    auto ngo = gateway->referrals().route_case(ngo_case);
    ASSERT_EQ(ngo.partner, "legal_aid_ngo");

    struct endpoint {
        std::string method, suffix, body;
    };
    const std::vector<endpoint> endpoints = {
        {"GET", "", ""},
        {"POST", "/notes", R"({"text":"hello"})"},
        // A state change that cannot happen yet (409 for the owner), so the
        // matrix itself does not re-route anything.
        {"POST", "/status", R"({"status":"in_progress"})"},
    };
    struct who {
        std::string token;
        std::string partner;  // empty: not a partner
    };
    const std::vector<who> callers = {{"tok-osh", "legal_aid_osh"},
                                      {"tok-ngo", "legal_aid_ngo"},
                                      {"tok-emp", "employment_service"},
                                      {"", ""},
                                      {"tok-osh-forged", ""}};
    int checked = 0;
    for (const auto& target : {osh, ngo}) {
        for (const auto& key : {std::to_string(target.id), target.case_reference}) {
            for (const auto& e : endpoints) {
                for (const auto& c : callers) {
                    auto r = api(e.method, "/api/partner/v1/referrals/" + key + e.suffix, c.token,
                                 e.body);
                    SCOPED_TRACE(e.method + " " + key + e.suffix + " as " +
                                 (c.token.empty() ? "nobody" : c.token));
                    if (c.partner.empty())
                        EXPECT_EQ(r.status, 401);
                    else if (c.partner != target.partner)
                        EXPECT_EQ(r.status, 404);
                    else
                        EXPECT_TRUE(r.status == 200 || r.status == 409) << r.status << r.body;
                    ++checked;
                }
            }
        }
    }
    // Lists only ever hold one's own referrals.
    for (const auto& c : callers) {
        auto r = api("GET", "/api/partner/v1/referrals", c.token);
        if (c.partner.empty()) {
            EXPECT_EQ(r.status, 401);
            continue;
        }
        const json listed = json::parse(r.body);  // (the loop must not outlive the document)
        for (const auto& item : listed["referrals"])
            EXPECT_EQ(item["reference"] == osh_ref ? "legal_aid_osh" : "legal_aid_ngo", c.partner)
                << c.token << " sees " << item["reference"];
    }
    EXPECT_EQ(checked, 2 * 2 * 3 * 5);
    // Malformed JSON and unknown statuses get 400 with a reason.
    auto bad =
        api("POST", "/api/partner/v1/referrals/" + osh_ref + "/status", "tok-osh", "{\"status\":");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("malformed JSON"), std::string::npos);
    EXPECT_EQ(api("POST", "/api/partner/v1/referrals/" + osh_ref + "/status", "tok-osh",
                  R"({"status":"teleported"})")
                  .status,
              400);
}

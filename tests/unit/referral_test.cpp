#include <gtest/gtest.h>

#include "adapters/webhook.hpp"
#include "referral/partners.hpp"
#include "referral/rules.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace gw::referral;
using namespace std::chrono;

namespace {

// 2027-03-01 is a Monday. Local time is UTC+6.
gw::time_point bishkek(int day, int hour, int minute = 0) {
    // 2027-03-01T00:00 Bishkek = 2027-02-28T18:00Z = 1803837600
    return gw::time_point(
        seconds(1803837600LL + (day - 1) * 86400LL + hour * 3600LL + minute * 60LL));
}

struct Fixture {
    partners_result partners =
        load_partners(test::source_path("tests/data/referral/partners.yaml"));
    rules_result rules = load_rules(test::source_path("tests/data/referral/rules"));
};

}  // namespace

TEST(Partners, LoadAndLookUp) {
    Fixture f;
    for (const auto& d : f.partners.diagnostics) ADD_FAILURE() << gw::format(d);
    const auto& dir = f.partners.value;
    ASSERT_EQ(dir.partners.size(), 4u);
    EXPECT_EQ(dir.by_token("token-legal-osh")->id, "legal_osh");
    EXPECT_EQ(dir.by_token("token-legal-backup")->id, "legal_backup");  // by its SHA-256
    EXPECT_EQ(dir.by_token("token-legal"), nullptr);
    EXPECT_EQ(dir.by_token(""), nullptr);
    EXPECT_EQ(dir.by_focal_phone("+996700000101")->id, "legal_osh");
    EXPECT_EQ(dir.by_focal_phone("+996700000199"), nullptr);
}

TEST(WorkingHours, OpenClosedLunchWeekendHoliday) {
    Fixture f;
    const auto& h = f.partners.value.find("legal_osh")->hours;
    EXPECT_FALSE(h.open_at(bishkek(1, 8, 59)));
    EXPECT_TRUE(h.open_at(bishkek(1, 9, 0)));
    EXPECT_FALSE(h.open_at(bishkek(1, 13, 30)));  // lunch
    EXPECT_TRUE(h.open_at(bishkek(1, 17, 59)));
    EXPECT_FALSE(h.open_at(bishkek(1, 18, 0)));
    EXPECT_FALSE(h.open_at(bishkek(6, 12, 0)));  // Saturday
    EXPECT_FALSE(h.open_at(bishkek(8, 12, 0)));  // 8 March, a Monday holiday
    EXPECT_TRUE(f.partners.value.find("legal_backup")->hours.open_at(bishkek(6, 3)));  // 24/7
}

TEST(WorkingHours, DeadlinesCountOnlyWorkingTime) {
    Fixture f;
    const auto& h = f.partners.value.find("legal_osh")->hours;
    // Monday 11:00 + 4 working hours: 11-13 (2h), lunch, 14-16 -> 16:00.
    EXPECT_EQ(h.add_working_time(bishkek(1, 11), hours(4)), bishkek(1, 16));
    // Friday 16:00 + 4h: 2h on Friday, then Monday 8 March is a holiday -> Tuesday 11:00.
    EXPECT_EQ(h.add_working_time(bishkek(5, 16), hours(4)), bishkek(9, 11));
    // Saturday night: Monday 8 March is a holiday, so counting starts Tuesday morning.
    EXPECT_EQ(h.add_working_time(bishkek(6, 23), hours(1)), bishkek(9, 10));
}

TEST(Rules, LoadCleanly) {
    Fixture f;
    for (const auto& d : f.rules.diagnostics) ADD_FAILURE() << gw::format(d);
    EXPECT_EQ(f.rules.value.rules.size(), 4u);
    auto checks = check_rules(f.rules.value, f.partners.value,
                              {"rights", "legal_aid", "employment", "migration", "urgent"});
    for (const auto& d : checks) EXPECT_TRUE(d.warning) << gw::format(d);
}

TEST(Rules, MatchingTable) {
    Fixture f;
    struct row {
        const char* name;
        case_facts facts;
        gw::time_point when;
        partner_load load;
        std::string partner;
        std::string rule;
    };
    const auto monday_noon = bishkek(1, 12), sunday = bishkek(7, 12), night = bishkek(2, 22);
    std::vector<row> table = {
        {"urgent beats topic",
         {"legal_aid", "", "osh", "ky", "", true},
         monday_noon,
         {},
         "crisis",
         "urgent"},
        {"legal aid in Osh, office open",
         {"legal_aid", "", "osh", "ky", ""},
         monday_noon,
         {},
         "legal_osh",
         "legal-osh"},
        {"rights count as legal aid",
         {"rights", "", "osh", "ru", ""},
         monday_noon,
         {},
         "legal_osh",
         "legal-osh"},
        {"Osh office closed on Sunday",
         {"legal_aid", "", "osh", "ky", ""},
         sunday,
         {},
         "legal_backup",
         "legal-anywhere"},
        {"Osh office full",
         {"legal_aid", "", "osh", "ky", ""},
         monday_noon,
         {{"legal_osh", 2}},
         "legal_backup",
         "legal-anywhere"},
        {"legal aid in Talas",
         {"legal_aid", "", "talas", "ky", ""},
         monday_noon,
         {},
         "legal_backup",
         "legal-anywhere"},
        {"returning, daytime",
         {"employment", "", "batken", "ky", "returning"},
         monday_noon,
         {},
         "employment",
         "returning-employment-daytime"},
        {"returning, at night", {"employment", "", "batken", "ky", "returning"}, night, {}, "", ""},
        {"not returning",
         {"employment", "", "batken", "ky", "potential_migrant"},
         monday_noon,
         {},
         "",
         ""},
        {"migration: no rule", {"migration", "", "osh", "ky", ""}, monday_noon, {}, "", ""},
    };
    for (const auto& r : table) {
        auto d = route(f.rules.value, f.partners.value, r.facts, r.when, r.load);
        EXPECT_EQ(d.partner, r.partner) << r.name << ": " << d.explanation;
        EXPECT_EQ(d.rule, r.rule) << r.name;
        EXPECT_FALSE(d.explanation.empty());
    }
}

TEST(Rules, ExplanationSaysWhyAndWhatWasSkipped) {
    Fixture f;
    auto d = route(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", ""},
                   bishkek(7, 12), {});
    EXPECT_NE(d.explanation.find("rule legal-anywhere ("), std::string::npos) << d.explanation;
    EXPECT_NE(d.explanation.find("rules.yaml:"), std::string::npos);
    EXPECT_NE(d.explanation.find("legal-osh skipped: legal_osh closed now"), std::string::npos)
        << d.explanation;
    auto excluded = route(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", ""},
                          bishkek(1, 12), {}, {"legal_osh", "legal_backup"});
    EXPECT_EQ(excluded.partner, "");
    EXPECT_NE(excluded.explanation.find("operators"), std::string::npos);
}

TEST(Rules, CheckReportsBadRulesWithFileAndLine) {
    test::temp_dir dir;
    dir.write("r/rules.yaml",
              "rules:\n"
              "  - id: all\n"
              "    route_to: legal_backup\n"
              "  - id: ghost\n"
              "    when: {topic: legal_aid}\n"
              "    route_to: nobody\n"
              "  - id: shadowed\n"
              "    when: {topic: legal_aid}\n"
              "    route_to: legal_osh\n"
              "  - id: typo\n"
              "    when: {topic: legal_aide, colour: red}\n"
              "    route_to: legal_osh\n");
    Fixture f;
    auto rules = load_rules(dir.file("r"));
    std::string text;
    for (const auto& d : rules.diagnostics) text += gw::format(d) + "\n";
    for (const auto& d : check_rules(rules.value, f.partners.value, {"legal_aid", "migration"}))
        text += gw::format(d) + "\n";
    const std::string file = dir.file("r/rules.yaml");
    EXPECT_NE(text.find(file + ":11: error: rule typo: unknown condition colour"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(file + ":4: error: rule ghost routes to unknown partner nobody"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(file +
                  ":7: error: rule shadowed can never match: an earlier rule matches every case"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find(file + ":10: error: rule typo can never match: no menu sets topic legal_aide"),
        std::string::npos)
        << text;
}

TEST(Rules, TopicWithoutRouteIsReported) {
    Fixture f;
    auto checks = check_rules(f.rules.value, f.partners.value, {"legal_aid", "migration"});
    bool found = false;
    for (const auto& d : checks)
        found |= d.message.find("topic migration has no route") != std::string::npos;
    EXPECT_TRUE(found);
}

TEST(Webhook, SignatureMatchesTheStandardWebhooksExample) {
    // The example from the Standard Webhooks specification.
    auto sig = adapters::sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                      "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                      R"({"test": 2432232314})");
    ASSERT_TRUE(sig);
    EXPECT_EQ(*sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    EXPECT_TRUE(adapters::verify_webhook(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
        R"({"test": 2432232314})", "v0,x " + *sig, 1614265330 + 299));
    // Too old, too new, tampered body, bad secret.
    EXPECT_FALSE(adapters::verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                          "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                          R"({"test": 2432232314})", *sig, 1614265330 + 301));
    EXPECT_FALSE(adapters::verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                          "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                          R"({"test": 2432232315})", *sig, 1614265330));
    EXPECT_FALSE(adapters::sign_webhook("whsec_***", "id", 1, "{}"));
}

namespace {
std::string all(const std::vector<gw::diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += gw::format(d) + "\n";
    return out;
}
}  // namespace

TEST(Partners, MistakesThatWouldBeSilentAreReportedWithLines) {
    test::temp_dir dir;
    auto path =
        dir.write("partners.yaml",
                  "partners:\n"
                  "  - id: a\n"
                  "    capasity: 5\n"  // 3: misspelt: no limit
                  "    holidays: [\"07.01.2027\", \"2027-02-30\", \"2028-02-29\"]\n"         // 4
                  "    focal_phone: \"+996 12\"\n"                                           // 5
                  "    working_hours: {mon: [\"09:00-18:00\"], thurs: [\"09:00-18:00\"]}\n"  // 6
                  "  - id: b\n"
                  "    focal_phone: \"0700 000 101\"\n");  // national form: fine
    auto p = load_partners(path);
    const std::string text = all(p.diagnostics);
    EXPECT_NE(text.find(path + ":3: error: partner a: unknown key capasity"), std::string::npos)
        << text;
    EXPECT_NE(text.find(path + ":4: error: partner a: holiday 07.01.2027 must be written "
                               "YYYY-MM-DD (e.g. 2027-01-07)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("holiday 2027-02-30 must be written"), std::string::npos) << "no such day\n"
                                                                                  << text;
    EXPECT_EQ(text.find("2028-02-29"), std::string::npos) << "a leap day is a day\n" << text;
    EXPECT_NE(
        text.find(path + ":5: error: partner a: focal_phone +996 12 is not a valid phone number"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find(path + ":6: error: partner a: unknown weekday thurs"), std::string::npos)
        << text;
    EXPECT_EQ(p.diagnostics.size(), 5u) << text;
    ASSERT_EQ(p.value.partners.size(), 2u);
    EXPECT_EQ(p.value.partners[0].hours.holidays, std::set<std::string>{"2028-02-29"});
    EXPECT_EQ(p.value.partners[1].focal_phone, "+996700000101");
    EXPECT_EQ(p.value.by_focal_phone("+996700000101")->id, "b");
}

TEST(Rules, UnknownKeysShadowedRulesAndValuesNoMenuSets) {
    test::temp_dir dir;
    dir.write("r/rules.yaml",
              "rules:\n"
              "  - id: legal-osh\n"  // 2
              "    when: {topic: [legal_aid, rights], oblast: osh}\n"
              "    route_to: legal_osh\n"
              "  - id: legal-osh-rights\n"  // 5: never reached
              "    when: {topic: rights, oblast: osh, target_group: abroad}\n"
              "    route_to: legal_osh\n"
              "  - id: legal-osh-backup\n"  // 8: only after a decline
              "    when: {topic: legal_aid, oblast: osh}\n"
              "    route_to: legal_backup\n"
              "  - id: overflow-is-fine\n"  // 11
              "    when: {topic: employment}\n"
              "    route_to: employment\n"
              "    only_if: [partner_has_capacity]\n"
              "  - id: overflow\n"  // 15
              "    when: {topic: employment}\n"
              "    route_to: legal_backup\n"
              "  - id: typos\n"  // 18
              "    when: {topic: rights, oblast: chui, target_group: migrant}\n"
              "    routeto: legal_osh\n");  // 20
    Fixture f;
    auto rules = load_rules(dir.file("r"));
    const std::string file = dir.file("r/rules.yaml");
    std::string text = all(rules.diagnostics);
    EXPECT_NE(
        text.find(file +
                  ":20: error: rule typos: unknown key routeto (id, when, route_to, only_if)"),
        std::string::npos)
        << text;
    text += all(check_rules(rules.value, f.partners.value, {"legal_aid", "rights", "employment"}));
    EXPECT_NE(text.find(file +
                        ":5: warning: rule legal-osh-rights can never match: the earlier rule "
                        "legal-osh (" +
                        file + ":2) matches every case it does"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(file +
                        ":8: warning: rule legal-osh-backup is shadowed by the earlier rule "
                        "legal-osh (" +
                        file +
                        ":2): it matches only cases legal_osh declined "
                        "or let run out"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("rule overflow "), std::string::npos) << "only_if makes room for it\n"
                                                              << text;
    const std::map<std::string, std::set<std::string>> menus = {
        {"oblast", {"batken", "jalal_abad", "osh", "talas"}},
        {"target_group", {"potential_migrant", "returning", "abroad", "family"}},
        {"language", {"ky", "ru"}}};
    text = all(check_rule_values(rules.value, menus));
    EXPECT_EQ(text,
              file + ":18: error: rule typos can never match: no menu sets oblast chui\n" + file +
                  ":18: error: rule typos can never match: no menu sets target_group migrant\n");
}

// Issue #15: the console says the explanation in Kyrgyz or Russian, so the
// stored English text must come apart into what matched and what was skipped.
TEST(Rules, ExplanationComesApartForTheConsole) {
    Fixture f;
    auto d = route(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", ""},
                   bishkek(7, 12), {});
    auto parts = parse_explanation(d.explanation);
    EXPECT_EQ(parts.kind, "rule") << d.explanation;
    EXPECT_EQ(parts.rule, "legal-anywhere");
    ASSERT_EQ(parts.skipped.size(), 1u) << d.explanation;
    EXPECT_EQ(parts.skipped[0].rule, "legal-osh");
    EXPECT_EQ(parts.skipped[0].partner, "legal_osh");
    EXPECT_EQ(parts.skipped[0].why, "closed");

    parts = parse_explanation(route(f.rules.value, f.partners.value,
                                    {"legal_aid", "", "osh", "ky", "", true}, bishkek(1, 12), {})
                                  .explanation);
    EXPECT_EQ(parts.kind, "rule");
    EXPECT_EQ(parts.rule, "urgent");
    EXPECT_EQ(parts.urgent, std::optional<bool>(true));

    parts =
        parse_explanation(route(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", ""},
                                bishkek(1, 12), {{"legal_osh", 2}})
                              .explanation);
    ASSERT_EQ(parts.skipped.size(), 1u);
    EXPECT_EQ(parts.skipped[0].why, "capacity");

    parts = parse_explanation(
        "rule legal-osh (rules.yaml:3) matched: topic=legal_aid, oblast=osh, within its hours;");
    ASSERT_EQ(parts.matched.size(), 2u);
    EXPECT_EQ(parts.matched[0], std::make_pair(std::string("topic"), std::string("legal_aid")));
    EXPECT_EQ(parts.matched[1], std::make_pair(std::string("oblast"), std::string("osh")));
    EXPECT_TRUE(parts.within_hours);
    EXPECT_FALSE(parts.urgent.has_value());

    parts = parse_explanation(route(f.rules.value, f.partners.value,
                                    {"migration", "", "osh", "ky", ""}, bishkek(1, 12), {})
                                  .explanation);
    EXPECT_EQ(parts.kind, "fallback");
    parts = parse_explanation("referred by the hotline (operator:aida)");
    EXPECT_EQ(parts.kind, "operator");
    EXPECT_EQ(parts.by, "operator:aida");
    EXPECT_EQ(parse_explanation("something else entirely").kind, "other");
    EXPECT_EQ(parse_explanation("").kind, "other");
}

// The refer form lists first the partners the rules would pick for the case.
TEST(Rules, LikelyPartnersComeFromMatchingRulesThenOblastAndTopic) {
    Fixture f;
    auto likely =
        likely_partners(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", ""});
    ASSERT_GE(likely.size(), 2u);
    EXPECT_EQ(likely[0], "legal_osh");
    EXPECT_EQ(likely[1], "legal_backup");
    EXPECT_EQ(std::count(likely.begin(), likely.end(), "legal_osh"), 1);
    auto urgent =
        likely_partners(f.rules.value, f.partners.value, {"legal_aid", "", "osh", "ky", "", true});
    ASSERT_FALSE(urgent.empty());
    EXPECT_EQ(urgent[0], "crisis");
}

TEST(Partners, EachNeedsANameInEveryMenuLanguage) {
    Fixture f;
    EXPECT_TRUE(check_partner_names(f.partners.value, {"ky", "ru"}).empty());
    auto d = check_partner_names(f.partners.value, {"ky", "ru", "uz"});
    ASSERT_EQ(d.size(), f.partners.value.partners.size());
    EXPECT_NE(d[0].message.find("names.uz is missing"), std::string::npos) << d[0].message;
    EXPECT_FALSE(d[0].warning);
}

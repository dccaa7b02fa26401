#pragma once
// Referral rules (referral-rules/*.yaml): an ordered list, first match
// wins. A rule matches case attributes (topic, subtopic, oblast, language,
// urgency, target group, local time of day) and routes to a partner queue,
// optionally only while that partner works and has capacity. When no rule
// routes a case, it goes to the hotline operators.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/diagnostic.hpp"
#include "referral/partners.hpp"

namespace gw::referral {

// What routing looks at.
struct case_facts {
    std::string topic, subtopic, oblast, language, target_group;
    bool urgent = false;
};

struct rule {
    std::string id;
    std::map<std::string, std::set<std::string>> match;  // attribute -> accepted values
    std::optional<bool> urgent;
    int from_minute = -1, to_minute = -1;  // local time of day window; -1 = any
    std::string partner;
    bool only_when_open = false;
    bool only_with_capacity = false;
    gw::source_location where;
};

struct rule_set {
    std::vector<rule> rules;
    std::string source;  // file, for explanations
};

struct rules_result {
    rule_set value;
    std::vector<gw::diagnostic> diagnostics;
};

// Reads every *.yaml file of a directory (in name order) as one list.
rules_result load_rules(const std::string& directory);

// Checks rules against partners and the topics the menus can produce.
std::vector<gw::diagnostic> check_rules(const rule_set& rules, const partner_directory& partners,
                                        const std::set<std::string>& menu_topics);

// Checks the values rules match on (oblast, target_group, subtopic,
// language) against those the menus can set (`language`: the menu's
// languages). A value no menu sets means the rule never matches.
std::vector<gw::diagnostic> check_rule_values(
    const rule_set& rules, const std::map<std::string, std::set<std::string>>& menu_values);

struct routing_decision {
    std::string partner;  // empty: to the hotline operators
    std::string rule;     // matching rule id, empty for the operators fallback
    std::string explanation;
};

// A stored explanation (route()'s text) taken apart, so the console can
// say it in Kyrgyz or Russian. kind: "rule" (a rule matched), "fallback"
// (none did: the operators), "operator" (referred by hand), "other" (text
// this version does not know: shown as it is).
struct explanation_parts {
    struct skip {
        std::string rule, partner;
        std::string why;  // had_case, closed, capacity
    };
    std::string kind = "other";
    std::string rule;
    std::string by;                                            // kind operator: who
    std::vector<std::pair<std::string, std::string>> matched;  // attribute, value
    std::optional<bool> urgent;
    bool within_hours = false;
    std::vector<skip> skipped;
};
explanation_parts parse_explanation(const std::string& text);

// Partners an operator would most likely refer this case to: those of the
// rules matching its facts, in rule order (hours and capacity aside), then
// those serving its oblast and topic. Each once.
std::vector<std::string> likely_partners(const rule_set& rules, const partner_directory& partners,
                                         const case_facts& facts);

// Open referrals per partner, for capacity conditions.
using partner_load = std::map<std::string, std::size_t>;

routing_decision route(const rule_set& rules, const partner_directory& partners,
                       const case_facts& facts, time_point now, const partner_load& load,
                       const std::set<std::string>& excluded_partners = {});

}  // namespace gw::referral

#include "referral/rules.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace gw::referral {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> attributes = {"topic", "subtopic", "oblast", "language",
                                          "target_group"};

int local_minute(time_point t, int offset_minutes) {
    auto s = std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count() +
             offset_minutes;
    return static_cast<int>(((s % 1440) + 1440) % 1440);
}

bool parse_window(const std::string& text, int& from, int& to) {
    int h1, m1, h2, m2;
    if (std::sscanf(text.c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4) return false;
    from = h1 * 60 + m1;
    to = h2 * 60 + m2;
    return from >= 0 && to <= 1440 && from != to;
}

std::string fact(const case_facts& f, const std::string& attribute) {
    if (attribute == "topic") return f.topic;
    if (attribute == "subtopic") return f.subtopic;
    if (attribute == "oblast") return f.oblast;
    if (attribute == "language") return f.language;
    return f.target_group;
}

// Does `a` match every case `b` matches, whenever `b` would route it?
// Only an unconditional `a` (no only_if, no hours) can take all of them.
bool covers(const rule& a, const rule& b) {
    if (a.only_when_open || a.only_with_capacity || a.from_minute >= 0) return false;
    if (a.urgent && (!b.urgent || *a.urgent != *b.urgent)) return false;
    for (const auto& [attr, values] : a.match) {
        auto it = b.match.find(attr);
        if (it == b.match.end() || it->second.empty()) return false;
        for (const auto& v : it->second)
            if (!values.count(v)) return false;
    }
    return true;
}

// A rule placed after a broader one: the first always wins. With another
// partner it still matches a case the first partner declined (a fallback),
// which is worth saying too.
void shadowing(const rule_set& rules, const rule& r, std::vector<gw::diagnostic>& d) {
    for (const auto& earlier : rules.rules) {
        if (&earlier == &r) return;
        if (!covers(earlier, r)) continue;
        const std::string at = earlier.where.file + ":" + std::to_string(earlier.where.line);
        if (earlier.partner == r.partner)
            d.push_back({r.where,
                         "rule " + r.id + " can never match: the earlier rule " + earlier.id +
                             " (" + at + ") matches every case it does",
                         true});
        else
            d.push_back({r.where,
                         "rule " + r.id + " is shadowed by the earlier rule " + earlier.id + " (" +
                             at + "): it matches only cases " + earlier.partner +
                             " declined or let run out",
                         true});
        return;
    }
}

}  // namespace

rules_result load_rules(const std::string& directory) {
    rules_result r;
    auto& d = r.diagnostics;
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(directory, ec))
        if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
    if (ec) d.push_back({{directory, 0}, "cannot read the rules directory: " + ec.message()});
    std::sort(files.begin(), files.end());
    r.value.source = directory;
    std::set<std::string> ids;
    for (const auto& file : files) {
        const std::string path = file.string();
        auto at = [&](const YAML::Node& n) { return gw::source_location{path, n.Mark().line + 1}; };
        try {
            YAML::Node root = YAML::LoadFile(path);
            if (!root.IsMap() || !root["rules"] || !root["rules"].IsSequence()) {
                d.push_back({{path, 1}, "expected a `rules:` list"});
                continue;
            }
            for (const auto& n : root["rules"]) {
                rule ru;
                ru.where = at(n);
                if (!n.IsMap()) {
                    d.push_back({ru.where, "each rule must be a map of keys"});
                    continue;
                }
                ru.id = n["id"].as<std::string>("");
                for (const auto& kv : n) {
                    const std::string key = kv.first.as<std::string>();
                    if (key != "id" && key != "when" && key != "route_to" && key != "only_if")
                        d.push_back({at(kv.first), "rule " + ru.id + ": unknown key " + key +
                                                       " (id, when, route_to, only_if)"});
                }
                if (ru.id.empty()) d.push_back({ru.where, "rule without id"});
                if (!ids.insert(ru.id).second)
                    d.push_back({ru.where, "duplicate rule id " + ru.id});
                ru.partner = n["route_to"].as<std::string>("");
                if (ru.partner.empty())
                    d.push_back({ru.where, "rule " + ru.id + " needs route_to"});
                if (const auto when = n["when"]; when) {
                    for (const auto& kv : when) {
                        std::string key = kv.first.as<std::string>();
                        if (key == "urgent") {
                            ru.urgent = kv.second.as<bool>();
                        } else if (key == "hours") {
                            if (!parse_window(kv.second.as<std::string>(), ru.from_minute,
                                              ru.to_minute))
                                d.push_back({at(kv.second), "hours must look like 08:00-18:00"});
                        } else if (attributes.count(key)) {
                            auto& values = ru.match[key];
                            if (kv.second.IsSequence())
                                for (const auto& v : kv.second) values.insert(v.as<std::string>());
                            else
                                values.insert(kv.second.as<std::string>());
                        } else {
                            d.push_back(
                                {at(kv.first), "rule " + ru.id + ": unknown condition " + key});
                        }
                    }
                }
                if (const auto only = n["only_if"]; only) {
                    for (const auto& v : only) {
                        std::string c = v.as<std::string>();
                        if (c == "partner_open")
                            ru.only_when_open = true;
                        else if (c == "partner_has_capacity")
                            ru.only_with_capacity = true;
                        else
                            d.push_back({at(v),
                                         "only_if takes partner_open or "
                                         "partner_has_capacity"});
                    }
                }
                r.value.rules.push_back(std::move(ru));
            }
        } catch (const YAML::Exception& e) {
            d.push_back({{path, e.mark.line + 1}, e.msg});
        }
    }
    return r;
}

std::vector<gw::diagnostic> check_rules(const rule_set& rules, const partner_directory& partners,
                                        const std::set<std::string>& menu_topics) {
    std::vector<gw::diagnostic> d;
    std::set<std::string> routed_topics;
    bool catch_all_seen = false;
    for (const auto& r : rules.rules) {
        const partner* p = partners.find(r.partner);
        if (!p) {
            d.push_back({r.where, "rule " + r.id + " routes to unknown partner " + r.partner});
            continue;
        }
        if (catch_all_seen)
            d.push_back({r.where, "rule " + r.id +
                                      " can never match: an earlier rule matches "
                                      "every case"});
        // A value the partner does not serve, or the menus never produce, never matches.
        auto never = [&](const std::string& why) {
            d.push_back({r.where, "rule " + r.id + " can never match: " + why});
        };
        if (auto it = r.match.find("topic"); it != r.match.end()) {
            for (const auto& t : it->second) {
                if (!menu_topics.count(t)) never("no menu sets topic " + t);
                if (!p->topics.empty() && !p->topics.count(t))
                    d.push_back(
                        {r.where,
                         "rule " + r.id + ": partner " + p->id + " does not serve topic " + t,
                         true});
                routed_topics.insert(t);
            }
        } else if (r.urgent.value_or(false)) {
            routed_topics.insert("urgent");  // the menus' urgent help always escalates
        } else if (!r.urgent) {
            routed_topics.insert(menu_topics.begin(), menu_topics.end());
        }
        if (auto it = r.match.find("oblast"); it != r.match.end())
            for (const auto& o : it->second)
                if (!p->oblasts.empty() && !p->oblasts.count(o))
                    d.push_back(
                        {r.where,
                         "rule " + r.id + ": partner " + p->id + " does not serve oblast " + o,
                         true});
        for (const auto& [attr, values] : r.match)
            if (values.empty()) never(attr + " has no values");
        if (!catch_all_seen) shadowing(rules, r, d);
        if (r.match.empty() && !r.urgent && r.from_minute < 0 && !r.only_when_open &&
            !r.only_with_capacity)
            catch_all_seen = true;
    }
    for (const auto& t : menu_topics)
        if (!routed_topics.count(t))
            d.push_back({{rules.source, 0},
                         "topic " + t + " has no route: every such case goes to the operators",
                         true});
    return d;
}

routing_decision route(const rule_set& rules, const partner_directory& partners,
                       const case_facts& facts, time_point now, const partner_load& load,
                       const std::set<std::string>& excluded) {
    std::string skipped;
    for (const auto& r : rules.rules) {
        bool matches = true;
        std::string why;
        for (const auto& [attr, values] : r.match) {
            if (!values.count(fact(facts, attr))) {
                matches = false;
                break;
            }
            why += (why.empty() ? "" : ", ") + attr + "=" + fact(facts, attr);
        }
        if (!matches) continue;
        if (r.urgent && *r.urgent != facts.urgent) continue;
        if (r.urgent)
            why += std::string(why.empty() ? "" : ", ") + (facts.urgent ? "urgent" : "not urgent");
        const partner* p = partners.find(r.partner);
        if (!p) continue;
        if (r.from_minute >= 0) {
            int m = local_minute(now, p->hours.utc_offset_minutes);
            bool inside = r.from_minute < r.to_minute ? (m >= r.from_minute && m < r.to_minute)
                                                      : (m >= r.from_minute || m < r.to_minute);
            if (!inside) continue;
            why += std::string(why.empty() ? "" : ", ") + "within its hours";
        }
        const std::string where = r.where.file + ":" + std::to_string(r.where.line);
        if (excluded.count(p->id)) {
            skipped += " rule " + r.id + " skipped: " + p->id + " already had this case;";
            continue;
        }
        if (r.only_when_open && !p->hours.open_at(now)) {
            skipped += " rule " + r.id + " skipped: " + p->id + " closed now;";
            continue;
        }
        if (r.only_with_capacity && p->capacity > 0) {
            auto it = load.find(p->id);
            std::size_t open = it == load.end() ? 0 : it->second;
            if (open >= p->capacity) {
                skipped += " rule " + r.id + " skipped: " + p->id + " at capacity;";
                continue;
            }
        }
        return {p->id, r.id,
                "rule " + r.id + " (" + where + ") matched" + (why.empty() ? "" : ": " + why) +
                    ";" + skipped};
    }
    return {"", "", "no rule routed this case, so it goes to the hotline operators;" + skipped};
}

}  // namespace gw::referral

namespace gw::referral {

std::vector<gw::diagnostic> check_rule_values(
    const rule_set& rules, const std::map<std::string, std::set<std::string>>& menu_values) {
    std::vector<gw::diagnostic> d;
    for (const auto& r : rules.rules)
        for (const auto& [attr, values] : r.match) {
            if (attr == "topic") continue;  // check_rules reports topics
            auto known = menu_values.find(attr);
            for (const auto& v : values)
                if (known == menu_values.end() || !known->second.count(v))
                    d.push_back({r.where, "rule " + r.id + " can never match: no menu sets " +
                                              attr + " " + v});
        }
    return d;
}

}  // namespace gw::referral

namespace gw::referral {

std::vector<std::string> likely_partners(const rule_set& rules, const partner_directory& partners,
                                         const case_facts& facts) {
    std::vector<std::string> out;
    auto add = [&](const std::string& id) {
        if (!id.empty() && partners.find(id) && std::find(out.begin(), out.end(), id) == out.end())
            out.push_back(id);
    };
    for (const auto& r : rules.rules) {
        bool matches = !r.urgent || *r.urgent == facts.urgent;
        for (const auto& [attr, values] : r.match)
            matches = matches && values.count(fact(facts, attr)) > 0;
        if (matches) add(r.partner);
    }
    for (const auto& p : partners.partners)
        if ((p.oblasts.empty() || p.oblasts.count(facts.oblast)) &&
            (p.topics.empty() || p.topics.count(facts.topic)))
            add(p.id);
    return out;
}

explanation_parts parse_explanation(const std::string& text) {
    explanation_parts out;
    std::vector<std::string> clauses;
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find(';', start);
        if (end == std::string::npos) end = text.size();
        std::string c = text.substr(start, end - start);
        while (!c.empty() && c.front() == ' ') c.erase(0, 1);
        if (!c.empty()) clauses.push_back(c);
        start = end + 1;
    }
    if (clauses.empty()) return out;
    const std::string& head = clauses.front();
    static const std::string operator_prefix = "referred by the hotline (";
    if (head.rfind(operator_prefix, 0) == 0 && head.back() == ')') {
        out.kind = "operator";
        out.by = head.substr(operator_prefix.size(), head.size() - operator_prefix.size() - 1);
        return out;
    }
    if (head.rfind("no rule routed this case", 0) == 0) {
        out.kind = "fallback";
    } else if (head.rfind("rule ", 0) == 0 && head.find(" matched") != std::string::npos) {
        out.kind = "rule";
        out.rule = head.substr(5, head.find(' ', 5) - 5);
        if (auto colon = head.find("matched: "); colon != std::string::npos) {
            std::string rest = head.substr(colon + 9);
            for (std::size_t start = 0; start <= rest.size();) {
                auto end = rest.find(", ", start);
                if (end == std::string::npos) end = rest.size();
                std::string item = rest.substr(start, end - start);
                if (item == "urgent")
                    out.urgent = true;
                else if (item == "not urgent")
                    out.urgent = false;
                else if (item == "within its hours")
                    out.within_hours = true;
                else if (auto eq = item.find('='); eq != std::string::npos)
                    out.matched.emplace_back(item.substr(0, eq), item.substr(eq + 1));
                start = end + 2;
            }
        }
    } else {
        return out;  // "other"
    }
    for (std::size_t i = 1; i < clauses.size(); ++i) {
        // "rule R skipped: P already had this case" / "closed now" / "at capacity"
        const std::string& c = clauses[i];
        auto sk = c.find(" skipped: ");
        if (c.rfind("rule ", 0) != 0 || sk == std::string::npos) continue;
        explanation_parts::skip s;
        s.rule = c.substr(5, sk - 5);
        std::string rest = c.substr(sk + 10);
        s.partner = rest.substr(0, rest.find(' '));
        const std::string reason = rest.substr(s.partner.size());
        s.why = reason == " already had this case" ? "had_case"
                : reason == " closed now"          ? "closed"
                : reason == " at capacity"         ? "capacity"
                                                   : "other";
        out.skipped.push_back(std::move(s));
    }
    return out;
}

}  // namespace gw::referral

#include "app/operator_api.hpp"

#include <set>

#include "app/dashboard_api.hpp"
#include "app/json_http.hpp"
#include "app/route_table.hpp"
#include "common/form.hpp"
#include "common/phone.hpp"
#include "referral/rules.hpp"

namespace gw::app {
namespace {

using nlohmann::json;
using service::action_error;

json to_json(const store::case_record& c) {
    json out = {
        {"reference", c.reference}, {"status", name(c.status)}, {"assigned_to", c.assigned_to},
        {"urgent", c.urgent},       {"consent", c.consent},     {"notify_sms", c.notify_sms},
        {"topic", c.topic},         {"subtopic", c.subtopic},   {"oblast", c.oblast},
        {"language", c.language},   {"channel", c.channel},     {"target_group", c.target_group},
        {"details", c.details},     {"phone", c.phone},         {"created_at", c.created_at},
        {"outcome", c.outcome},     {"closed_at", c.closed_at}};
    out["safe_to_call"] = c.safe_to_call ? json(*c.safe_to_call) : json(nullptr);
    out["contact"] = c.contact;
    out["call_time"] = c.call_time;
    return out;
}

json to_json(const store::outbound_message& m) {
    return {{"id", m.id},
            {"purpose", m.purpose},
            {"channel", m.channel},
            {"recipient", m.recipient},
            {"attempts", m.attempts},
            {"last_error", m.last_error},
            {"status", name(m.status)},
            {"body", m.body},
            {"created_at", m.created_at}};
}

json to_json(const store::operator_account& a) {
    return {{"username", a.username},
            {"display_name", a.display_name},
            {"role", a.role},
            {"active", a.active},
            {"created_at", a.created_at}};
}

json to_json(const service::operator_identity& who) {
    return {{"username", who.username},
            {"display_name", who.display_name},
            {"role", service::role_name(who.role)}};
}

json to_json(const referral::explanation_parts& e) {
    json matched = json::array(), skipped = json::array();
    for (const auto& [attr, value] : e.matched)
        matched.push_back({{"attr", attr}, {"value", value}});
    for (const auto& s : e.skipped)
        skipped.push_back({{"rule", s.rule}, {"partner", s.partner}, {"why", s.why}});
    return {{"kind", e.kind},
            {"rule", e.rule},
            {"by", e.by},
            {"matched", matched},
            {"urgent", e.urgent ? json(*e.urgent) : json(nullptr)},
            {"within_hours", e.within_hours},
            {"skipped", skipped}};
}

json to_json(const service::case_view& v) {
    json out = to_json(v.c);
    out["sms_blocked"] = v.sms_blocked;
    json transcript = json::array();
    for (const auto& t : v.transcript)
        transcript.push_back({{"screen", t.screen}, {"text", t.text}});
    out["transcript"] = transcript;
    out["choices"] = v.choices;
    json referrals = json::array();
    for (const auto& rv : v.referrals) {
        json history = json::array();
        for (const auto& e : rv.history)
            history.push_back(
                {{"actor", e.actor}, {"action", e.action}, {"detail", e.detail}, {"at", e.at}});
        referrals.push_back(
            {{"id", rv.r.id},
             {"partner", rv.r.partner},
             {"status", name(rv.r.status)},
             {"rule", rv.r.rule},
             {"explanation", rv.r.explanation},
             {"explanation_parts", to_json(referral::parse_explanation(rv.r.explanation))},
             {"reason", rv.r.reason},
             {"outcome", rv.r.outcome},
             {"due_at", rv.r.due_at},
             {"created_at", rv.r.created_at},
             {"history", history}});
    }
    out["referrals"] = referrals;
    json notes = json::array();
    for (const auto& n : v.notes)
        notes.push_back({{"author", n.author}, {"text", n.text}, {"at", n.at}});
    out["notes"] = notes;
    json messages = json::array();
    for (const auto& m : v.messages)
        messages.push_back({{"id", m.id},
                            {"body", m.body},
                            {"status", name(m.status)},
                            {"purpose", m.purpose},
                            {"created_at", m.created_at}});
    out["messages"] = messages;
    json templates = json::array();
    for (const auto& t : v.templates)
        templates.push_back({{"id", t.id}, {"label", t.label}, {"text", t.text}});
    out["templates"] = templates;
    return out;
}

// After an action the console shows the case again: the whole file,
// without another "viewed" line in the audit trail (the action has its own).
json case_file(service::hotline_service& hotline, const service::operator_identity& me,
               const store::case_record& c) {
    auto view = hotline.open_case(me, c.reference, false);
    if (auto* v = std::get_if<service::case_view>(&view)) return to_json(*v);
    store::case_record bare = c;  // not expected; then nothing of hers
    bare.phone = mask_phone(c.phone);
    bare.details.clear();
    bare.outcome.clear();
    return to_json(bare);
}

template <class T, class F>
http::response answer(const service::outcome<T>& result, F&& to_body) {
    if (auto* e = std::get_if<action_error>(&result)) return json_error(*e);
    return json_response(200, to_body(std::get<T>(result)));
}

bool is_number(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

// One call's context: who is calling (after log-in), the path's
// parameters and, for POST and PATCH, the JSON object it sent.
struct operator_call {
    const http::request& req;
    service::operator_accounts& accounts;
    service::hotline_service& hotline;
    const service::operator_identity& me;
    const std::string& token;
    const path_params& params;
    const json& body;

    const std::string& param(const char* name) const { return params.at(name); }
    std::string field(const char* name) const { return json_string(body, name); }
};

using operator_handler = http::response (*)(const operator_call&);

// --- the routes, each a short function

http::response logout(const operator_call& c) {
    c.accounts.logout(c.token, c.me);
    return json_response(200, json::object());
}

http::response me(const operator_call& c) {
    return json_response(200, to_json(c.me));
}

http::response queue(const operator_call& c) {
    auto q = parse_form(c.req.query);
    std::string filter = q && q->find("filter") ? *q->find("filter") : "all";
    if (filter != "all" && filter != "mine" && filter != "unclaimed")
        return json_error(400, "filter must be all, mine or unclaimed");
    auto view = c.hotline.queue(c.me, filter);
    json items = json::array(), messages = json::array();
    for (const auto& i : view.items)
        // What a list needs; the case file (audited) has the rest.
        items.push_back({{"reference", i.c.reference},
                         {"reasons", i.reasons},
                         {"urgent", i.c.urgent},
                         {"topic", i.c.topic},
                         {"oblast", i.c.oblast},
                         {"language", i.c.language},
                         {"channel", i.c.channel},
                         {"status", name(i.c.status)},
                         {"assigned_to", i.c.assigned_to},
                         {"created_at", i.c.created_at}});
    for (const auto& m : view.failed_messages) {
        json j = to_json(m);
        j["updated_at"] = m.created_at;
        messages.push_back(std::move(j));
    }
    json out = {{"items", items}, {"messages", messages}};
    // Lets the console skip redrawing an unchanged queue.
    out["version"] = std::to_string(std::hash<std::string>{}(out.dump()));
    return json_response(200, out);
}

http::response labels(const operator_call& c) {
    return json_response(200, c.hotline.labels());
}

http::response search(const operator_call& c) {
    auto q = parse_form(c.req.query);
    if (!q) return json_error(400, q.error());
    const std::string* text = q->find("q");
    return answer(c.hotline.search(c.me, text ? *text : std::string()),
                  [](const std::vector<store::case_record>& found) {
                      json matches = json::array();
                      for (const auto& m : found)
                          matches.push_back({{"reference", m.reference},
                                             {"status", name(m.status)},
                                             {"urgent", m.urgent},
                                             {"topic", m.topic},
                                             {"oblast", m.oblast},
                                             {"language", m.language},
                                             {"channel", m.channel},
                                             {"created_at", m.created_at}});
                      return json{{"matches", matches}};
                  });
}

http::response open_case(const operator_call& c) {
    return answer(c.hotline.open_case(c.me, c.param("reference")),
                  [](const auto& v) { return to_json(v); });
}

// After an action on a case: the case file again.
auto case_body(const operator_call& c) {
    return [&c](const store::case_record& rec) { return case_file(c.hotline, c.me, rec); };
}

http::response claim(const operator_call& c) {
    const bool force =
        c.body.contains("force") && c.body["force"].is_boolean() && c.body["force"].get<bool>();
    return answer(c.hotline.claim(c.me, c.param("reference"), force), case_body(c));
}

http::response release(const operator_call& c) {
    return answer(c.hotline.release(c.me, c.param("reference")), case_body(c));
}

http::response add_note(const operator_call& c) {
    return answer(c.hotline.add_note(c.me, c.param("reference"), c.field("text")), case_body(c));
}

http::response reply(const operator_call& c) {
    return answer(
        c.hotline.reply(c.me, c.param("reference"), c.field("template")),
        [](const store::outbound_message& m) {
            return json{{"message_id", m.id}, {"text", m.body}, {"status", name(m.status)}};
        });
}

http::response refer(const operator_call& c) {
    return answer(c.hotline.refer(c.me, c.param("reference"), c.field("partner"), c.field("note")),
                  case_body(c));
}

http::response close_case(const operator_call& c) {
    return answer(c.hotline.close(c.me, c.param("reference"), c.field("outcome")), case_body(c));
}

http::response revoke_referral(const operator_call& c) {
    if (!is_number(c.param("id"))) return json_error(404, "no such referral", "no_referral");
    return answer(c.hotline.revoke(c.me, std::stoll(c.param("id")), c.field("reason")),
                  case_body(c));
}

http::response retry_message(const operator_call& c) {
    if (!is_number(c.param("id"))) return json_error(404, "no such message", "no_message");
    return answer(c.hotline.retry_message(c.me, std::stoll(c.param("id"))),
                  [](const store::outbound_message& m) {
                      return json{{"id", m.id}, {"status", name(m.status)}};
                  });
}

json partner_json(const service::partner_status& p) {
    return json{{"id", p.id},     {"name", p.name},     {"names", p.names},
                {"open", p.open}, {"paused", p.paused}, {"suggested", p.suggested}};
}

json partner_list(const std::vector<service::partner_status>& ps) {
    json list = json::array();
    for (const auto& p : ps) list.push_back(partner_json(p));
    return json{{"partners", list}};
}

http::response partners(const operator_call& c) {
    auto q = parse_form(c.req.query);
    if (!q) return json_error(400, q.error());
    // ?case=R-...: those likely for that case first (the refer form).
    if (const std::string* ref = q->find("case"))
        return answer(c.hotline.partners_for(c.me, *ref), partner_list);
    return json_response(200, partner_list(c.hotline.partners()));
}

http::response pause_partner(const operator_call& c) {
    return answer(c.hotline.set_paused(c.me, c.param("id"), true), partner_json);
}

http::response resume_partner(const operator_call& c) {
    return answer(c.hotline.set_paused(c.me, c.param("id"), false), partner_json);
}

// Account management is for supervisors only.
http::response supervisors_only() {
    return json_error(403, "supervisors only", "supervisors_only");
}

http::response list_operators(const operator_call& c) {
    if (!c.me.supervisor()) return supervisors_only();
    json list = json::array();
    for (const auto& a : c.accounts.list()) list.push_back(to_json(a));
    return json_response(200, {{"operators", list}});
}

http::response add_operator(const operator_call& c) {
    if (!c.me.supervisor()) return supervisors_only();
    return answer(c.accounts.add(c.me.actor(), c.field("username"), c.field("display_name"),
                                 c.field("role"), c.field("password")),
                  [](const store::operator_account& a) { return to_json(a); });
}

http::response change_operator(const operator_call& c) {
    if (!c.me.supervisor()) return supervisors_only();
    service::operator_change change;
    if (c.body.contains("display_name")) change.display_name = c.field("display_name");
    if (c.body.contains("role")) change.role = c.field("role");
    if (c.body.contains("password")) change.password = c.field("password");
    if (c.body.contains("active")) {
        if (!c.body["active"].is_boolean()) return json_error(400, "active must be true or false");
        change.active = c.body["active"].get<bool>();
    }
    if (c.param("username") == c.me.username && change.active == false)
        return json_error(409, "you cannot disable your own account", "self_disable");
    return answer(c.accounts.change(c.me.actor(), c.param("username"), change),
                  [](const store::operator_account& a) { return to_json(a); });
}

http::response audit(const operator_call& c) {
    auto q = parse_form(c.req.query);
    if (!q) return json_error(400, q.error());
    std::string ref = q->find("case") ? *q->find("case") : "";
    std::size_t limit = 200;
    if (const std::string* l = q->find("limit"); l && is_number(*l) && l->size() <= 4)
        limit = std::stoul(*l);
    return answer(c.hotline.audit(c.me, ref, limit),
                  [](const std::vector<store::audit_record>& es) {
                      json list = json::array();
                      for (const auto& e : es)
                          list.push_back({{"at", e.at},
                                          {"actor", e.actor},
                                          {"action", e.action},
                                          {"case_reference", e.case_reference},
                                          {"detail", e.detail}});
                      return json{{"events", list}};
                  });
}

http::response statistics_csv(const operator_call& c) {
    auto csv = c.hotline.statistics_csv(c.me);
    if (auto* e = std::get_if<action_error>(&csv)) return json_error(*e);
    http::response r;
    r.content_type = "text/csv; charset=utf-8";
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"hotline-statistics.csv\"");
    r.body = std::get<std::string>(csv);
    return r;
}

http::response dashboard(const operator_call& c) {
    return handle_dashboard(c.req, c.me, c.hotline);
}

// Who may call a route besides operators and supervisors: programme staff
// see anonymous counts only (no queue, no case, no account).
bool programme_may(const std::string& pattern) {
    return pattern == "me" || pattern == "logout" || pattern == "labels" ||
           pattern == "dashboard" || pattern == "dashboard.csv";
}

const route_table<operator_handler>& operator_routes() {
    // POST login is answered before this table (it needs no token).
    static const route_table<operator_handler> table({
        {"POST", "logout", logout},
        {"GET", "me", me},
        {"GET", "queue", queue},
        {"GET", "labels", labels},
        {"GET", "search", search},
        {"GET", "cases/{reference}", open_case},
        {"POST", "cases/{reference}/claim", claim},
        {"POST", "cases/{reference}/release", release},
        {"POST", "cases/{reference}/notes", add_note},
        {"POST", "cases/{reference}/reply", reply},
        {"POST", "cases/{reference}/refer", refer},
        {"POST", "cases/{reference}/close", close_case},
        {"POST", "referrals/{id}/revoke", revoke_referral},
        {"POST", "messages/{id}/retry", retry_message},
        {"GET", "partners", partners},
        {"POST", "partners/{id}/pause", pause_partner},
        {"POST", "partners/{id}/resume", resume_partner},
        {"GET", "operators", list_operators},
        {"POST", "operators", add_operator},
        {"PATCH", "operators/{username}", change_operator},
        {"GET", "audit", audit},
        {"GET", "stats.csv", statistics_csv},
        {"GET", "dashboard", dashboard},
        {"GET", "dashboard.csv", dashboard},
    });
    return table;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> operator_api_routes() {
    std::vector<std::pair<std::string, std::string>> out = {{"POST", "login"}};
    for (const auto& r : operator_routes().routes()) out.emplace_back(r.method, r.pattern);
    return out;
}

http::response handle_operator_api(const http::request& req, service::operator_accounts& accounts,
                                   service::hotline_service& hotline) {
    const std::string rest = req.path.substr(std::string(operator_api_prefix).size());
    if (rest == "login") {
        if (req.method != "POST") return json_error(405, "method not allowed");
        http::response bad;
        auto body = json_object_body(req, bad);
        if (!body) return bad;
        auto result = accounts.login(json_string(*body, "username"), json_string(*body, "password"),
                                     req.remote_address);
        if (auto* refused = std::get_if<action_error>(&result)) return json_error(*refused);
        const auto& ok = std::get<service::login_ok>(result);
        return json_response(
            200,
            {{"token", ok.token}, {"expires_at", ok.expires_at}, {"operator", to_json(ok.who)}});
    }

    const std::string* auth = req.header("Authorization");
    std::optional<service::operator_identity> who;
    std::string token;
    if (auth && auth->rfind("Bearer ", 0) == 0) {
        token = auth->substr(7);
        who = accounts.authenticate(token);
    }
    if (!who) {
        auto r = json_error(401, "log in first (missing, invalid or expired token)");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    auto found = operator_routes().find(req.method, rest);
    if (auto* miss = std::get_if<route_table<operator_handler>::unmatched>(&found))
        return json_no_route(miss->allow);
    const auto& [route, params] = std::get<route_table<operator_handler>::matched>(found);
    if (who->programme() && !programme_may(route->pattern))
        return json_error(403, "programme accounts see the dashboard only", "forbidden");
    json body = json::object();
    if (req.method == "POST" || req.method == "PATCH") {
        http::response bad;
        auto parsed = json_object_body(req, bad);
        if (!parsed) return bad;
        body = std::move(*parsed);
    }
    return route->handle({req, accounts, hotline, *who, token, params, body});
}

}  // namespace gw::app

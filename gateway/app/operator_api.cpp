#include "app/operator_api.hpp"

#include <set>

#include "app/dashboard_api.hpp"
#include "app/json_http.hpp"
#include "common/form.hpp"
#include "common/phone.hpp"
#include "referral/rules.hpp"

namespace gw::app {
namespace {

using nlohmann::json;
using service::action_error;

json to_json(const store::case_record& c) {
    json out = {
        {"reference", c.reference}, {"status", c.status},      {"assigned_to", c.assigned_to},
        {"urgent", c.urgent},       {"consent", c.consent},    {"notify_sms", c.notify_sms},
        {"topic", c.topic},         {"subtopic", c.subtopic},  {"oblast", c.oblast},
        {"language", c.language},   {"channel", c.channel},    {"target_group", c.target_group},
        {"details", c.details},     {"phone", c.phone},        {"created_at", c.created_at},
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
            {"status", m.status},
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
    return {{"username", who.username}, {"display_name", who.display_name}, {"role", who.role}};
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
             {"status", rv.r.status},
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
                            {"status", m.status},
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
    if (auto* e = std::get_if<action_error>(&result))
        return json_error(e->status, e->reason, e->code);
    return json_response(200, to_body(std::get<T>(result)));
}

bool is_number(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::vector<std::string> split_path(const std::string& rest) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= rest.size()) {
        auto slash = rest.find('/', start);
        if (slash == std::string::npos) slash = rest.size();
        if (slash > start) parts.push_back(rest.substr(start, slash - start));
        start = slash + 1;
    }
    return parts;
}

}  // namespace

http::response handle_operator_api(const http::request& req, service::operator_accounts& accounts,
                                   service::hotline_service& hotline) {
    const auto parts = split_path(req.path.substr(std::string(operator_api_prefix).size()));
    if (parts.empty()) return json_error(404, "not found");
    const bool get = req.method == "GET", post = req.method == "POST";
    http::response bad;

    if (parts.size() == 1 && parts[0] == "login") {
        if (!post) return json_error(405, "method not allowed");
        auto body = json_object_body(req, bad);
        if (!body) return bad;
        auto result = accounts.login(json_string(*body, "username"), json_string(*body, "password"),
                                     req.remote_address);
        if (auto* refused = std::get_if<service::login_refused>(&result)) {
            auto r = json_error(refused->status, refused->reason);
            if (refused->retry_after > 0)
                r.headers.emplace_back("Retry-After", std::to_string(refused->retry_after));
            return r;
        }
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
    const auto& me = *who;
    const std::string& first = parts[0];
    const std::size_t n = parts.size();
    // Programme staff see anonymous counts only: no queue, no case, no account.
    static const std::set<std::string> programme_paths = {"me", "logout", "labels", "dashboard",
                                                          "dashboard.csv"};
    if (me.programme() && !(n == 1 && programme_paths.count(first)))
        return json_error(403, "programme accounts see the dashboard only", "forbidden");
    std::optional<json> body;
    if (post || req.method == "PATCH") {
        body = json_object_body(req, bad);
        if (!body) return bad;
    }

    if (n == 1 && first == "logout") {
        if (!post) return json_error(405, "method not allowed");
        accounts.logout(token, me);
        return json_response(200, json::object());
    }
    if (n == 1 && first == "me") {
        if (!get) return json_error(405, "method not allowed");
        return json_response(200, to_json(me));
    }
    if (n == 1 && first == "queue") {
        if (!get) return json_error(405, "method not allowed");
        auto q = parse_form(req.query);
        std::string filter = q && q->find("filter") ? *q->find("filter") : "all";
        if (filter != "all" && filter != "mine" && filter != "unclaimed")
            return json_error(400, "filter must be all, mine or unclaimed");
        auto view = hotline.queue(me, filter);
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
                             {"status", i.c.status},
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
    if (n == 1 && first == "labels") {
        if (!get) return json_error(405, "method not allowed");
        return json_response(200, hotline.labels());
    }
    if (n == 1 && first == "search") {
        if (!get) return json_error(405, "method not allowed");
        auto q = parse_form(req.query);
        if (!q) return json_error(400, q.error());
        const std::string* text = q->find("q");
        return answer(hotline.search(me, text ? *text : std::string()),
                      [](const std::vector<store::case_record>& found) {
                          json matches = json::array();
                          for (const auto& c : found)
                              matches.push_back({{"reference", c.reference},
                                                 {"status", c.status},
                                                 {"urgent", c.urgent},
                                                 {"topic", c.topic},
                                                 {"oblast", c.oblast},
                                                 {"language", c.language},
                                                 {"channel", c.channel},
                                                 {"created_at", c.created_at}});
                          return json{{"matches", matches}};
                      });
    }
    if (first == "cases" && n >= 2) {
        const std::string& ref = parts[1];
        if (n == 2) {
            if (!get) return json_error(405, "method not allowed");
            return answer(hotline.open_case(me, ref), [](const auto& v) { return to_json(v); });
        }
        if (n != 3) return json_error(404, "not found");
        if (!post) return json_error(405, "method not allowed");
        const std::string& verb = parts[2];
        auto case_body = [&](const store::case_record& c) { return case_file(hotline, me, c); };
        if (verb == "claim") {
            bool force = body->contains("force") && (*body)["force"].is_boolean() &&
                         (*body)["force"].get<bool>();
            return answer(hotline.claim(me, ref, force), case_body);
        }
        if (verb == "release") return answer(hotline.release(me, ref), case_body);
        if (verb == "notes")
            return answer(hotline.add_note(me, ref, json_string(*body, "text")), case_body);
        if (verb == "reply")
            return answer(
                hotline.reply(me, ref, json_string(*body, "template")),
                [](const store::outbound_message& m) {
                    return json{{"message_id", m.id}, {"text", m.body}, {"status", m.status}};
                });
        if (verb == "refer")
            return answer(
                hotline.refer(me, ref, json_string(*body, "partner"), json_string(*body, "note")),
                case_body);
        if (verb == "close")
            return answer(hotline.close(me, ref, json_string(*body, "outcome")), case_body);
        return json_error(404, "not found");
    }
    if (first == "referrals" && n == 3 && parts[2] == "revoke") {
        if (!post) return json_error(405, "method not allowed");
        if (!is_number(parts[1])) return json_error(404, "no such referral");
        return answer(hotline.revoke(me, std::stoll(parts[1]), json_string(*body, "reason")),
                      [&](const store::case_record& c) { return case_file(hotline, me, c); });
    }
    if (first == "messages" && n == 3 && parts[2] == "retry") {
        if (!post) return json_error(405, "method not allowed");
        if (!is_number(parts[1])) return json_error(404, "no such message");
        return answer(hotline.retry_message(me, std::stoll(parts[1])),
                      [](const store::outbound_message& m) {
                          return json{{"id", m.id}, {"status", m.status}};
                      });
    }
    if (first == "partners") {
        auto partner_json = [](const service::partner_status& p) {
            return json{{"id", p.id},     {"name", p.name},     {"names", p.names},
                        {"open", p.open}, {"paused", p.paused}, {"suggested", p.suggested}};
        };
        auto partner_list = [&](const std::vector<service::partner_status>& ps) {
            json list = json::array();
            for (const auto& p : ps) list.push_back(partner_json(p));
            return json{{"partners", list}};
        };
        if (n == 1) {
            if (!get) return json_error(405, "method not allowed");
            auto q = parse_form(req.query);
            if (!q) return json_error(400, q.error());
            // ?case=R-...: those likely for that case first (the refer form).
            if (const std::string* ref = q->find("case"))
                return answer(hotline.partners_for(me, *ref), partner_list);
            return json_response(200, partner_list(hotline.partners()));
        }
        if (n == 3 && (parts[2] == "pause" || parts[2] == "resume")) {
            if (!post) return json_error(405, "method not allowed");
            return answer(hotline.set_paused(me, parts[1], parts[2] == "pause"), partner_json);
        }
        return json_error(404, "not found");
    }
    if (first == "operators") {
        // Account management is for supervisors only.
        if (!me.supervisor()) return json_error(403, "supervisors only");
        auto account_body = [](const store::operator_account& a) { return to_json(a); };
        if (n == 1 && get) {
            json list = json::array();
            for (const auto& a : accounts.list()) list.push_back(to_json(a));
            return json_response(200, {{"operators", list}});
        }
        if (n == 1 && post)
            return answer(accounts.add(me.actor(), json_string(*body, "username"),
                                       json_string(*body, "display_name"),
                                       json_string(*body, "role"), json_string(*body, "password")),
                          account_body);
        if (n == 2 && req.method == "PATCH") {
            service::operator_change change;
            if (body->contains("display_name"))
                change.display_name = json_string(*body, "display_name");
            if (body->contains("role")) change.role = json_string(*body, "role");
            if (body->contains("password")) change.password = json_string(*body, "password");
            if (body->contains("active")) {
                if (!(*body)["active"].is_boolean())
                    return json_error(400, "active must be true or false");
                change.active = (*body)["active"].get<bool>();
            }
            if (parts[1] == me.username && change.active == false)
                return json_error(409, "you cannot disable your own account");
            return answer(accounts.change(me.actor(), parts[1], change), account_body);
        }
        return n <= 2 ? json_error(405, "method not allowed") : json_error(404, "not found");
    }
    if (n == 1 && first == "audit") {
        if (!get) return json_error(405, "method not allowed");
        auto q = parse_form(req.query);
        if (!q) return json_error(400, q.error());
        std::string ref = q->find("case") ? *q->find("case") : "";
        std::size_t limit = 200;
        if (const std::string* l = q->find("limit"); l && is_number(*l) && l->size() <= 4)
            limit = std::stoul(*l);
        return answer(hotline.audit(me, ref, limit),
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
    if (n == 1 && (first == "dashboard" || first == "dashboard.csv"))
        return handle_dashboard(req, me, hotline);
    if (n == 1 && first == "stats.csv") {
        if (!get) return json_error(405, "method not allowed");
        auto csv = hotline.statistics_csv(me);
        if (auto* e = std::get_if<action_error>(&csv))
            return json_error(e->status, e->reason, e->code);
        http::response r;
        r.content_type = "text/csv; charset=utf-8";
        r.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"hotline-statistics.csv\"");
        r.body = std::get<std::string>(csv);
        return r;
    }
    return json_error(404, "not found");
}

}  // namespace gw::app

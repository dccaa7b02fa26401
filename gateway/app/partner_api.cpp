#include "app/partner_api.hpp"

#include <nlohmann/json.hpp>

#include "app/json_http.hpp"
#include "app/route_table.hpp"
#include "common/form.hpp"
#include "common/text.hpp"

namespace gw::app {
namespace {

using nlohmann::json;

json to_json(const store::referral_record& r, const store::case_record& c) {
    json out = {{"id", r.id},
                {"reference", r.case_reference},
                {"status", name(r.status)},
                {"topic", c.topic},
                {"subtopic", c.subtopic},
                {"oblast", c.oblast},
                {"language", c.language},
                {"target_group", c.target_group},
                {"urgent", c.urgent},
                {"consent", c.consent},
                {"created_at", r.created_at},
                {"updated_at", r.updated_at},
                {"acknowledge_by", r.due_at}};
    if (!r.reason.empty()) out["decline_reason"] = r.reason;
    if (!r.outcome.empty()) out["outcome"] = r.outcome;
    // The consent gate: without her yes, the hotline stays the go-between.
    // Only while the referral is the partner's to work on: not once it was
    // declined, closed, revoked or moved on.
    if (c.consent && is_open(r.status)) {
        out["contact"] = {{"phone", c.phone}};
        // How she may be reached, next to her number: a call she ruled out can hurt her.
        if (!c.contact.empty()) out["contact"]["how"] = c.contact;
        if (!c.call_time.empty()) out["contact"]["call_time"] = c.call_time;
    } else
        out["contact"] = {{"via", "hotline"},
                          {"note", c.consent ? "the referral is no longer open"
                                             : "no consent to share her number"}};
    return out;
}

// A referral of this partner by numeric id or by case reference (R-...).
std::optional<store::referral_record> own_referral(store::store& store, const std::string& partner,
                                                   const std::string& key) {
    if (key.rfind("R-", 0) == 0) {
        auto c = store.find_case(key);
        if (!c) return std::nullopt;
        std::optional<store::referral_record> found;
        for (auto& r : store.case_referrals(c->id))
            if (r.partner == partner) found = r;
        return found;
    }
    if (key.empty() || key.size() > 18 || key.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    auto r = store.find_referral(std::stoll(key));
    if (!r || r->partner != partner) return std::nullopt;
    return r;
}

std::optional<service::partner_action> action_for(const std::string& status) {
    if (status == "accepted") return service::partner_action::accept;
    if (status == "declined") return service::partner_action::decline;
    if (status == "in_progress") return service::partner_action::start;
    if (status == "closed") return service::partner_action::close;
    return std::nullopt;
}

// One call: the partner (authenticated by its token) and the path's parameters.
struct partner_call {
    const http::request& req;
    service::referral_service& referrals;
    store::store& store;
    const referral::partner& partner;
    const std::string& actor;
    const path_params& params;
};

using partner_handler = http::response (*)(const partner_call&);

http::response list_referrals(const partner_call& c) {
    auto q = parse_form(c.req.query);
    if (!q) return json_error(400, q.error());
    auto number = [&](const char* name, long long fallback, long long max) -> long long {
        const std::string* v = q->find(name);
        if (!v || v->empty() || v->size() > 6 ||
            v->find_first_not_of("0123456789") != std::string::npos)
            return fallback;
        return std::min(std::stoll(*v), max);
    };
    std::optional<store::referral_status> status;
    if (const std::string* named = q->find("status"); named && !named->empty()) {
        status = domain::referral_status_named(*named);
        if (!status)
            return json_error(400,
                              "status must be one of new, accepted, declined, in_progress, closed, "
                              "revoked, overdue");
    }
    long long limit = number("limit", 50, 200), offset = number("offset", 0, 1'000'000);
    json list = json::array();
    for (const auto& r : c.store.partner_referrals(c.partner.id, status, limit, offset)) {
        auto rec = c.store.find_case_by_id(r.case_id);
        if (!rec) continue;
        c.referrals.record_view(r.id, c.actor);  // a list shows as much as a single read
        list.push_back(to_json(r, *rec));
    }
    return json_response(200, {{"referrals", list}, {"limit", limit}, {"offset", offset}});
}

http::response show_referral(const partner_call& c) {
    auto r = own_referral(c.store, c.partner.id, c.params.at("key"));
    if (!r) return json_error(404, "no such referral");
    auto rec = c.store.find_case_by_id(r->case_id);
    if (!rec) return json_error(404, "no such referral");
    c.referrals.record_view(r->id, c.actor);
    json body = to_json(*r, *rec);
    json history = json::array();
    for (const auto& e : c.store.referral_events(r->id)) {
        const bool by_partner = e.actor.rfind("partner:", 0) == 0 || e.actor.rfind("sms:", 0) == 0;
        // The hotline's own words (why it withdrew a referral) stay with the hotline.
        const bool by_operator = e.actor.rfind("operator:", 0) == 0;
        history.push_back({{"action", e.action},
                           {"at", e.at},
                           {"detail", by_operator ? std::string() : e.detail},
                           {"by", by_partner ? "partner" : "hotline"}});
    }
    body["history"] = history;
    return json_response(200, body);
}

// A change to one of its referrals: `act` reads the JSON body and acts.
template <class Act>
http::response change_referral(const partner_call& c, Act&& act) {
    auto r = own_referral(c.store, c.partner.id, c.params.at("key"));
    if (!r) return json_error(404, "no such referral");
    http::response bad;
    auto parsed = json_object_body(c.req, bad);
    if (!parsed) return bad;
    std::variant<store::referral_record, service::action_error, http::response> result =
        act(*r, *parsed);
    if (auto* refused = std::get_if<http::response>(&result)) return *refused;
    if (auto* e = std::get_if<service::action_error>(&result)) return json_error(*e);
    auto updated = std::get<store::referral_record>(result);
    auto rec = c.store.find_case_by_id(updated.case_id);
    return json_response(200, to_json(updated, *rec));
}

using change_result = std::variant<store::referral_record, service::action_error, http::response>;

change_result from(std::variant<store::referral_record, service::action_error> v) {
    if (auto* e = std::get_if<service::action_error>(&v)) return *e;
    return std::get<store::referral_record>(v);
}

http::response set_status(const partner_call& c) {
    return change_referral(c, [&](const store::referral_record& r, json& body) -> change_result {
        if (!body.contains("status") || !body["status"].is_string())
            return json_error(400, "`status` is required");
        auto action = action_for(body["status"].get<std::string>());
        if (!action)
            return json_error(400, "status must be accepted, declined, in_progress or closed");
        std::string text;
        for (const char* k : {"reason", "note"})
            if (body.contains(k) && body[k].is_string()) text = body[k].get<std::string>();
        if (text.size() > 2000) return json_error(400, "text longer than 2000 bytes");
        return from(c.referrals.act(c.partner.id, r.id, *action, text, c.actor));
    });
}

http::response add_note(const partner_call& c) {
    return change_referral(c, [&](const store::referral_record& r, json& body) -> change_result {
        if (!body.contains("text") || !body["text"].is_string())
            return json_error(400, "`text` is required");
        std::string text = body["text"].get<std::string>();
        if (text.size() > 2000) return json_error(400, "text longer than 2000 bytes");
        return from(
            c.referrals.act(c.partner.id, r.id, service::partner_action::note, text, c.actor));
    });
}

const route_table<partner_handler>& partner_routes() {
    static const route_table<partner_handler> table({
        {"GET", "referrals", list_referrals},
        {"GET", "referrals/{key}", show_referral},
        {"POST", "referrals/{key}/status", set_status},
        {"POST", "referrals/{key}/notes", add_note},
    });
    return table;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> partner_api_routes() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : partner_routes().routes()) out.emplace_back(r.method, r.pattern);
    return out;
}

http::response handle_partner_api(const http::request& req, service::referral_service& referrals,
                                  store::store& store) {
    auto setup = referrals.setup();
    const std::string* auth = req.header("Authorization");
    const referral::partner* partner = nullptr;
    if (auth && auth->rfind("Bearer ", 0) == 0) partner = setup->partners.by_token(auth->substr(7));
    if (!partner) {
        auto r = json_error(401, "missing or invalid bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    const std::string actor = "partner:" + partner->id;
    auto found =
        partner_routes().find(req.method, req.path.substr(std::string(partner_api_prefix).size()));
    if (auto* miss = std::get_if<route_table<partner_handler>::unmatched>(&found))
        return json_no_route(miss->allow);
    const auto& [entry, params] = std::get<route_table<partner_handler>::matched>(found);
    return entry->handle({req, referrals, store, *partner, actor, params});
}

}  // namespace gw::app

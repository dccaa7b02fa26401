#include "service/hotline_service.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

#include "common/log.hpp"
#include "common/phone.hpp"
#include "common/sealing.hpp"
#include "common/text.hpp"
#include "service/session_codec.hpp"

namespace gw::service {
namespace {

constexpr std::size_t max_text_bytes = 4000;

std::string localized_text(const menu::localized& text, const std::string& lang) {
    if (auto it = text.find(lang); it != text.end()) return it->second;
    if (auto it = text.find("ru"); it != text.end()) return it->second;
    return text.empty() ? std::string() : text.begin()->second;
}

std::optional<action_error> check_text(const std::string& text, const char* what) {
    if (trim(text).empty())
        return action_error{errc::bad_request, std::string(what) + " is empty", "text_empty"};
    if (text.size() > max_text_bytes)
        return action_error{errc::bad_request, std::string(what) + " is longer than 4000 bytes",
                            "text_invalid"};
    if (!is_valid_utf8(text))
        return action_error{errc::bad_request, std::string(what) + " is not UTF-8", "text_invalid"};
    return std::nullopt;
}

const action_error supervisors_only{errc::forbidden, "supervisors only", "supervisors_only"};
const action_error cases_not_for_programme{
    errc::forbidden, "programme accounts see the dashboard only", "forbidden"};

}  // namespace

std::vector<std::string> queue_reasons(const store::queue_entry& e) {
    std::vector<std::string> out;
    if (e.c.urgent) out.push_back("urgent");
    if (e.c.safe_to_call.value_or(false)) out.push_back("callback");
    using st = store::referral_status;
    if (e.latest_referral == st::escalated || e.latest_referral == st::revoked)
        out.push_back("escalated");
    if (e.overdue) out.push_back("overdue");
    if (!e.latest_referral) out.push_back("unrouted");
    return out;
}

std::string csv_field(const std::string& value) {
    std::string v = value;
    // Spreadsheets run cells starting with these as formulas.
    if (!v.empty() && std::string("=+-@\t\r").find(v[0]) != std::string::npos) v = "'" + v;
    if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

hotline_service::hotline_service(store::store& store, const clock_source& clock,
                                 referral_service& referrals,
                                 std::shared_ptr<const menu::menu> menu, hotline_settings settings)
    : store_(store),
      clock_(clock),
      referrals_(referrals),
      menu_(std::move(menu)),
      settings_(std::move(settings)) {}

queue_view hotline_service::queue(const operator_identity& who, const std::string& filter) {
    queue_view v;
    for (auto& e : store_.hotline_queue(500)) {
        if (filter == "mine" && e.c.assigned_to != who.username) continue;
        if (filter == "unclaimed" && !e.c.assigned_to.empty()) continue;
        queue_item item{std::move(e.c), queue_reasons(e)};
        item.c.phone = mask_phone(item.c.phone);
        item.c.details.clear();  // the list shows no free text
        v.items.push_back(std::move(item));
    }
    v.failed_messages = store_.dead_outbound(100);
    for (auto& m : v.failed_messages) {
        m.recipient = m.purpose == "webhook" ? m.recipient : mask_phone(m.recipient);
        m.body.clear();
    }
    return v;
}

std::vector<filled_template> hotline_service::templates_for(const store::case_record& c) const {
    std::vector<filled_template> out;
    for (const auto& t : settings_.templates) {
        std::string text = localized_text(t.text, c.language);
        for (auto p = text.find("{ref}"); p != std::string::npos; p = text.find("{ref}"))
            text.replace(p, 5, c.reference);
        out.push_back({t.id, localized_text(t.label, c.language), text});
    }
    return out;
}

outcome<std::vector<store::case_record>> hotline_service::search(const operator_identity& who,
                                                                 const std::string& query) {
    if (who.programme()) return cases_not_for_programme;
    std::string q;
    for (char ch : query)
        if (ch != ' ' && ch != '-') q += ch;
    const bool has_prefix = !q.empty() && (q[0] == 'R' || q[0] == 'r');
    if (has_prefix) q.erase(0, 1);
    const bool digits = !q.empty() && q.find_first_not_of("0123456789") == std::string::npos;
    const bool code = digits && q.size() == 7;
    const bool ending = digits && !has_prefix && q.size() == data_sealer::number_ending_digits;
    if (!code && !ending)
        return action_error{errc::bad_request,
                            "search by a code (R-1234567) or the last 4 digits of her number",
                            "search_invalid"};
    const long long now = to_unix_seconds(clock_.now());
    std::vector<store::case_record> found;
    if (code) {
        if (auto c = store_.find_case("R-" + q)) found.push_back(std::move(*c));
    } else {
        found = store_.find_cases_by_number_ending(q, 20);
    }
    store_.record_audit({now, who.actor(), "searched", 0,
                         std::string(code ? "by code" : "by number ending") + ", " +
                             std::to_string(found.size()) + " found"});
    for (auto& c : found) {
        // A list: what tells the cases apart, nothing of hers.
        c.phone.clear();
        c.details.clear();
        c.outcome.clear();
        c.transcript.clear();
    }
    return found;
}

outcome<case_view> hotline_service::open_case(const operator_identity& who,
                                              const std::string& reference, bool audited) {
    if (who.programme()) return cases_not_for_programme;
    auto c = store_.find_case(reference);
    if (!c) return action_error{errc::not_found, "no such case", "no_case"};
    const long long now = to_unix_seconds(clock_.now());
    case_view v;
    v.phone_visible = who.supervisor() || c->assigned_to == who.username;
    if (audited)
        store_.record_audit(
            {now, who.actor(), "viewed", c->id, v.phone_visible ? "with her number" : ""});
    v.sms_blocked = !c->phone.empty() && store_.no_sms(c->phone);
    if (!c->phone.empty())
        for (auto& m : store_.outbound_to(c->phone))
            if (m.purpose != "partner_notification") v.messages.push_back(std::move(m));
    for (auto& m : v.messages) m.recipient.clear();
    // Kept with the case; older cases only have their session (if still kept).
    std::string state = c->transcript;
    if (state.empty())
        if (auto session = store_.case_session(c->id)) state = session->state;
    if (!state.empty()) {
        try {
            auto st = decode_state(state);
            const auto current = menu();
            auto add = [&](const std::string& id) {
                auto it = current->screens.find(id);
                if (it == current->screens.end() || it->second.kind == menu::screen_kind::action)
                    return;
                std::string text = localized_text(it->second.text, c->language);
                for (auto p = text.find("{ref}"); p != std::string::npos; p = text.find("{ref}"))
                    text.replace(p, 5, c->reference);
                v.transcript.push_back({id, std::move(text)});
            };
            for (const auto& screen : st.engine.trail) add(screen);
            v.choices = st.engine.vars;
        } catch (const std::exception& e) {
            spdlog::warn("console: transcript of case {} unreadable: {}", c->reference, e.what());
        }
    }
    // Rule explanations name the rules file: operators need its name, not the server's folders.
    static const std::regex folders("\\((/[^()]*/)([^/()]+:[0-9]+)\\)");
    for (auto& r : store_.case_referrals(c->id)) {
        r.explanation = std::regex_replace(r.explanation, folders, "($2)");
        referral_view rv{r, store_.referral_events(r.id)};
        v.referrals.push_back(std::move(rv));
    }
    v.notes = store_.case_notes(c->id);
    v.templates = templates_for(*c);
    if (!v.phone_visible) c->phone = mask_phone(c->phone);
    v.c = std::move(*c);
    return v;
}

outcome<store::case_record> hotline_service::acting_case(const operator_identity& who,
                                                         const std::string& reference) {
    auto c = store_.find_case(reference);
    if (!c) return action_error{errc::not_found, "no such case", "no_case"};
    if (c->status == store::case_status::closed)
        return action_error{errc::conflict, "the case is closed", "case_closed"};
    if (!who.supervisor() && c->assigned_to != who.username)
        return action_error{errc::conflict,
                            c->assigned_to.empty() ? "claim the case first"
                                                   : "the case is claimed by " + c->assigned_to,
                            c->assigned_to.empty() ? "claim_first" : "case_claimed"};
    return *c;
}

outcome<store::case_record> hotline_service::update(
    const operator_identity& who, const store::case_record& c, store::case_update u,
    const std::string& action, const std::string& detail,
    const std::vector<store::outbound_message>& outbox) {
    // Another operator may have claimed or closed it since it was read.
    u.expect_assigned = c.assigned_to;
    auto updated = store_.update_case(
        c.id, u, {to_unix_seconds(clock_.now()), who.actor(), action, c.id, detail}, outbox);
    if (!updated)
        return action_error{errc::conflict, "the case changed hands just now", "case_changed"};
    return *updated;
}

outcome<store::case_record> hotline_service::claim(const operator_identity& who,
                                                   const std::string& reference, bool force) {
    auto c = store_.find_case(reference);
    if (!c) return action_error{errc::not_found, "no such case", "no_case"};
    if (c->status == store::case_status::closed)
        return action_error{errc::conflict, "the case is closed", "case_closed"};
    if (c->assigned_to == who.username) return *c;
    if (!c->assigned_to.empty() && !(force && who.supervisor()))
        return action_error{errc::conflict, "the case is claimed by " + c->assigned_to,
                            "case_claimed"};
    store::case_update u;
    u.assigned_to = who.username;
    u.status = store::case_status::claimed;
    return update(who, *c, u, "claimed",
                  c->assigned_to.empty() ? "" : "taken over from " + c->assigned_to);
}

outcome<store::case_record> hotline_service::release(const operator_identity& who,
                                                     const std::string& reference) {
    auto c = acting_case(who, reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto& rec = std::get<store::case_record>(c);
    store::case_update u;
    u.assigned_to = "";
    u.status = rec.urgent ? store::case_status::escalated : store::case_status::new_;
    return update(who, rec, u, "released", "");
}

outcome<store::case_record> hotline_service::add_note(const operator_identity& who,
                                                      const std::string& reference,
                                                      const std::string& text) {
    if (auto e = check_text(text, "the note")) return *e;
    auto c = acting_case(who, reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto& rec = std::get<store::case_record>(c);
    const long long now = to_unix_seconds(clock_.now());
    // The note's text is sealed in the store; the audit line says only that one was added.
    store_.add_case_note({0, rec.id, who.username, text, now},
                         {now, who.actor(), "noted", rec.id, ""});
    return rec;
}

outcome<store::outbound_message> hotline_service::reply(const operator_identity& who,
                                                        const std::string& reference,
                                                        const std::string& template_id) {
    auto c = acting_case(who, reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto& rec = std::get<store::case_record>(c);
    // Back the way she wrote in (a number abroad may be reachable only
    // through that aggregator); USSD cases through the configured channel.
    const std::string channel = rec.sms_channel.empty() ? settings_.reply_channel : rec.sms_channel;
    if (channel.empty())
        return action_error{errc::conflict, "no SMS channel is configured", "no_sms_channel"};
    if (rec.phone.empty())
        return action_error{errc::conflict, "her number is no longer kept", "number_forgotten"};
    if (store_.no_sms(rec.phone))
        return action_error{errc::conflict, "she asked for no SMS (STOP)", "sms_stopped"};
    // Her safe-contact answer rules SMS out unless she chose it.
    if (!rec.contact.empty() && rec.contact != "sms_only")
        return action_error{errc::conflict,
                            rec.contact == "none" ? "she asked not to be contacted"
                                                  : "she asked to be called, not texted",
                            rec.contact == "none" ? "no_contact" : "call_not_sms"};
    std::optional<filled_template> chosen;
    for (auto& t : templates_for(rec))
        if (t.id == template_id) chosen = t;
    if (!chosen) return action_error{errc::bad_request, "no such template", "no_template"};
    const long long now = to_unix_seconds(clock_.now());
    store::outbound_message m;
    m.channel = channel;
    m.recipient = rec.phone;
    m.body = chosen->text;
    m.purpose = "operator_reply";
    m.next_attempt_at_ms = now * 1000;
    m.created_at = now;
    auto sent = update(who, rec, {}, "replied", "template " + template_id, {m});
    if (auto* e = std::get_if<action_error>(&sent)) return *e;
    // The id the outbox gave it, for the console's message list.
    for (const auto& queued : store_.outbound_to(rec.phone))
        if (queued.purpose == "operator_reply" && queued.id > m.id) m.id = queued.id;
    m.recipient.clear();
    m.status = store::message_status::queued;
    return m;
}

outcome<store::case_record> hotline_service::refer(const operator_identity& who,
                                                   const std::string& reference,
                                                   const std::string& partner,
                                                   const std::string& note) {
    if (note.size() > max_text_bytes || !is_valid_utf8(note))
        return action_error{errc::bad_request, "the note must be UTF-8 of at most 4000 bytes",
                            "text_invalid"};
    auto c = acting_case(who, reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto& rec = std::get<store::case_record>(c);
    auto r = referrals_.refer_to(rec, partner, who.actor());
    if (auto* e = std::get_if<action_error>(&r)) return *e;
    if (!trim(note).empty()) {
        // Her circumstances may be in it: a sealed case note, like any other.
        const long long now = to_unix_seconds(clock_.now());
        store_.add_case_note(
            {0, rec.id, who.username, "→ " + partner + ": " + note, now},
            {now, who.actor(), "noted", rec.id, "with the referral to " + partner});
    }
    return rec;
}

outcome<store::case_record> hotline_service::close(const operator_identity& who,
                                                   const std::string& reference,
                                                   const std::string& outcome_text) {
    if (auto e = check_text(outcome_text, "the outcome")) return *e;
    auto c = acting_case(who, reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto& rec = std::get<store::case_record>(c);
    store::case_update u;
    u.status = store::case_status::closed;
    u.outcome = outcome_text;
    // Referrals still open end with the case: they would go on counting
    // against the partner's capacity.
    u.close_open_referrals = "the hotline closed the case";
    return update(who, rec, u, "closed", "");
}

outcome<store::case_record> hotline_service::revoke(const operator_identity& who,
                                                    long long referral_id,
                                                    const std::string& reason) {
    if (auto e = check_text(reason, "the reason")) return *e;
    auto r = store_.find_referral(referral_id);
    if (!r) return action_error{errc::not_found, "no such referral", "no_referral"};
    auto c = acting_case(who, r->case_reference);
    if (auto* e = std::get_if<action_error>(&c)) return *e;
    auto moved = referrals_.revoke(referral_id, reason, who.actor());
    if (auto* e = std::get_if<action_error>(&moved)) return *e;
    // Withdrawn from the partner, the case is the hotline's again: keep it in the queue.
    return update(who, std::get<store::case_record>(c), {}, "revoked_referral",
                  "referral " + std::to_string(referral_id));
}

outcome<store::outbound_message> hotline_service::retry_message(const operator_identity& who,
                                                                long long id) {
    const long long now = to_unix_seconds(clock_.now());
    if (!store_.retry_outbound(
            id, now, {now, who.actor(), "retried_message", 0, "message " + std::to_string(id)}))
        return action_error{errc::conflict, "no failed message with that id", "no_message"};
    auto m = store_.find_outbound(id);
    if (!m) return action_error{errc::not_found, "no such message", "no_message"};
    m->recipient = mask_phone(m->recipient);
    m->body.clear();
    return *m;
}

std::vector<partner_status> hotline_service::partners() {
    auto setup = referrals_.setup();
    auto open = store_.open_referral_counts();
    auto paused = store_.paused_partners();
    std::vector<partner_status> out;
    for (const auto& p : setup->partners.partners)
        out.push_back({p.id, p.name, p.names, open.count(p.id) ? open[p.id] : 0,
                       paused.count(p.id) > 0, false});
    return out;
}

outcome<std::vector<partner_status>> hotline_service::partners_for(const operator_identity& who,
                                                                   const std::string& reference) {
    if (who.programme()) return cases_not_for_programme;
    auto c = store_.find_case(reference);
    if (!c) return action_error{errc::not_found, "no such case", "no_case"};
    auto setup = referrals_.setup();
    const auto likely = referral::likely_partners(
        setup->rules, setup->partners,
        {c->topic, c->subtopic, c->oblast, c->language, c->target_group, c->urgent});
    auto all = partners();
    std::vector<partner_status> out;
    for (const auto& id : likely)
        for (auto& p : all)
            if (p.id == id) {
                p.suggested = true;
                out.push_back(p);
            }
    for (const auto& p : all)
        if (!p.suggested) out.push_back(p);
    return out;
}

std::map<std::string, std::map<std::string, std::map<std::string, std::string>>>
hotline_service::labels() {
    std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> out;
    const auto m = menu();
    for (const auto& [variable, values] : m->labels)
        for (const auto& [value, texts] : values)
            for (const auto& [lang, text] : texts) out[lang][variable][value] = text;
    for (const auto& p : referrals_.setup()->partners.partners)
        for (const auto& [lang, name] : p.names) out[lang]["partner"][p.id] = name;
    return out;
}

outcome<partner_status> hotline_service::set_paused(const operator_identity& who,
                                                    const std::string& partner, bool paused) {
    if (!who.supervisor()) return supervisors_only;
    if (!referrals_.setup()->partners.find(partner))
        return action_error{errc::not_found, "no such partner", "no_partner"};
    store_.set_partner_paused(partner, paused,
                              {to_unix_seconds(clock_.now()), who.actor(),
                               paused ? "partner_paused" : "partner_resumed", 0, partner});
    for (auto& p : partners())
        if (p.id == partner) return p;
    return action_error{errc::not_found, "no such partner", "no_partner"};
}

outcome<std::vector<store::audit_record>> hotline_service::audit(const operator_identity& who,
                                                                 const std::string& reference,
                                                                 std::size_t limit) {
    if (!who.supervisor()) return supervisors_only;
    long long case_id = 0;
    if (!reference.empty()) {
        auto c = store_.find_case(reference);
        if (!c) return action_error{errc::not_found, "no such case", "no_case"};
        case_id = c->id;
    }
    return store_.audit_trail(case_id, std::clamp<std::size_t>(limit, 1, 1000));
}

outcome<std::string> hotline_service::statistics_csv(const operator_identity& who) {
    if (!who.supervisor()) return supervisors_only;
    store_.record_audit({to_unix_seconds(clock_.now()), who.actor(), "exported_statistics", 0, ""});
    std::ostringstream out;
    out << "metric,month,oblast,topic,language,channel,partner,status,count,average_hours\n";
    for (const auto& r : store_.statistics()) {
        // Small groups could point at one woman: suppress them.
        const bool small = r.count < 5;
        std::string hours;
        if (r.metric == "partner_response" && !small) {
            std::ostringstream h;
            h.precision(1);
            h << std::fixed << r.average_hours;
            hours = h.str();
        }
        out << csv_field(r.metric) << ',' << csv_field(r.month) << ',' << csv_field(r.oblast) << ','
            << csv_field(r.topic) << ',' << csv_field(r.language) << ',' << csv_field(r.channel)
            << ',' << csv_field(r.partner) << ',' << csv_field(r.status) << ','
            << (small ? "<5" : std::to_string(r.count)) << ',' << hours << '\n';
    }
    return out.str();
}

store::retention_report hotline_service::apply_retention(int days) {
    const long long now = to_unix_seconds(clock_.now());
    auto r = store_.purge_personal_data(now - static_cast<long long>(days) * 86400, now);
    if (r.sessions + r.cases + r.inbound + r.outbox > 0)
        spdlog::info(
            "retention: forgot personal data of {} session(s), {} case(s), {} inbound and "
            "{} outbound message(s) older than {} days",
            r.sessions, r.cases, r.inbound, r.outbox, days);
    return r;
}

}  // namespace gw::service

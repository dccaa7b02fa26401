#include "service/referral_service.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "common/log.hpp"
#include "common/phone.hpp"
#include "common/text.hpp"
#include "service/case_from_session.hpp"

namespace gw::service {
namespace {

std::string fill(std::string text, const std::map<std::string, std::string>& values) {
    for (const auto& [key, value] : values) {
        const std::string ph = "{" + key + "}";
        for (auto p = text.find(ph); p != std::string::npos; p = text.find(ph, p + value.size()))
            text.replace(p, ph.size(), value);
    }
    return text;
}

std::optional<partner_action> command_of(const std::string& word) {
    static const std::vector<std::pair<std::vector<std::string>, partner_action>> words = {
        {{"accept", "принять", "принято", "кабыл"}, partner_action::accept},
        {{"decline", "отказ", "отклонить", "жок"}, partner_action::decline},
        {{"start", "начали", "баштадык"}, partner_action::start},
        {{"done", "готово", "закрыть", "бүттү"}, partner_action::close},
        {{"note", "заметка", "эскертүү"}, partner_action::note},
    };
    std::string w = fold_case(word);
    for (const auto& [list, action] : words)
        if (std::find(list.begin(), list.end(), w) != list.end()) return action;
    return std::nullopt;
}

// A refusal to move a referral that is not in a state the move starts from.
action_error refused_in(store::referral_status now) {
    return action_error{errc::conflict, "the referral is " + std::string(name(now)),
                        "referral_state"};
}

const char* verb(partner_action a) {
    switch (a) {
        case partner_action::accept:
            return "accepted";
        case partner_action::decline:
            return "declined";
        case partner_action::start:
            return "in_progress";
        case partner_action::close:
            return "closed";
        case partner_action::note:
            return "noted";
    }
    return "?";
}

}  // namespace

referral_service::referral_service(store::store& store, const clock_source& clock,
                                   std::shared_ptr<const routing_setup> setup,
                                   referral_settings settings)
    : store_(store), clock_(clock), settings_(std::move(settings)), setup_(std::move(setup)) {}

void referral_service::set_setup(std::shared_ptr<const routing_setup> setup) {
    std::lock_guard lock(mutex_);
    setup_ = std::move(setup);
}

std::shared_ptr<const routing_setup> referral_service::setup() const {
    std::lock_guard lock(mutex_);
    return setup_;
}

std::set<std::string> referral_service::tried_partners(long long case_id) {
    std::set<std::string> out;
    for (const auto& r : store_.case_referrals(case_id))
        if (!r.partner.empty()) out.insert(r.partner);
    return out;
}

// Written or failed, a referral is no longer being written (nor its case
// routed, when route_case marked it).
struct referral_service::writing {
    referral_service& r;
    std::optional<long long> case_id;
    std::string partner;
    ~writing() {
        std::lock_guard lock(r.mutex_);
        if (case_id) r.routing_.erase(*case_id);
        if (auto it = r.being_written_.find(partner);
            it != r.being_written_.end() && --it->second == 0)
            r.being_written_.erase(it);
        r.routed_.notify_all();
    }
};

store::referral_record referral_service::route_case(const store::case_record& c,
                                                    const std::string& actor) {
    std::shared_ptr<const routing_setup> setup;
    referral::routing_decision decision;
    {
        std::unique_lock lock(mutex_);
        // Another caller (the sweep, the hop that made it) may be routing it now.
        routed_.wait(lock, [&] { return !routing_.count(c.id); });
        auto existing = store_.case_referrals(c.id);
        if (!existing.empty()) return existing.back();
        setup = setup_;
        decision = decide(*setup, c, {});
        routing_.insert(c.id);
        ++being_written_[decision.partner];
    }
    writing done{*this, c.id, decision.partner};
    // Another node may route it at the same moment (its hop, this node's
    // sweep): the store writes the first referral of a case only once.
    return hand_over(*setup, c, decision.partner, decision.rule, decision.explanation, actor,
                     /*first_of_case=*/true);
}

store::created_case referral_service::store_new_case(const store::new_case& c, long long now,
                                                     const session_after_case& session) {
    std::shared_ptr<const routing_setup> setup;
    referral::routing_decision decision;
    try {
        std::lock_guard lock(mutex_);
        setup = setup_;
        decision = decide(*setup, c, {});
        ++being_written_[decision.partner];
    } catch (const std::exception& e) {
        // Stored without its referral, the case is routed by the sweep.
        spdlog::error("referral: routing a new case failed, the sweep will route it: {}", e.what());
        return store_cases_alone(store_)(c, now, session);
    }
    std::optional<store::created_case> stored;
    {
        writing done{*this, std::nullopt, decision.partner};
        stored = store_case(store_, c, now, [&](const store::case_record& about_to_be) {
            store::written_with_case with;
            with.referral = plan_referral(*setup, about_to_be, decision.partner, decision.rule,
                                          decision.explanation, "system");
            if (session) with.session = session(about_to_be.reference);
            return with;
        });
    }
    if (stored->written_now) {
        log_routed(stored->record, decision.partner, decision.rule);
        return std::move(*stored);
    }
    // A retry of a case stored before: it keeps the referral it has, or
    // gets one now (or from the sweep, if this fails).
    try {
        route_case(stored->record);
    } catch (const std::exception& e) {
        spdlog::error("referral: routing case {} failed, will retry: {}", stored->record.reference,
                      e.what());
    }
    return std::move(*stored);
}

referral::routing_decision referral_service::decide(const routing_setup& setup,
                                                    const store::new_case& c,
                                                    const std::set<std::string>& excluded) {
    referral::case_facts facts{c.topic, c.subtopic, c.oblast, c.language, c.target_group, c.urgent};
    // Partners the supervisors paused take no new referrals for now.
    std::set<std::string> skip = excluded;
    for (const auto& p : store_.paused_partners()) skip.insert(p);
    auto open = store_.open_referral_counts();
    for (const auto& [partner, n] : being_written_) open[partner] += n;
    return referral::route(setup.rules, setup.partners, facts, clock_.now(), open, skip);
}

store::referral_record referral_service::route(const store::case_record& c,
                                               const std::set<std::string>& excluded,
                                               const std::string& actor) {
    auto decision = decide(*setup_, c, excluded);
    return hand_over(*setup_, c, decision.partner, decision.rule, decision.explanation, actor);
}

store::first_referral referral_service::plan_referral(
    const routing_setup& setup, const store::case_record& c, const std::string& partner,
    const std::string& rule, const std::string& explanation, const std::string& actor) const {
    const auto now = clock_.now();
    const long long now_s = to_unix_seconds(now);
    store::referral_record r;
    r.case_id = c.id;
    r.case_reference = c.reference;
    r.partner = partner;
    r.status = partner.empty() ? store::referral_status::escalated : store::referral_status::new_;
    r.rule = rule;
    r.explanation = explanation;
    r.created_at = now_s;
    std::vector<store::outbound_message> outbox;
    if (const referral::partner* p = setup.partners.find(partner)) {
        r.due_at = to_unix_seconds(p->hours.add_working_time(now, p->acknowledge_within));
        store::outbound_message m;
        m.next_attempt_at_ms = now_s * 1000;
        m.created_at = now_s;
        if (!p->webhook_url.empty()) {
            m.channel = "webhook:" + p->id;
            m.recipient = p->id;
            m.purpose = "webhook";
            // Minimal on purpose: the partner reads the rest through the API.
            m.body = nlohmann::json{
                {"type", "referral.created"},
                {"reference", c.reference},
                {"urgent", c.urgent},
                {"created_at",
                 now_s}}.dump();
            outbox.push_back(m);
        }
        if (!p->focal_phone.empty() && !settings_.notify_channel.empty()) {
            m.channel = settings_.notify_channel;
            m.recipient = p->focal_phone;
            m.purpose = "partner_notification";
            const std::string& lang = p->focal_language;
            auto word = [&](const std::string& var, const std::string& value) {
                return settings_.label && !value.empty() ? settings_.label(var, value, lang)
                                                         : value;
            };
            auto text = settings_.focal_new_referral.find(lang);
            if (text == settings_.focal_new_referral.end())
                text = settings_.focal_new_referral.find("");
            if (text == settings_.focal_new_referral.end())
                text = settings_.focal_new_referral.begin();
            std::string contact = c.contact.empty() ? "-" : word("contact", c.contact);
            if (!c.call_time.empty()) contact += " (" + word("call_time", c.call_time) + ")";
            m.body = fill(text == settings_.focal_new_referral.end() ? std::string() : text->second,
                          {{"ref", c.reference},
                           {"topic", word("topic", c.topic)},
                           {"oblast", word("oblast", c.oblast)},
                           {"contact", contact}});
            outbox.push_back(m);
        }
    }
    // No partner: the case is the hotline operators' to handle.
    const bool to_operators = r.partner.empty();
    store::referral_event created{0, actor, "created",
                                  to_operators ? "to operators" : "to " + r.partner, r.created_at};
    return {std::move(r), std::move(created), std::move(outbox), to_operators};
}

void referral_service::log_routed(const store::case_record& c, const std::string& partner,
                                  const std::string& rule) {
    spdlog::info("referral: case {} -> {} ({})", c.reference,
                 partner.empty() ? "hotline operators" : partner,
                 rule.empty() ? "no rule" : "rule " + rule);
}

store::referral_record referral_service::hand_over(const routing_setup& setup,
                                                   const store::case_record& c,
                                                   const std::string& partner,
                                                   const std::string& rule,
                                                   const std::string& explanation,
                                                   const std::string& actor, bool first_of_case) {
    store::first_referral planned = plan_referral(setup, c, partner, rule, explanation, actor);
    auto stored = store_.create_referral(planned.referral, planned.created, planned.outbox,
                                         planned.hotline_takes_case, first_of_case);
    log_routed(c, stored.partner, stored.rule);
    return stored;
}

std::variant<store::referral_record, action_error> referral_service::act(
    const std::string& partner_id, long long referral_id, partner_action action,
    const std::string& text, const std::string& actor) {
    std::lock_guard lock(mutex_);
    auto r = store_.find_referral(referral_id);
    // Another partner's referral does not exist, as far as this partner knows.
    if (!r || r->partner != partner_id)
        return action_error{errc::not_found, "no such referral", "no_referral"};
    auto c = store_.find_case_by_id(r->case_id);
    if (!c) return action_error{errc::not_found, "no such referral", "no_referral"};
    const long long now = to_unix_seconds(clock_.now());
    store::referral_event event{r->id, actor, verb(action), text, now};

    if (action == partner_action::note) {
        if (trim(text).empty()) return action_error{errc::bad_request, "a note needs text"};
        store_.record_referral_event(event);
        return *r;
    }
    using st = store::referral_status;
    std::vector<st> from;
    st to = st::closed;
    std::string reason, outcome;
    std::vector<store::outbound_message> outbox;
    switch (action) {
        case partner_action::accept: {
            from = {st::new_};
            to = st::accepted;
            const std::string channel =
                c->sms_channel.empty() ? settings_.notify_channel : c->sms_channel;
            if (c->notify_sms && !channel.empty() && settings_.accepted_text) {
                // Discreet: her reference code only, never the topic.
                store::outbound_message m;
                m.channel = channel;
                m.recipient = c->phone;
                m.purpose = "notification";
                m.body = fill(settings_.accepted_text(c->language), {{"ref", c->reference}});
                m.next_attempt_at_ms = now * 1000;
                m.created_at = now;
                outbox.push_back(m);
            }
            break;
        }
        case partner_action::decline:
            if (trim(text).empty())
                return action_error{errc::bad_request, "declining needs a reason"};
            from = {st::new_, st::accepted};
            to = st::declined;
            reason = text;
            break;
        case partner_action::start:
            from = {st::accepted};
            to = st::in_progress;
            break;
        case partner_action::close:
            from = {st::accepted, st::in_progress};
            to = st::closed;
            outcome = text.empty() ? "closed without a note" : text;
            break;
        case partner_action::note:
            break;
    }
    auto moved = store_.transition_referral(r->id, from, to, event, outbox, reason, outcome);
    if (!moved) return refused_in(r->status);
    if (action == partner_action::decline) {
        // The case must not stay without a next step: the next partner, or the operators.
        route(*c, tried_partners(c->id), "system");
    }
    return *moved;
}

std::optional<command_answer> referral_service::handle_sms_command(const std::string& phone,
                                                                   const std::string& text) {
    std::istringstream in(text);
    std::string word, ref;
    in >> word >> ref;
    auto action = command_of(word);
    static const std::regex reference("[Rr]-[0-9]{7}");
    if (!action || !std::regex_match(ref, reference)) return std::nullopt;  // not a command
    ref[0] = 'R';
    std::string rest;
    std::getline(in >> std::ws, rest);

    auto setup = this->setup();
    const referral::partner* p = setup->partners.by_focal_phone(phone);
    if (!p) {
        std::lock_guard lock(mutex_);
        ++ignored_commands_;
        spdlog::warn("referral: SMS command from a number that is no focal point ({}) ignored",
                     mask_phone(phone));
        return command_answer{};
    }
    auto c = store_.find_case(ref);
    std::optional<long long> id;
    if (c)
        for (const auto& r : store_.case_referrals(c->id))
            if (r.partner == p->id) id = r.id;
    if (!id) return command_answer{ref + ": not found"};
    auto result = act(p->id, *id, *action, rest, "sms:" + p->id);
    if (auto* e = std::get_if<action_error>(&result)) return command_answer{ref + ": " + e->reason};
    return command_answer{ref + ": " + verb(*action)};
}

std::variant<store::referral_record, action_error> referral_service::refer_to(
    const store::case_record& c, const std::string& partner_id, const std::string& actor) {
    std::lock_guard lock(mutex_);
    if (!setup_->partners.find(partner_id))
        return action_error{errc::bad_request, "no such partner", "no_partner"};
    for (const auto& r : store_.case_referrals(c.id))
        if (r.partner == partner_id && is_open(r.status))
            return action_error{errc::conflict, "this partner already has the case",
                                "partner_has_case"};
    // The operator's own words go to the sealed case notes, not in here.
    return hand_over(*setup_, c, partner_id, "", "referred by the hotline (" + actor + ")", actor);
}

std::variant<store::referral_record, action_error> referral_service::revoke(
    long long referral_id, const std::string& reason, const std::string& actor) {
    std::lock_guard lock(mutex_);
    if (trim(reason).empty())
        return action_error{errc::bad_request, "revoking needs a reason", "reason_needed"};
    auto r = store_.find_referral(referral_id);
    if (!r) return action_error{errc::not_found, "no such referral", "no_referral"};
    const long long now = to_unix_seconds(clock_.now());
    using st = store::referral_status;
    auto moved = store_.transition_referral(
        r->id, {st::new_, st::accepted, st::in_progress, st::escalated}, st::revoked,
        {r->id, actor, "revoked", reason, now}, {}, reason, "");
    if (!moved) return refused_in(r->status);
    return *moved;
}

void referral_service::record_view(long long referral_id, const std::string& actor) {
    store_.record_referral_event({referral_id, actor, "viewed", "", to_unix_seconds(clock_.now())});
}

std::size_t referral_service::sweep() {
    std::size_t n = 0;
    const long long now = to_unix_seconds(clock_.now());
    for (const auto& r : store_.overdue_referrals(now)) {
        std::lock_guard lock(mutex_);
        store::referral_event e{r.id, "system", "overdue",
                                "not acknowledged by the deadline; routed on", now};
        if (!store_.transition_referral(r.id, {store::referral_status::new_},
                                        store::referral_status::overdue, e, {}, "", ""))
            continue;
        if (auto c = store_.find_case_by_id(r.case_id)) route(*c, tried_partners(c->id), "system");
        ++n;
    }
    for (const auto& c : store_.unrouted_cases(100)) {
        route_case(c);
        ++n;
    }
    return n;
}

}  // namespace gw::service

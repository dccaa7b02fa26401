#include "service/case_from_session.hpp"

#include <cstdio>
#include <random>

#include "service/session_codec.hpp"

namespace gw::service {
namespace {
std::string var_or(const menu::session_state& s, const std::string& name, std::string fallback) {
    auto it = s.vars.find(name);
    return it == s.vars.end() ? std::move(fallback) : it->second;
}
}  // namespace

store::new_case case_from_session(const menu::action_request& action,
                                  const menu::session_state& state, const std::string& channel,
                                  const std::string& origin_key, const std::string& phone,
                                  const std::string& default_language) {
    store::new_case c;
    c.origin_key = origin_key;
    c.phone = phone;
    c.channel = channel;
    c.language = state.language.empty() ? default_language : state.language;
    c.topic = var_or(state, "topic", "general");
    c.subtopic = var_or(state, "subtopic", "");
    c.oblast = var_or(state, "oblast", "");
    c.target_group = var_or(state, "target_group", "");
    c.details = var_or(state, "details", "");
    // Without an explicit yes, partners never see her number.
    c.consent = var_or(state, "consent", "no") == "yes";
    c.urgent = action.kind == "escalate";
    c.contact = var_or(state, "contact", "");
    c.call_time = c.contact == "call_time" ? var_or(state, "call_time", "") : "";
    if (auto it = state.vars.find("safe_to_call"); it != state.vars.end())
        c.safe_to_call = it->second == "yes";
    else if (!c.contact.empty())
        c.safe_to_call = c.contact == "call_any" || c.contact == "call_time";
    // "SMS only" is her yes to an SMS with the code when a partner accepts.
    c.notify_sms = var_or(state, "notify_sms", "no") == "yes" || c.contact == "sms_only";
    // For the operators: what she saw and chose, as it was at this moment.
    c.transcript = encode_state({state, {}});
    return c;
}

store::case_record store_case(store::case_store& cases, store::new_case c, long long now) {
    return store_case(cases, std::move(c), now, nullptr).record;
}

store::created_case store_case(store::case_store& cases, store::new_case c, long long now,
                               const case_plan& plan) {
    c.status = c.urgent ? store::case_status::escalated : store::case_status::new_;
    c.needs_hotline = c.urgent;
    // Ten million codes: a clash is rare, five in a row would mean the
    // codes are running out (or the generator is broken).
    thread_local std::mt19937_64 random(std::random_device{}());
    std::uniform_int_distribution<int> digits(0, 9999999);
    for (int attempt = 0; attempt < 5; ++attempt) {
        char reference[16];
        std::snprintf(reference, sizeof reference, "R-%07d", digits(random));
        std::optional<store::created_case> stored;
        if (plan) {
            store::case_record about_to_be;
            static_cast<store::new_case&>(about_to_be) = c;
            about_to_be.reference = reference;
            about_to_be.created_at = now;
            stored = cases.create_case_with(c, reference, now, plan(about_to_be));
        } else {
            stored = cases.create_case_with(c, reference, now, {});
        }
        if (stored) return std::move(*stored);
    }
    throw store::store_error("no free reference code after five draws");
}

case_writer store_cases_alone(store::case_store& cases) {
    return [&cases](const store::new_case& c, long long now, const session_after_case& session) {
        return store_case(cases, c, now, [&](const store::case_record& about_to_be) {
            store::written_with_case with;
            if (session) with.session = session(about_to_be.reference);
            return with;
        });
    };
}

}  // namespace gw::service

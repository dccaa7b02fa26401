#pragma once
// Cases to partner queues and back: routes each new case by the rules,
// tells the partner (webhook, SMS to the focal point), takes the
// partner's answers (API or SMS), re-routes declined and overdue
// referrals, and escalates to the hotline operators when no partner is
// left. Every step is audited. Rules and partners can be swapped at run
// time (reload) without touching live sessions.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "common/clock.hpp"
#include "common/errc.hpp"
#include "common/result.hpp"
#include "referral/partners.hpp"
#include "referral/rules.hpp"
#include "service/case_from_session.hpp"
#include "service/sms_command.hpp"
#include "store/store.hpp"

namespace gw::service {

struct routing_setup {
    referral::partner_directory partners;
    referral::rule_set rules;
};

struct referral_settings {
    std::string notify_channel;  // SMS channel for focal points and women ("" = none)
    // SMS to a focal point, by language (the partner's focal_language; ""
    // for any): {ref}, {topic}, {oblast}, {contact} are filled in, the
    // values in readable words of that language (`label`).
    std::map<std::string, std::string> focal_new_referral = {
        {"",
         "New referral {ref}: {topic}, {oblast}, contact: {contact}. Reply ACCEPT {ref} or "
         "DECLINE {ref} reason"}};
    std::function<std::string(const std::string& var, const std::string& value,
                              const std::string& language)>
        label;
    // The discreet SMS to her when a partner accepts, by language; {ref} only.
    std::function<std::string(const std::string& language)> accepted_text;
};

enum class partner_action { accept, decline, start, close, note };

// Refusals: not_found for an unknown or another partner's referral,
// conflict for the wrong state, bad_request for a bad request.
using gw::action_error;
using gw::errc;

class referral_service {
  public:
    referral_service(store::store& store, const clock_source& clock,
                     std::shared_ptr<const routing_setup> setup, referral_settings settings);

    void set_setup(std::shared_ptr<const routing_setup> setup);
    std::shared_ptr<const routing_setup> setup() const;

    // Routes a case that has no referral yet; returns the referral created
    // (or the one it already has). The service-wide lock is held only to
    // decide, not while the referral is written: cases made at once share
    // one commit. Partner capacity stays exact: a referral being written
    // counts as open, and a case is routed by one caller at a time.
    store::referral_record route_case(const store::case_record& c,
                                      const std::string& actor = "system");

    // Stores her new case (service::store_case) with its first referral
    // and her `session` after it in the same transaction: the rules decide
    // before the write, so her END waits for one commit, not three. If the
    // rules cannot be read the case is stored without its referral and the
    // sweep routes it. A retry of a stored case writes nothing and routes
    // it if it has no referral yet. Throws store::store_error when the case
    // is not stored.
    store::created_case store_new_case(const store::new_case& c, long long now,
                                       const session_after_case& session = {});

    // A partner acts on one of its referrals. `actor` is recorded in the audit trail.
    std::variant<store::referral_record, action_error> act(const std::string& partner_id,
                                                           long long referral_id,
                                                           partner_action action,
                                                           const std::string& text,
                                                           const std::string& actor);

    // An SMS from a phone: nothing when it is no referral command (ACCEPT
    // R-..., ...); else what to answer (no reply when the number is not a
    // partner's focal point).
    std::optional<command_answer> handle_sms_command(const std::string& phone,
                                                     const std::string& text);

    // The hotline hands a case to a chosen partner (rules aside).
    std::variant<store::referral_record, action_error> refer_to(const store::case_record& c,
                                                                const std::string& partner_id,
                                                                const std::string& actor);
    // The hotline withdraws an open referral (e.g. she changed her mind).
    std::variant<store::referral_record, action_error> revoke(long long referral_id,
                                                              const std::string& reason,
                                                              const std::string& actor);

    // Audits that someone looked at a referral.
    void record_view(long long referral_id, const std::string& actor);

    // Overdue referrals re-routed or escalated; unrouted cases routed.
    std::size_t sweep();

    std::size_t ignored_commands() const { return ignored_commands_; }

  private:
    store::referral_record route(const store::case_record& c, const std::set<std::string>& excluded,
                                 const std::string& actor);
    std::set<std::string> tried_partners(long long case_id);
    // The referral (partner "" = the operators), its event and its
    // notifications, as create_referral takes them.
    store::first_referral plan_referral(const routing_setup& setup, const store::case_record& c,
                                        const std::string& partner, const std::string& rule,
                                        const std::string& explanation,
                                        const std::string& actor) const;
    static void log_routed(const store::case_record& c, const std::string& partner,
                           const std::string& rule);
    // Creates the referral (partner "" = the operators) and its notifications.
    store::referral_record hand_over(const routing_setup& setup, const store::case_record& c,
                                     const std::string& partner, const std::string& rule,
                                     const std::string& explanation, const std::string& actor,
                                     bool first_of_case = false);
    // What the rules decide for `c` now, referrals being written counted as open.
    referral::routing_decision decide(const routing_setup& setup, const store::new_case& c,
                                      const std::set<std::string>& excluded);

    store::store& store_;
    const clock_source& clock_;
    referral_settings settings_;
    mutable std::mutex mutex_;
    std::shared_ptr<const routing_setup> setup_;
    // Under mutex_: cases whose referral route_case is writing, and per
    // partner how many such referrals are not yet in the store's counts.
    std::set<long long> routing_;
    std::map<std::string, std::size_t> being_written_;
    std::condition_variable routed_;
    struct writing;
    std::atomic<std::size_t> ignored_commands_{0};  // read by /metrics on another thread
};

}  // namespace gw::service

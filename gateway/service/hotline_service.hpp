#pragma once
// The hotline operators' work, without HTTP: the queue of cases that need
// a person, the case file (transcript, referrals and why, notes, messages
// sent), and what operators do with a case: claim, note, reply by SMS
// from discreet templates, refer to a partner, revoke, close. Every view
// and change is audited in the same transaction as the change itself.
// Operators act on cases they claimed; supervisors on any case, and they
// alone read the audit trail, statistics and manage partners.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.hpp"
#include "menu/model.hpp"
#include "service/operator_accounts.hpp"
#include "service/referral_service.hpp"
#include "store/store.hpp"

namespace gw::service {

// A reply to her by SMS. Written to be safe if someone else reads her
// phone: never names her topic; {ref} is her case code.
struct reply_template {
    std::string id;
    menu::localized label;
    menu::localized text;
};

struct hotline_settings {
    std::string reply_channel;  // SMS channel for replies; "" = replies disabled
    std::vector<reply_template> templates;
};

using gw::outcome;

struct queue_item {
    store::case_record c;
    std::vector<std::string> reasons;  // urgent, callback, escalated, overdue, unrouted
};

struct queue_view {
    std::vector<queue_item> items;
    std::vector<store::outbound_message> failed_messages;
};

struct referral_view {
    store::referral_record r;
    std::vector<store::referral_event> history;
};

struct transcript_line {
    std::string screen;
    std::string text;  // what the screen said, in her language
};

struct filled_template {
    std::string id, label, text;
};

struct case_view {
    store::case_record c;  // phone masked unless phone_visible
    bool phone_visible = false;
    bool sms_blocked = false;  // she sent STOP
    std::vector<transcript_line> transcript;
    std::map<std::string, std::string> choices;
    std::vector<referral_view> referrals;
    std::vector<store::case_note> notes;
    std::vector<store::outbound_message> messages;  // SMS sent to her
    std::vector<filled_template> templates;
};

struct partner_status {
    std::string id, name;
    std::map<std::string, std::string> names;  // by language
    std::size_t open = 0;
    bool paused = false;
    bool suggested = false;  // likely for the case asked about (listed first)
};

class hotline_service {
  public:
    hotline_service(store::store& store, const clock_source& clock, referral_service& referrals,
                    std::shared_ptr<const menu::menu> menu, hotline_settings settings);

    // filter: all, mine, unclaimed.
    queue_view queue(const operator_identity& who, const std::string& filter);
    // Finds cases by what she reads out on the phone: her code ("R-1234567",
    // "r1234567" or the seven digits) or the last four digits of her number
    // (through their keyed hash). Newest first, at most 20; each search is
    // audited (how, never the digits), opening a match is audited as a view.
    outcome<std::vector<store::case_record>> search(const operator_identity& who,
                                                    const std::string& query);
    // `audited`: false only to show the case again right after an action
    // (the action is audited already).
    outcome<case_view> open_case(const operator_identity& who, const std::string& reference,
                                 bool audited = true);

    outcome<store::case_record> claim(const operator_identity& who, const std::string& reference,
                                      bool force);
    outcome<store::case_record> release(const operator_identity& who, const std::string& reference);
    outcome<store::case_record> add_note(const operator_identity& who, const std::string& reference,
                                         const std::string& text);
    outcome<store::outbound_message> reply(const operator_identity& who,
                                           const std::string& reference,
                                           const std::string& template_id);
    outcome<store::case_record> refer(const operator_identity& who, const std::string& reference,
                                      const std::string& partner, const std::string& note);
    outcome<store::case_record> close(const operator_identity& who, const std::string& reference,
                                      const std::string& outcome_text);
    outcome<store::case_record> revoke(const operator_identity& who, long long referral_id,
                                       const std::string& reason);
    outcome<store::outbound_message> retry_message(const operator_identity& who, long long id);

    std::vector<partner_status> partners();
    // The same, those likely for this case first (referral::likely_partners).
    outcome<std::vector<partner_status>> partners_for(const operator_identity& who,
                                                      const std::string& reference);
    // What people read instead of ids, by language: the menu's labels
    // (topic, subtopic, oblast, ...) and partners' names under "partner".
    std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> labels();
    outcome<partner_status> set_paused(const operator_identity& who, const std::string& partner,
                                       bool paused);

    // Supervisors only. reference "" = all cases.
    outcome<std::vector<store::audit_record>> audit(const operator_identity& who,
                                                    const std::string& reference,
                                                    std::size_t limit);
    // Anonymous counts as CSV; counts under 5 are shown as "<5".
    outcome<std::string> statistics_csv(const operator_identity& who);

    // The menus changed (reload): transcripts are told with the new texts.
    void set_menu(std::shared_ptr<const menu::menu> m) {
        std::lock_guard lock(menu_mutex_);
        menu_ = std::move(m);
    }

    // Forgets personal data of finished work older than `days` days.
    store::retention_report apply_retention(int days);

    // For the programme dashboard (app/dashboard_api, service/dashboard):
    // anonymous counts, and the audit line of its export.
    store::store& dashboard_store() { return store_; }
    const clock_source& dashboard_clock() const { return clock_; }

  private:
    outcome<store::case_record> acting_case(const operator_identity& who,
                                            const std::string& reference);
    // Applies `u` with its audit line (and messages) in one transaction;
    // conflict when the case changed hands since `c` was read.
    outcome<store::case_record> update(const operator_identity& who, const store::case_record& c,
                                       store::case_update u, const std::string& action,
                                       const std::string& detail,
                                       const std::vector<store::outbound_message>& outbox = {});
    std::vector<filled_template> templates_for(const store::case_record& c) const;

    store::store& store_;
    const clock_source& clock_;
    referral_service& referrals_;
    std::shared_ptr<const menu::menu> menu() const {
        std::lock_guard lock(menu_mutex_);
        return menu_;
    }

    mutable std::mutex menu_mutex_;
    std::shared_ptr<const menu::menu> menu_;
    hotline_settings settings_;
};

// Reasons a case is in the hotline queue (see queue_item::reasons).
std::vector<std::string> queue_reasons(const store::queue_entry& e);
// One CSV field: quoted when needed, and never read as a formula.
std::string csv_field(const std::string& value);

}  // namespace gw::service

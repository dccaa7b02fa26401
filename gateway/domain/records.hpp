#pragma once
// The records the gateway's parts share: what she gave (cases, sessions,
// inbound messages), what goes out (the outbox), referrals, operators and
// their audit trail. Plain data: the store keeps them, services make and
// change them, adapters read outbound messages.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.hpp"

namespace gw::domain {

struct new_case {
    std::string origin_key;  // unique per triggering event: a retry returns the same case
    std::string phone;       // E.164
    std::string channel;     // "ussd", "sms"
    std::string language;
    std::string topic;
    std::string subtopic;
    std::string oblast;
    std::string target_group;
    std::string details;
    bool consent = false;  // she agreed that partners may see her number
    bool urgent = false;
    std::optional<bool> safe_to_call;
    bool notify_sms = false;  // she agreed to a discreet SMS when a partner accepts
    // How she may be reached: call_any, call_time (at call_time: morning,
    // afternoon, evening), sms_only (SMS with the code only), none (she
    // calls back with her code); "" when the menu did not ask.
    std::string contact;
    std::string call_time;
    std::string session_id;   // the menu session that made it (for the transcript)
    std::string sms_channel;  // SMS cases: the aggregator she wrote through (replies go back by it)
    std::string transcript;   // the session state when the case was made (screens, choices)
    // Chosen by the service: new, or escalated when urgent (service::store_case).
    case_status status = case_status::new_;
    bool needs_hotline = false;  // the operators handle it from the start (urgent)
};

struct case_record : new_case {
    long long id = 0;
    std::string reference;  // e.g. R-4821937, what she quotes
    long long created_at = 0;
    std::string assigned_to;  // operator username; "" = nobody
    std::string outcome;      // the hotline's closing note
    long long closed_at = 0;
};

struct session_record {
    std::string id;  // "<channel>:<aggregator session id>"
    std::string phone;
    std::string channel;
    std::string state;  // engine state, serialised by the service
    session_status status = session_status::active;
    long long started_at = 0;
    long long updated_at = 0;
    // The language she chose, remembered for her number in the same
    // write as this state ("" = nothing to remember).
    std::string remember_language;
};

// An SMS (or later, a webhook) waiting to be sent, and its progress.
struct outbound_message {
    long long id = 0;
    std::string channel;    // aggregator that sends it ("kannel", "twilio", ...)
    std::string recipient;  // E.164
    std::string body;
    std::string purpose;  // "menu_reply", "notification", ...
    message_status status = message_status::queued;
    int attempts = 0;
    long long next_attempt_at_ms = 0;
    std::string provider_id;  // the aggregator's id, for delivery reports
    std::string last_error;
    long long created_at = 0;
};

// An inbound message already handled: its id makes retries harmless.
struct inbound_record {
    std::string aggregator;
    std::string message_id;
    std::string phone;  // E.164, or empty when unusable
    std::string reply;  // what was answered in the HTTP response, if anything
    long long received_at = 0;
};

// A case handed to a partner's queue (or, with no partner, to the hotline
// operators), with why the rules chose it.
struct referral_record {
    long long id = 0;
    long long case_id = 0;
    std::string case_reference;
    std::string partner;  // empty: the hotline operators
    referral_status status = referral_status::new_;
    std::string rule;
    std::string explanation;
    std::string reason;    // decline reason
    std::string outcome;   // closing note
    long long due_at = 0;  // acknowledge by (unix seconds); 0 = no deadline
    long long created_at = 0;
    long long updated_at = 0;
};

// One audited step: who did what to a referral, when.
struct referral_event {
    long long referral_id = 0;
    std::string actor;   // "partner:legal_aid_osh", "sms:+996...", "system", "operator:..."
    std::string action;  // created, viewed, accepted, declined, noted, ...
    std::string detail;
    long long at = 0;
};

// A new case's first referral, decided before the case is written so that
// both are one commit: what referral_store::create_referral takes, the
// case's id filled in by the store.
struct first_referral {
    referral_record referral;
    referral_event created;
    std::vector<outbound_message> outbox;  // the partner's webhook, the focal point's SMS
    bool hotline_takes_case = false;       // no partner: the operators handle it
};

// What a new case's own transaction also writes (case_store::
// create_case_with): her END waits for one commit.
struct written_with_case {
    std::optional<first_referral> referral;  // its first referral, decided before the write
    std::optional<session_record>
        session;  // her session once the case is made (the END quotes its code)
};

// What case_store::create_case_with answers: the case, and whether this
// call wrote it (with what came with it) or found it stored by an earlier
// try of the same origin, which writes nothing.
struct created_case {
    case_record record;
    bool written_now = false;
};

// A hotline operator's account. The password is kept only as an
// Argon2id hash string (libsodium's crypto_pwhash_str format).
struct operator_account {
    long long id = 0;
    std::string username;
    std::string display_name;
    std::string role;  // operator, supervisor, programme (service::account_role)
    std::string password_hash;
    bool active = true;
    long long created_at = 0;
};

// One line of the audit trail: who viewed or changed what, when.
struct audit_entry {
    long long at = 0;
    std::string actor;      // "operator:aida", "partner:legal_aid_osh", "system"
    std::string action;     // viewed, claimed, noted, replied, closed, ...
    long long case_id = 0;  // 0: not about one case (log-in, operators, partners)
    std::string detail;
};

// An audit line read back, with the case it concerns.
struct audit_record : audit_entry {
    std::string case_reference;
};

struct case_note {
    long long id = 0;
    long long case_id = 0;
    std::string author;
    std::string text;
    long long at = 0;
};

// A case waiting for the hotline, with what the store knows about why.
struct queue_entry {
    case_record c;
    std::optional<referral_status> latest_referral;  // none when no referral was made
    bool overdue = false;                            // a referral missed its deadline
};

// A change to a case's handling by the hotline. Unset fields stay.
struct case_update {
    std::optional<std::string> expect_assigned;  // refuse unless assigned_to is this
    std::optional<std::string> assigned_to;
    std::optional<case_status> status;
    std::optional<std::string> outcome;
    // Set: referrals still open end too ("closed"), each with an event
    // carrying this detail (they would go on counting against the partner).
    std::optional<std::string> close_open_referrals;
};

}  // namespace gw::domain

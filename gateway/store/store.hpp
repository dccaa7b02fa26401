#pragma once
// The gateway's storage contract. All SQL lives behind this interface
// (SQLite is the embedded default; a PostgreSQL backend for several nodes
// is planned). Every method is a complete unit of work: it commits before
// returning, or throws store_error and leaves nothing half-written.
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>

namespace gw::store {

class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

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
};

struct case_record : new_case {
    long long id = 0;
    std::string reference;  // e.g. R-4821937, what she quotes
    std::string status;     // new, escalated, ...
    long long created_at = 0;
};

struct session_record {
    std::string id;  // "<channel>:<aggregator session id>"
    std::string phone;
    std::string channel;
    std::string state;   // engine state, serialised by the service
    std::string status;  // active, finished, abandoned
    long long started_at = 0;
    long long updated_at = 0;
};

// An SMS (or later, a webhook) waiting to be sent, and its progress.
struct outbound_message {
    long long id = 0;
    std::string channel;    // aggregator that sends it ("kannel", "twilio", ...)
    std::string recipient;  // E.164
    std::string body;
    std::string purpose;  // "menu_reply", "notification", ...
    std::string status;   // queued, sending, sent, delivered, failed, dead
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
    std::string status;   // new, accepted, declined, in_progress, closed, revoked, overdue, escalated
    std::string rule;
    std::string explanation;
    std::string reason;   // decline reason
    std::string outcome;  // closing note
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

class store {
public:
    virtual ~store() = default;

    virtual std::optional<std::string> subscriber_language(const std::string& phone) = 0;
    virtual void set_subscriber_language(const std::string& phone, const std::string& lang) = 0;

    virtual void save_session(const session_record& s) = 0;
    // Many sessions in one transaction (write-behind batches).
    virtual void save_sessions(const std::vector<session_record>& sessions) = 0;
    virtual std::optional<session_record> find_session(const std::string& id) = 0;
    // Latest unfinished (active or abandoned) session of a number updated at or after `since`,
    // other than `except_id`: a candidate to resume.
    virtual std::optional<session_record> find_resumable_session(const std::string& phone,
                                                                 long long since,
                                                                 const std::string& except_id) = 0;
    virtual void set_session_status(const std::string& id, const std::string& status) = 0;
    // Marks active sessions idle since before `before` as abandoned; returns how many.
    virtual std::size_t abandon_idle_sessions(long long before) = 0;

    // Commits the case durably (fsync) before returning. Idempotent on
    // origin_key: a second call returns the case stored by the first.
    virtual case_record create_case(const new_case& c, long long now) = 0;
    virtual std::optional<case_record> find_case(const std::string& reference) = 0;
    virtual std::size_t count_cases() = 0;

    // --- SMS ---
    virtual bool no_sms(const std::string& phone) = 0;
    virtual void set_no_sms(const std::string& phone, bool value) = 0;
    virtual std::optional<inbound_record> find_inbound(const std::string& aggregator,
                                                       const std::string& message_id) = 0;
    // In one transaction: the inbound message, the session (if any) and the
    // messages it causes. Messages to a number flagged "do not SMS" are
    // dropped. Returns false, writing nothing, when the message was already
    // recorded (a duplicate delivery).
    virtual bool commit_inbound(const inbound_record& in, const session_record* session,
                                const std::vector<outbound_message>& outbox) = 0;
    // Queues one message; returns its id, or 0 when the number is flagged "do not SMS".
    virtual long long enqueue_outbound(const outbound_message& m) = 0;
    // Due queued messages, oldest first, now marked "sending".
    virtual std::vector<outbound_message> claim_due_outbound(long long now_ms,
                                                             std::size_t limit) = 0;
    virtual void mark_sent(long long id, const std::string& provider_id, long long now) = 0;
    virtual void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                            const std::string& error, long long now) = 0;
    virtual void mark_dead(long long id, int attempts, const std::string& error,
                           long long now) = 0;
    // After a crash, messages left "sending" go back to the queue.
    virtual std::size_t requeue_unfinished() = 0;
    // Records a report and moves the message to delivered/failed. Returns
    // false when no message has that provider id on that channel yet; the
    // report is kept and applied when mark_sent records that id (reports
    // can overtake the aggregator's answer to the send request).
    virtual bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                        const std::string& status, const std::string& detail,
                                        long long now) = 0;
    virtual std::optional<outbound_message> find_outbound(long long id) = 0;
    virtual std::vector<outbound_message> outbound_to(const std::string& recipient) = 0;
    virtual std::map<std::string, std::size_t> outbox_counts() = 0;  // by status

    // --- Referrals ---
    virtual std::optional<case_record> find_case_by_id(long long id) = 0;
    // Cases that no referral has taken up yet (e.g. after a crash), oldest first.
    virtual std::vector<case_record> unrouted_cases(std::size_t limit) = 0;
    // In one transaction: the referral, its "created" event and the messages
    // it causes (webhook, SMS to the focal point). Returns it with its id.
    virtual referral_record create_referral(const referral_record& r, const std::string& actor,
                                            const std::vector<outbound_message>& outbox) = 0;
    virtual std::optional<referral_record> find_referral(long long id) = 0;
    // A partner's referrals, newest first; `status` empty = any.
    virtual std::vector<referral_record> partner_referrals(const std::string& partner,
                                                           const std::string& status,
                                                           std::size_t limit,
                                                           std::size_t offset) = 0;
    virtual std::vector<referral_record> case_referrals(long long case_id) = 0;
    // Moves a referral to `to` only if its status is one of `from`; records
    // the event and queues `outbox` in the same transaction. nullopt when
    // the referral is not in one of `from` (nothing written).
    virtual std::optional<referral_record> transition_referral(
        long long id, const std::vector<std::string>& from, const std::string& to,
        const referral_event& event, const std::vector<outbound_message>& outbox,
        const std::string& reason, const std::string& outcome) = 0;
    virtual void record_referral_event(const referral_event& e) = 0;
    virtual std::vector<referral_event> referral_events(long long referral_id) = 0;
    // Referrals still "new" whose acknowledge deadline passed.
    virtual std::vector<referral_record> overdue_referrals(long long now) = 0;
    // Open referrals (new, accepted, in_progress) per partner.
    virtual std::map<std::string, std::size_t> open_referral_counts() = 0;
};

// Opens (creating if needed) a SQLite database and applies pending
// schema migrations. Throws store_error when the file cannot be used.
std::unique_ptr<store> open_sqlite_store(const std::string& path);

// Schema version the code expects (applied migrations).
int sqlite_schema_version();

}  // namespace gw::store

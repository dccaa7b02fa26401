#pragma once
// The gateway's storage contract. All SQL lives behind this interface
// (SQLite is the embedded default; a PostgreSQL backend for several nodes
// is planned). Every method is a complete unit of work: it commits before
// returning, or throws store_error and leaves nothing half-written.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/sealing.hpp"

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
    // How she may be reached: call_any, call_time (at call_time: morning,
    // afternoon, evening), sms_only (SMS with the code only), none (she
    // calls back with her code); "" when the menu did not ask.
    std::string contact;
    std::string call_time;
    std::string session_id;   // the menu session that made it (for the transcript)
    std::string sms_channel;  // SMS cases: the aggregator she wrote through (replies go back by it)
    std::string transcript;   // the session state when the case was made (screens, choices)
};

struct case_record : new_case {
    long long id = 0;
    std::string reference;  // e.g. R-4821937, what she quotes
    std::string status;     // new, escalated (urgent), claimed, closed
    long long created_at = 0;
    std::string assigned_to;  // operator username; "" = nobody
    std::string outcome;      // the hotline's closing note
    long long closed_at = 0;
};

struct session_record {
    std::string id;  // "<channel>:<aggregator session id>"
    std::string phone;
    std::string channel;
    std::string state;   // engine state, serialised by the service
    std::string status;  // active, finished, abandoned
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
    std::string
        status;  // new, accepted, declined, in_progress, closed, revoked, overdue, escalated
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

// A hotline operator's account. The password is kept only as an
// Argon2id hash string (libsodium's crypto_pwhash_str format).
struct operator_account {
    long long id = 0;
    std::string username;
    std::string display_name;
    std::string role;  // operator, supervisor
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
    std::string latest_referral_status;  // "" when no referral was made
    bool overdue = false;                // a referral missed its deadline
};

// A change to a case's handling by the hotline. Unset fields stay.
struct case_update {
    std::optional<std::string> expect_assigned;  // refuse unless assigned_to is this
    std::optional<std::string> assigned_to;
    std::optional<std::string> status;
    std::optional<std::string> outcome;
};

// Anonymous counts for the programme: one row per group.
struct stat_row {
    std::string metric;  // sessions, cases, referrals, partner_response
    std::string month;   // YYYY-MM
    std::string oblast, topic, language, channel, partner, status;
    long long count = 0;
    double average_hours = 0;  // partner_response: mean time to first answer
};

struct retention_report {
    std::size_t sessions = 0, cases = 0, inbound = 0, outbox = 0, operator_sessions = 0;
    bool wal_truncated = true;  // the write-ahead log no longer holds old page images
};

// How writes reached the disk: `writes` units of work in `commits`
// transactions, of which `durable_commits` were fsynced (they held a case).
struct commit_stats {
    long long commits = 0, durable_commits = 0, writes = 0;
};

class store {
  public:
    virtual ~store() = default;

    virtual commit_stats commit_counts() const { return {}; }

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
    // Which channels' messages a claim takes (an outbox lane): only those
    // in `only` when it is not empty, and none of those in `except`.
    struct channel_filter {
        std::vector<std::string> only, except;
    };
    // Due queued messages, oldest first, now marked "sending".
    virtual std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit,
                                                             const channel_filter& lane) = 0;
    std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit) {
        return claim_due_outbound(now_ms, limit, channel_filter{});
    }
    virtual void mark_sent(long long id, const std::string& provider_id, long long now) = 0;
    virtual void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                            const std::string& error, long long now) = 0;
    virtual void mark_dead(long long id, int attempts, const std::string& error, long long now) = 0;
    // After a crash, messages left "sending" go back to the queue.
    virtual std::size_t requeue_unfinished() = 0;
    // Records a report and moves the message to delivered/failed. Returns
    // false when no message has that provider id on that channel yet; the
    // report is kept and applied when mark_sent records that id (reports
    // can overtake the aggregator's answer to the send request).
    virtual bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                        const std::string& status, const std::string& detail,
                                        long long now) = 0;
    // She opted out with the aggregator (a report said so): flags the
    // recipient of that message "do not SMS". False when no message has it.
    virtual bool opt_out_recipient_of(const std::string& channel,
                                      const std::string& provider_id) = 0;
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

    // --- The hotline: operators, their queue, the audit trail ---
    virtual long long create_operator(const operator_account& a, const audit_entry& audit) = 0;
    // Replaces display name, role, hash and active flag of the account with a.id.
    virtual void update_operator(const operator_account& a, const audit_entry& audit) = 0;
    virtual std::optional<operator_account> find_operator(const std::string& username) = 0;
    virtual std::vector<operator_account> operators() = 0;
    // Log-in sessions are kept by the hash of their token only.
    virtual void create_operator_session(const std::string& token_hash, long long operator_id,
                                         long long now, long long expires_at,
                                         const audit_entry& audit) = 0;
    // The account of an unexpired session of an active operator.
    virtual std::optional<operator_account> operator_for_session(const std::string& token_hash,
                                                                 long long now) = 0;
    virtual void end_operator_session(const std::string& token_hash) = 0;

    // Open cases in the hotline's hands (urgent, escalated to operators,
    // revoked, or claimed) and cases not routed yet; urgent first, then
    // oldest first.
    virtual std::vector<queue_entry> hotline_queue(std::size_t limit) = 0;
    // How many cases hotline_queue would list (for monitoring).
    virtual std::size_t hotline_queue_length() = 0;
    // Applies `u` and records `audit` (and queues `outbox`) in one
    // transaction; nullopt, writing nothing, when expect_assigned differs.
    virtual std::optional<case_record> update_case(long long case_id, const case_update& u,
                                                   const audit_entry& audit,
                                                   const std::vector<outbound_message>& outbox) = 0;
    virtual void add_case_note(const case_note& n, const audit_entry& audit) = 0;
    virtual std::vector<case_note> case_notes(long long case_id) = 0;
    // The session that made the case, if still kept.
    virtual std::optional<session_record> case_session(long long case_id) = 0;
    virtual void record_audit(const audit_entry& e) = 0;
    // Operator audit lines and partner referral events, newest first;
    // case_id 0 = all cases.
    virtual std::vector<audit_record> audit_trail(long long case_id, std::size_t limit) = 0;
    // Messages given up on (status dead), newest first.
    virtual std::vector<outbound_message> dead_outbound(std::size_t limit) = 0;
    // A dead message back to the queue, attempts reset; false if not dead.
    virtual bool retry_outbound(long long id, long long now, const audit_entry& audit) = 0;
    virtual std::set<std::string> paused_partners() = 0;
    virtual void set_partner_paused(const std::string& partner, bool paused,
                                    const audit_entry& audit) = 0;

    // --- Programme statistics and retention ---
    virtual std::vector<stat_row> statistics() = 0;
    // Forgets personal data older than `before` (unix seconds): session
    // transcripts and numbers, closed cases' numbers and free text,
    // inbound numbers and texts, finished outbound messages' recipients and
    // bodies, expired log-in sessions. Rows stay, so counts survive.
    virtual retention_report purge_personal_data(long long before, long long now) = 0;
};

class storage_health;

struct sqlite_options {
    // Told of every failure and of every write that went through (may be null).
    storage_health* health = nullptr;
    // How long a write waits for another process's write lock.
    std::chrono::milliseconds busy_timeout{5000};
    // After a checkpoint, a write-ahead log larger than this is truncated.
    long long wal_limit_bytes = 16LL << 20;
};

// Opens (creating if needed) a SQLite database and applies pending
// schema migrations. Numbers and free text are sealed with `sealer`; a
// database made with another key is refused. The file, its -wal and -shm
// are readable by the owner only (0600), a folder it creates 0700. Throws
// store_error when the file cannot be used.
std::unique_ptr<store> open_sqlite_store(const std::string& path, const data_sealer& sealer,
                                         const sqlite_options& options = {});

// Schema version the code expects (applied migrations).
int sqlite_schema_version();

// For tests and tools: creates (or upgrades) a database only up to a
// schema version before sealing began (3), as an older gateway left it,
// so that the migrations that follow can be exercised on real rows.
void create_legacy_sqlite_store(const std::string& path, int version);

}  // namespace gw::store

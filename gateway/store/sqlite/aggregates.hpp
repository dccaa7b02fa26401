#pragma once
// The SQLite implementation of each store interface, one class per
// aggregate, each defined in its own file (sessions.cpp, cases.cpp, ...);
// sqlite_store.cpp joins them into one `store`. They share one `database`,
// and the row helpers below, which write or read inside another
// aggregate's unit of work (an inbound SMS stores her session and queues
// replies in one transaction).
#include <atomic>
#include <string>

#include "store/sqlite/database.hpp"
#include "store/store.hpp"

namespace gw::store::sqlite {

// --- Rows shared between aggregates (each defined beside its table).

// Columns a row reader expects, for "SELECT <columns> FROM <table> ...";
// arrays (constant-initialised), as other files' statements are built from
// them while the program starts.
extern const char session_columns[];   // sessions.cpp
extern const char case_columns[];      // cases.cpp
extern const char outbox_columns[];    // outbox.cpp
extern const char referral_columns[];  // referrals.cpp: ... FROM referrals r JOIN cases c
extern const char operator_columns[];  // operators.cpp

session_record read_session(const database& db, const SQLite::Statement& st);
case_record read_case(const database& db, const SQLite::Statement& st);
outbound_message read_outbound(const database& db, const SQLite::Statement& st);
referral_record read_referral(const database& db, const SQLite::Statement& st);
operator_account read_operator(const SQLite::Statement& st);

// Inside database::write() only.
void put_session(database& db, const session_record& s);
// Returns the new id, or 0 for a number flagged "do not SMS".
long long put_outbound(database& db, const outbound_message& m);
void put_referral_event(database& db, const referral_event& e);
// A referral, its `created` event, its messages and, when the hotline
// takes the case, the case marked for the operators; returns it with its id.
referral_record put_referral(database& db, const first_referral& r);
void put_audit(database& db, const audit_entry& e);
// A delivery report's final status (delivered, failed) on a sent message (inbound.cpp).
void set_reported_status(database& db, long long outbox_id, message_status status, long long now);

// --- The aggregates.

class sqlite_sessions : public virtual session_store {
  public:
    explicit sqlite_sessions(database& db) : db_(db) {}
    std::optional<std::string> subscriber_language(const std::string& phone) override;
    void set_subscriber_language(const std::string& phone, const std::string& lang) override;
    void save_session(const session_record& s) override;
    void save_sessions(const std::vector<session_record>& sessions) override;
    std::optional<session_record> find_session(const std::string& id) override;
    std::optional<session_record> find_resumable_session(const std::string& phone, long long since,
                                                         const std::string& except_id) override;
    void set_session_status(const std::string& id, session_status status) override;
    std::size_t abandon_idle_sessions(long long before) override;

  private:
    database& db_;
};

class sqlite_cases : public virtual case_store {
  public:
    explicit sqlite_cases(database& db) : db_(db) {}
    std::optional<created_case> create_case_with(const new_case& c, const std::string& reference,
                                                 long long now,
                                                 const written_with_case& with) override;
    std::optional<case_record> find_case(const std::string& reference) override;
    std::optional<case_record> find_case_by_id(long long id) override;
    std::vector<case_record> find_cases_by_number_ending(const std::string& digits,
                                                         std::size_t limit) override;
    std::size_t count_cases() override;
    std::vector<case_record> unrouted_cases(std::size_t limit) override;
    std::optional<session_record> case_session(long long case_id) override;

  private:
    database& db_;
};

class sqlite_inbound : public virtual inbound_store {
  public:
    explicit sqlite_inbound(database& db) : db_(db) {}
    std::optional<inbound_record> find_inbound(const std::string& aggregator,
                                               const std::string& message_id) override;
    bool commit_inbound(const inbound_record& in, const session_record* session,
                        const std::vector<outbound_message>& outbox) override;
    bool no_sms(const std::string& phone) override;
    void set_no_sms(const std::string& phone, bool value) override;
    bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                message_status status, const std::string& detail,
                                long long now) override;
    bool opt_out_recipient_of(const std::string& channel, const std::string& provider_id) override;

  private:
    database& db_;
};

class sqlite_outbox : public virtual outbox_store {
  public:
    explicit sqlite_outbox(database& db) : db_(db) {}
    using outbox_store::claim_due_outbound;
    long long enqueue_outbound(const outbound_message& m) override;
    std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit,
                                                     const channel_filter& lane) override;
    void mark_sent(long long id, const std::string& provider_id, long long now) override;
    void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                    const std::string& error, long long now) override;
    void mark_dead(long long id, int attempts, const std::string& error, long long now) override;
    std::size_t requeue_unfinished() override;
    std::optional<outbound_message> find_outbound(long long id) override;
    std::vector<outbound_message> outbound_to(const std::string& recipient) override;
    std::map<std::string, std::size_t> outbox_counts() override;
    std::vector<outbound_message> dead_outbound(std::size_t limit) override;
    bool retry_outbound(long long id, long long now, const audit_entry& audit) override;

  private:
    database& db_;
};

class sqlite_referrals : public virtual referral_store {
  public:
    explicit sqlite_referrals(database& db) : db_(db) {}
    referral_record create_referral(const referral_record& r, const referral_event& created,
                                    const std::vector<outbound_message>& outbox,
                                    bool hotline_takes_case, bool first_of_case) override;
    std::optional<referral_record> find_referral(long long id) override;
    std::vector<referral_record> partner_referrals(const std::string& partner,
                                                   std::optional<referral_status> status,
                                                   std::size_t limit, std::size_t offset) override;
    std::vector<referral_record> case_referrals(long long case_id) override;
    std::optional<referral_record> transition_referral(
        long long id, const std::vector<referral_status>& from, referral_status to,
        const referral_event& event, const std::vector<outbound_message>& outbox,
        const std::string& reason, const std::string& outcome) override;
    void record_referral_event(const referral_event& e) override;
    std::vector<referral_event> referral_events(long long referral_id) override;
    std::vector<referral_record> overdue_referrals(long long now) override;
    std::map<std::string, std::size_t> open_referral_counts() override;
    std::set<std::string> paused_partners() override;
    void set_partner_paused(const std::string& partner, bool paused,
                            const audit_entry& audit) override;

  private:
    database& db_;
};

class sqlite_operators : public virtual operator_store {
  public:
    explicit sqlite_operators(database& db) : db_(db) {}
    long long create_operator(const operator_account& a, const audit_entry& audit) override;
    void update_operator(const operator_account& a, const audit_entry& audit,
                         bool sign_out) override;
    std::optional<operator_account> find_operator(const std::string& username) override;
    std::vector<operator_account> operators() override;
    void create_operator_session(const std::string& token_hash, long long operator_id,
                                 long long now, long long expires_at,
                                 const audit_entry& audit) override;
    std::optional<operator_account> operator_for_session(const std::string& token_hash,
                                                         long long now) override;
    void end_operator_session(const std::string& token_hash) override;

  private:
    database& db_;
};

class sqlite_hotline : public virtual hotline_store {
  public:
    explicit sqlite_hotline(database& db) : db_(db) {}
    std::vector<queue_entry> hotline_queue(std::size_t limit) override;
    std::size_t hotline_queue_length() override;
    std::optional<case_record> update_case(long long case_id, const case_update& u,
                                           const audit_entry& audit,
                                           const std::vector<outbound_message>& outbox) override;
    void add_case_note(const case_note& n, const audit_entry& audit) override;
    std::vector<case_note> case_notes(long long case_id) override;
    void record_audit(const audit_entry& e) override;
    std::vector<audit_record> audit_trail(long long case_id, std::size_t limit) override;

  private:
    database& db_;
};

class sqlite_reporting : public virtual reporting_store {
  public:
    explicit sqlite_reporting(database& db) : db_(db) {}
    std::vector<stat_row> statistics() override;
    // The dashboard's counts (dashboard.cpp).
    std::vector<case_count> case_counts(const dashboard_filter& f) override;
    std::vector<partner_funnel> referral_funnel(const dashboard_filter& f, long long now) override;
    std::vector<sms_count> sms_counts(const dashboard_filter& f) override;
    retention_report purge_personal_data(long long before, long long now) override;
    commit_stats commit_counts() const override { return db_.stats(); }
    bool hold_lease(const std::string& job, const std::string& holder, long long now,
                    long long seconds) override;

  private:
    database& db_;
};

class sqlite_limits : public virtual limit_store {
  public:
    explicit sqlite_limits(database& db) : db_(db) {}
    long long count_event(const std::string& key, long long window_start) override;
    std::optional<throttle_state> find_throttle(const std::string& key) override;
    throttle_state update_throttle(const std::string& key,
                                   const std::function<void(throttle_state&)>& change) override;

  private:
    database& db_;
    std::atomic<unsigned> events_{0};  // old windows are dropped every 256 events
};

}  // namespace gw::store::sqlite

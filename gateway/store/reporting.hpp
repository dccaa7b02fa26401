#pragma once
// What the programme may know (anonymous counts), what is forgotten when,
// and how writes reached the disk.
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

// The programme dashboard's choice: cases, referrals and SMS created in
// [from, to) (unix seconds), of one oblast ("" = all).
struct dashboard_filter {
    long long from = 0, to = 0;
    std::string oblast;
};

// Cases of one ISO week (its Monday, "YYYY-MM-DD", UTC) and one kind.
struct case_count {
    std::string week, topic, oblast, channel, target_group;
    long long count = 0;
};

// What became of one partner's referrals (made in the period).
struct partner_funnel {
    std::string partner;
    long long created = 0;
    long long accepted = 0;   // the partner ever accepted it
    long long done = 0;       // closed by the partner (not by the hotline)
    long long declined = 0;   // status declined
    long long overdue = 0;    // status overdue, or still new past its deadline
    long long rerouted = 0;   // declined, overdue or revoked, and the case had a later referral
    long long answered = 0;   // the partner accepted or declined it
    double answer_hours = 0;  // mean hours to the first answer, over `answered`
    long long sla_total = 0;  // with a deadline that is decided (answered, or past)
    long long sla_kept = 0;   // first answer at or before the deadline
};

// SMS (not webhooks) queued in the period, by channel and outbox status.
struct sms_count {
    std::string channel;
    message_status status = message_status::queued;
    long long count = 0;
};

class reporting_store {
  public:
    virtual ~reporting_store() = default;

    virtual std::vector<stat_row> statistics() = 0;
    // The dashboard's counts (never anything of one woman): cases per week
    // and kind; referrals per partner (`now` decides what is overdue);
    // SMS per channel and status (the outbox knows no oblast: not filtered).
    virtual std::vector<case_count> case_counts(const dashboard_filter& f) = 0;
    virtual std::vector<partner_funnel> referral_funnel(const dashboard_filter& f,
                                                        long long now) = 0;
    virtual std::vector<sms_count> sms_counts(const dashboard_filter& f) = 0;
    // Forgets personal data older than `before` (unix seconds): session
    // transcripts and numbers, closed cases' numbers and free text,
    // inbound numbers and texts, finished outbound messages' recipients and
    // bodies, expired log-in sessions. Rows stay, so counts survive.
    virtual retention_report purge_personal_data(long long before, long long now) = 0;
    virtual commit_stats commit_counts() const = 0;
    // Jobs that must run once however many nodes run them (SLA sweeps,
    // retention, requeueing a dead node's messages): true when `holder`
    // holds `job`'s lease until now + seconds (taken when free or expired,
    // renewed when its own). A write: it also proves the store writable.
    virtual bool hold_lease(const std::string& job, const std::string& holder, long long now,
                            long long seconds) = 0;
};

}  // namespace gw::store

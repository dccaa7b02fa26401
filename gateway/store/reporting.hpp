#pragma once
// What the programme may know (anonymous counts), what is forgotten when,
// and how writes reached the disk.
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class reporting_store {
  public:
    virtual ~reporting_store() = default;

    virtual std::vector<stat_row> statistics() = 0;
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

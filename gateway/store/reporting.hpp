#pragma once
// What the programme may know (anonymous counts), what is forgotten when,
// and how writes reached the disk.
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
};

}  // namespace gw::store

#pragma once
// The hotline's work on cases: its queue, notes and the audit trail.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class hotline_store {
  public:
    virtual ~hotline_store() = default;

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
    virtual void record_audit(const audit_entry& e) = 0;
    // Operator audit lines and partner referral events, newest first;
    // case_id 0 = all cases.
    virtual std::vector<audit_record> audit_trail(long long case_id, std::size_t limit) = 0;
};

}  // namespace gw::store

#pragma once
// Referrals: a case handed to a partner (or to the hotline operators),
// each step in its own append-only trail; partners paused by the hotline.
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class referral_store {
  public:
    virtual ~referral_store() = default;

    // In one transaction: the referral, its `created` event (whose
    // referral_id is filled in), the messages it causes (webhook, SMS to
    // the focal point) and, when `hotline_takes_case`, the case put in the
    // operators' hands. Returns it with its id. With `first_of_case`, only
    // if the case has no referral yet (else its latest one is returned and
    // nothing written): two nodes routing a new case at once make one.
    virtual referral_record create_referral(const referral_record& r, const referral_event& created,
                                            const std::vector<outbound_message>& outbox,
                                            bool hotline_takes_case,
                                            bool first_of_case = false) = 0;
    virtual std::optional<referral_record> find_referral(long long id) = 0;
    // A partner's referrals, newest first; with `status`, only those.
    virtual std::vector<referral_record> partner_referrals(const std::string& partner,
                                                           std::optional<referral_status> status,
                                                           std::size_t limit,
                                                           std::size_t offset) = 0;
    virtual std::vector<referral_record> case_referrals(long long case_id) = 0;
    // Moves a referral to `to` only if its status is one of `from`; records
    // the event and queues `outbox` in the same transaction. nullopt when
    // the referral is not in one of `from` (nothing written).
    virtual std::optional<referral_record> transition_referral(
        long long id, const std::vector<referral_status>& from, referral_status to,
        const referral_event& event, const std::vector<outbound_message>& outbox,
        const std::string& reason, const std::string& outcome) = 0;
    virtual void record_referral_event(const referral_event& e) = 0;
    virtual std::vector<referral_event> referral_events(long long referral_id) = 0;
    // Referrals still "new" whose acknowledge deadline passed.
    virtual std::vector<referral_record> overdue_referrals(long long now) = 0;
    // Open referrals (new, accepted, in_progress) per partner.
    virtual std::map<std::string, std::size_t> open_referral_counts() = 0;
    virtual std::set<std::string> paused_partners() = 0;
    virtual void set_partner_paused(const std::string& partner, bool paused,
                                    const audit_entry& audit) = 0;
};

}  // namespace gw::store

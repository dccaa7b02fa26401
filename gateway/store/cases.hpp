#pragma once
// Cases: what she asked for help with, kept exactly as she gave it.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class case_store {
  public:
    virtual ~case_store() = default;

    // Stores the case under `reference` and commits it durably (fsync)
    // before returning. Idempotent on origin_key: a second call returns
    // the case stored by the first, whatever its reference. nullopt,
    // writing nothing, when another case already has `reference` (the
    // caller draws another).
    std::optional<case_record> create_case(const new_case& c, const std::string& reference,
                                           long long now) {
        auto made = create_case_with(c, reference, now, {});
        if (!made) return std::nullopt;
        return std::move(made->record);
    }
    // create_case and, in the same transaction, the case's first referral
    // with what that writes (referral_store::create_referral) and her
    // session's state after it: one commit and one fsync before her END,
    // and no moment when the case is stored but not routed. A retry of a
    // stored case writes nothing and returns it (with whatever referral
    // and session it has).
    virtual std::optional<created_case> create_case_with(const new_case& c,
                                                         const std::string& reference,
                                                         long long now,
                                                         const written_with_case& with) = 0;
    virtual std::optional<case_record> find_case(const std::string& reference) = 0;
    virtual std::optional<case_record> find_case_by_id(long long id) = 0;
    // Cases whose number ends in these digits (data_sealer::
    // number_ending_digits of them), newest first, found through a keyed
    // hash of the ending: the digits are never stored nor scanned for.
    // Cases whose number retention forgot are not found.
    virtual std::vector<case_record> find_cases_by_number_ending(const std::string& digits,
                                                                 std::size_t limit) = 0;
    virtual std::size_t count_cases() = 0;
    // Cases that no referral has taken up yet (e.g. after a crash), oldest first.
    virtual std::vector<case_record> unrouted_cases(std::size_t limit) = 0;
    // The session that made the case, if still kept.
    virtual std::optional<session_record> case_session(long long case_id) = 0;
};

}  // namespace gw::store

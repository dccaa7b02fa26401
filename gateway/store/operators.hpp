#pragma once
// Hotline operators' accounts and log-in sessions (kept by token hash only).
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class operator_store {
  public:
    virtual ~operator_store() = default;

    virtual long long create_operator(const operator_account& a, const audit_entry& audit) = 0;
    // Replaces display name, role, hash and active flag of the account with
    // a.id; with `sign_out`, every log-in session of it ends in the same
    // transaction.
    virtual void update_operator(const operator_account& a, const audit_entry& audit,
                                 bool sign_out) = 0;
    virtual std::optional<operator_account> find_operator(const std::string& username) = 0;
    virtual std::vector<operator_account> operators() = 0;
    virtual void create_operator_session(const std::string& token_hash, long long operator_id,
                                         long long now, long long expires_at,
                                         const audit_entry& audit) = 0;
    // The account of an unexpired session of an active operator.
    virtual std::optional<operator_account> operator_for_session(const std::string& token_hash,
                                                                 long long now) = 0;
    virtual void end_operator_session(const std::string& token_hash) = 0;
};

}  // namespace gw::store

#pragma once
// Menu sessions and what is remembered for a number (her language).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class session_store {
  public:
    virtual ~session_store() = default;

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
    virtual void set_session_status(const std::string& id, session_status status) = 0;
    // Marks active sessions idle since before `before` as abandoned; returns how many.
    virtual std::size_t abandon_idle_sessions(long long before) = 0;
};

}  // namespace gw::store

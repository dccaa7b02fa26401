#pragma once
// The gateway's storage contract. All SQL lives behind this interface
// (SQLite is the embedded default; a PostgreSQL backend for several nodes
// is planned). Every method is a complete unit of work: it commits before
// returning, or throws store_error and leaves nothing half-written.
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

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
};

struct case_record : new_case {
    long long id = 0;
    std::string reference;  // e.g. R-4821937, what she quotes
    std::string status;     // new, escalated, ...
    long long created_at = 0;
};

struct session_record {
    std::string id;  // "<channel>:<aggregator session id>"
    std::string phone;
    std::string channel;
    std::string state;   // engine state, serialised by the service
    std::string status;  // active, finished, abandoned
    long long started_at = 0;
    long long updated_at = 0;
};

class store {
public:
    virtual ~store() = default;

    virtual std::optional<std::string> subscriber_language(const std::string& phone) = 0;
    virtual void set_subscriber_language(const std::string& phone, const std::string& lang) = 0;

    virtual void save_session(const session_record& s) = 0;
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
};

// Opens (creating if needed) a SQLite database and applies pending
// schema migrations. Throws store_error when the file cannot be used.
std::unique_ptr<store> open_sqlite_store(const std::string& path);

// Schema version the code expects (applied migrations).
int sqlite_schema_version();

}  // namespace gw::store

#pragma once
// What the store keeps: the shared records (domain/records.hpp) and the
// store's own: its error, reporting rows, outbox lanes, commit counts.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/records.hpp"

namespace gw::store {

using domain::audit_entry;
using domain::audit_record;
using domain::case_note;
using domain::case_record;
using domain::case_status;
using domain::case_update;
using domain::created_case;
using domain::first_referral;
using domain::inbound_record;
using domain::message_status;
using domain::new_case;
using domain::operator_account;
using domain::outbound_message;
using domain::queue_entry;
using domain::referral_event;
using domain::referral_record;
using domain::referral_status;
using domain::session_record;
using domain::session_status;
using domain::written_with_case;

class store_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The session a case came from, as the store keeps it: by its lookup hash
// ("" for none). `Database`: either backend's, which holds the key.
template <class Database>
std::string session_lookup(const Database& db, const new_case& c) {
    return c.session_id.empty() ? std::string() : db.lookup_hash(c.session_id);
}

// A case as it reads back right after its insert: what it was given, its
// id, code and time, and its session by the lookup hash the store keeps
// instead of the key. Saves reading back (and unsealing) the row just written.
inline case_record as_inserted(const new_case& c, long long id, const std::string& reference,
                               long long now, std::string session_lookup) {
    case_record r;
    static_cast<new_case&>(r) = c;
    r.id = id;
    r.reference = reference;
    r.created_at = now;
    r.session_id = std::move(session_lookup);
    r.needs_hotline = false;  // an instruction to the store, not a column it reads back
    return r;
}

// A status read from its column: a name none of the enum's is a corrupt row.
template <class E>
E stored_status(const std::string& column, std::optional<E> (*named)(std::string_view),
                const char* what) {
    if (auto s = named(column)) return *s;
    throw store_error(std::string("unknown ") + what + " status in the store: " + column);
}
inline case_status stored_case_status(const std::string& column) {
    return stored_status(column, domain::case_status_named, "case");
}
inline referral_status stored_referral_status(const std::string& column) {
    return stored_status(column, domain::referral_status_named, "referral");
}
inline session_status stored_session_status(const std::string& column) {
    return stored_status(column, domain::session_status_named, "session");
}
inline message_status stored_message_status(const std::string& column) {
    return stored_status(column, domain::message_status_named, "message");
}

// Anonymous counts for the programme: one row per group.
struct stat_row {
    std::string metric;  // sessions, cases, referrals, partner_response
    std::string month;   // YYYY-MM
    std::string oblast, topic, language, channel, partner, status;
    long long count = 0;
    double average_hours = 0;  // partner_response: mean time to first answer
};

struct retention_report {
    std::size_t sessions = 0, cases = 0, inbound = 0, outbox = 0, operator_sessions = 0;
    bool wal_truncated = true;  // the write-ahead log no longer holds old page images
};

// Which channels' messages an outbox claim takes (an outbox lane): only
// those in `only` when it is not empty, and none of those in `except`.
struct channel_filter {
    std::vector<std::string> only, except;
};

// How writes reached the disk: `writes` units of work in `commits`
// transactions, of which `durable_commits` were fsynced (they held a case).
struct commit_stats {
    long long commits = 0, durable_commits = 0, writes = 0;
};

}  // namespace gw::store

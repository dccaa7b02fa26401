#pragma once
// The durable outbox: every SMS and webhook goes out through it.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace gw::store {

class outbox_store {
  public:
    virtual ~outbox_store() = default;

    // Queues one message; returns its id, or 0 when the number is flagged "do not SMS".
    virtual long long enqueue_outbound(const outbound_message& m) = 0;
    // Due queued messages of a lane, oldest first, now marked "sending".
    virtual std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit,
                                                             const channel_filter& lane) = 0;
    std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit) {
        return claim_due_outbound(now_ms, limit, channel_filter{});
    }
    virtual void mark_sent(long long id, const std::string& provider_id, long long now) = 0;
    virtual void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                            const std::string& error, long long now) = 0;
    virtual void mark_dead(long long id, int attempts, const std::string& error, long long now) = 0;
    // Messages left "sending" by a process that died go back to the queue
    // (SQLite: all, at start; PostgreSQL: those claimed longer ago than the
    // claim timeout, as other nodes may be sending theirs right now).
    virtual std::size_t requeue_unfinished() = 0;
    virtual std::optional<outbound_message> find_outbound(long long id) = 0;
    virtual std::vector<outbound_message> outbound_to(const std::string& recipient) = 0;
    virtual std::map<std::string, std::size_t> outbox_counts() = 0;  // by status
    // Messages given up on (status dead), newest first.
    virtual std::vector<outbound_message> dead_outbound(std::size_t limit) = 0;
    // A dead message back to the queue, attempts reset; false if not dead.
    virtual bool retry_outbound(long long id, long long now, const audit_entry& audit) = 0;
};

}  // namespace gw::store

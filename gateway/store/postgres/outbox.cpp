// The durable outbox: queued, claimed per lane ("sending") with FOR UPDATE
// SKIP LOCKED (every message claimed by one worker however many nodes
// run), then sent, retried or given up on; recipients sealed.
#include <algorithm>
#include <tuple>

#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {

const char outbox_columns[] =
    "id, channel, recipient_sealed, body, purpose, status, attempts, next_attempt_at_ms, "
    "provider_id, last_error, created_at";

namespace {

// Nothing is queued for a number flagged "do not SMS".
const statement sql_put_outbound{
    "INSERT INTO outbox (channel, recipient, body, purpose, status, attempts, "
    "next_attempt_at_ms, created_at, updated_at, recipient_sealed) SELECT :channel, :recipient, "
    ":body, :purpose, 'queued', 0, :next_attempt_at_ms::bigint, :created_at::bigint, "
    ":created_at::bigint, :recipient_sealed::bytea WHERE NOT EXISTS (SELECT 1 FROM subscribers "
    "WHERE phone = :recipient AND no_sms = 1) RETURNING id"};
const statement sql_channel_of{"SELECT channel FROM outbox WHERE id = :id::bigint"};
const statement sql_set_sent{
    "UPDATE outbox SET status = 'sent', provider_id = :provider_id, attempts = attempts + 1, "
    "updated_at = :now::bigint, last_error = '' WHERE id = :id::bigint"};
const statement sql_early_reports{
    "SELECT status FROM delivery_reports WHERE outbox_id IS NULL AND provider_id = :provider_id "
    "AND channel = (SELECT channel FROM outbox WHERE id = :id::bigint) ORDER BY id"};
const statement sql_attach_early_reports{
    "UPDATE delivery_reports SET outbox_id = :id::bigint WHERE outbox_id IS NULL AND "
    "provider_id = :provider_id AND channel = (SELECT channel FROM outbox WHERE id = "
    ":id::bigint)"};
const statement sql_set_retry{
    "UPDATE outbox SET status = 'queued', attempts = :attempts::integer, next_attempt_at_ms = "
    ":next_attempt_at_ms::bigint, last_error = :error, updated_at = :now::bigint "
    "WHERE id = :id::bigint"};
const statement sql_set_dead{
    "UPDATE outbox SET status = 'dead', attempts = :attempts::integer, last_error = :error, "
    "updated_at = :now::bigint WHERE id = :id::bigint"};
// Messages a node claimed and never finished: it died. Only claims older
// than the claim timeout, so that a message another node is sending right
// now is not sent twice.
const statement sql_requeue_unfinished{
    "UPDATE outbox SET status = 'queued' WHERE status = 'sending' AND updated_at < "
    "extract(epoch FROM now())::bigint - :claim_timeout::bigint"};
const statement sql_outbound_by_id{std::string("SELECT ") + outbox_columns +
                                   " FROM outbox WHERE id = :id::bigint"};
const statement sql_outbound_to{std::string("SELECT ") + outbox_columns +
                                " FROM outbox WHERE recipient = :recipient ORDER BY id"};
const statement sql_outbox_counts{"SELECT status, count(*) AS n FROM outbox GROUP BY status"};
const statement sql_dead_outbound{std::string("SELECT ") + outbox_columns +
                                  " FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT "
                                  ":limit::bigint"};
const statement sql_retry_dead{
    "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at_ms = :now_ms::bigint, "
    "updated_at = :now::bigint WHERE id = :id::bigint AND status = 'dead'"};

// A lane's claim: the lane's channels as one array parameter each.
const statement sql_claim{
    std::string("UPDATE outbox SET status = 'sending', updated_at = extract(epoch FROM now())"
                "::bigint WHERE id IN (SELECT id FROM outbox "
                "WHERE status = 'queued' AND next_attempt_at_ms <= :now_ms::bigint AND "
                "(cardinality(:only::text[]) = 0 OR channel = ANY(:only::text[])) AND "
                "NOT (channel = ANY(:except::text[])) ORDER BY next_attempt_at_ms, id "
                "LIMIT :limit::bigint FOR UPDATE SKIP LOCKED) RETURNING ") +
    outbox_columns};

// A PostgreSQL array literal of text values.
std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char ch : values[i]) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace

outbound_message read_outbound(const database& db, const pqxx::row& row) {
    outbound_message m;
    m.id = row["id"].as<long long>();
    m.channel = row["channel"].as<std::string>();
    m.recipient = db.unseal(row["recipient_sealed"]);
    m.body = row["body"].as<std::string>();
    m.purpose = row["purpose"].as<std::string>();
    m.status = stored_message_status(row["status"].as<std::string>());
    m.attempts = row["attempts"].as<int>();
    m.next_attempt_at_ms = row["next_attempt_at_ms"].as<long long>();
    m.provider_id = row["provider_id"].as<std::string>();
    m.last_error = row["last_error"].as<std::string>();
    m.created_at = row["created_at"].as<long long>();
    return m;
}

long long put_outbound(database& db, unit& u, const outbound_message& m) {
    auto r = u.exec(sql_put_outbound, params()
                                          .set(":channel", m.channel)
                                          .set(":recipient", db.lookup_hash(m.recipient))
                                          .set(":body", m.body)
                                          .set(":purpose", m.purpose)
                                          .set(":next_attempt_at_ms", m.next_attempt_at_ms)
                                          .set(":created_at", m.created_at)
                                          .set(":recipient_sealed", db.sealed(m.recipient)));
    return r.empty() ? 0 : r[0]["id"].as<long long>();
}

long long pg_outbox::enqueue_outbound(const outbound_message& m) {
    return db_.write(__func__, [&](unit& u) {
        long long id = put_outbound(db_, u, m);
        u.commit();
        return id;
    });
}

std::vector<outbound_message> pg_outbox::claim_due_outbound(long long now_ms, std::size_t limit,
                                                            const channel_filter& lane) {
    return db_.write(__func__, [&](unit& u) {
        std::vector<outbound_message> out;
        for (const auto& row : u.exec(sql_claim, params()
                                                     .set(":now_ms", now_ms)
                                                     .set(":limit", limit)
                                                     .set(":only", text_array(lane.only))
                                                     .set(":except", text_array(lane.except))))
            out.push_back(read_outbound(db_, row));
        u.commit();
        // RETURNING keeps no order: oldest due first, as the sender expects.
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return std::tie(a.next_attempt_at_ms, a.id) < std::tie(b.next_attempt_at_ms, b.id);
        });
        return out;
    });
}

void pg_outbox::mark_sent(long long id, const std::string& provider_id, long long now) {
    db_.write(__func__, [&](unit& u) {
        auto channel = u.exec(sql_channel_of, params().set(":id", id));
        if (!channel.empty())
            lock_provider_id(u, channel[0]["channel"].as<std::string>(), provider_id);
        u.exec(sql_set_sent,
               params().set(":id", id).set(":provider_id", provider_id).set(":now", now));
        // A report may have arrived before the aggregator's answer did.
        std::optional<message_status> final_status;
        for (const auto& row :
             u.exec(sql_early_reports, params().set(":id", id).set(":provider_id", provider_id))) {
            auto status = domain::message_status_named(row["status"].as<std::string>());
            if (status && is_final_report(*status)) final_status = status;
        }
        u.exec(sql_attach_early_reports, params().set(":id", id).set(":provider_id", provider_id));
        if (final_status) set_reported_status(u, id, *final_status, now);
        u.commit();
    });
}

void pg_outbox::mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                           const std::string& error, long long now) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_set_retry, params()
                                  .set(":id", id)
                                  .set(":attempts", attempts)
                                  .set(":next_attempt_at_ms", next_attempt_at_ms)
                                  .set(":error", error)
                                  .set(":now", now));
        u.commit();
    });
}

void pg_outbox::mark_dead(long long id, int attempts, const std::string& error, long long now) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_set_dead, params()
                                 .set(":id", id)
                                 .set(":attempts", attempts)
                                 .set(":error", error)
                                 .set(":now", now));
        u.commit();
    });
}

std::size_t pg_outbox::requeue_unfinished() {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_requeue_unfinished, params().set(":claim_timeout", claim_timeout_s_));
        u.commit();
        return static_cast<std::size_t>(r.affected_rows());
    });
}

std::optional<outbound_message> pg_outbox::find_outbound(long long id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<outbound_message> {
        auto r = u.exec(sql_outbound_by_id, params().set(":id", id));
        if (r.empty()) return std::nullopt;
        return read_outbound(db_, r[0]);
    });
}

std::vector<outbound_message> pg_outbox::outbound_to(const std::string& recipient) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<outbound_message> out;
        for (const auto& row :
             u.exec(sql_outbound_to, params().set(":recipient", db_.lookup_hash(recipient))))
            out.push_back(read_outbound(db_, row));
        return out;
    });
}

std::map<std::string, std::size_t> pg_outbox::outbox_counts() {
    return db_.read(__func__, [&](unit& u) {
        std::map<std::string, std::size_t> out;
        for (const auto& row : u.exec(sql_outbox_counts))
            out[row["status"].as<std::string>()] = row["n"].as<std::size_t>();
        return out;
    });
}

std::vector<outbound_message> pg_outbox::dead_outbound(std::size_t limit) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<outbound_message> out;
        for (const auto& row : u.exec(sql_dead_outbound, params().set(":limit", limit)))
            out.push_back(read_outbound(db_, row));
        return out;
    });
}

bool pg_outbox::retry_outbound(long long id, long long now, const audit_entry& audit) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_retry_dead,
                        params().set(":id", id).set(":now_ms", now * 1000).set(":now", now));
        if (r.affected_rows() == 0) return false;
        put_audit(u, audit);
        u.commit();
        return true;
    });
}

}  // namespace gw::store::postgres

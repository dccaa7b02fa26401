// The durable outbox: queued, claimed per lane ("sending"), then sent,
// retried or given up on (dead); recipients sealed, looked up by hash.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {

const char outbox_columns[] =
    "id, channel, recipient_sealed, body, purpose, status, attempts, next_attempt_at_ms, "
    "provider_id, last_error, created_at";

namespace {

// Nothing is queued for a number flagged "do not SMS".
const std::string sql_put_outbound =
    "INSERT INTO outbox (channel, recipient, body, purpose, status, attempts, "
    "next_attempt_at_ms, created_at, updated_at, recipient_sealed) SELECT :channel, :recipient, "
    ":body, :purpose, 'queued', 0, :next_attempt_at_ms, :created_at, :created_at, "
    ":recipient_sealed WHERE NOT EXISTS (SELECT 1 FROM subscribers WHERE phone = :recipient "
    "AND no_sms = 1)";
const std::string sql_due_outbound =
    std::string("SELECT ") + outbox_columns +
    " FROM outbox WHERE status = 'queued' AND next_attempt_at_ms <= :now_ms";
const std::string sql_due_order = " ORDER BY next_attempt_at_ms, id LIMIT :limit";
const std::string sql_set_sending = "UPDATE outbox SET status = 'sending' WHERE id = :id";
const std::string sql_set_sent =
    "UPDATE outbox SET status = 'sent', provider_id = :provider_id, attempts = attempts + 1, "
    "updated_at = :now, last_error = '' WHERE id = :id";
const std::string sql_early_reports =
    "SELECT status FROM delivery_reports WHERE outbox_id IS NULL AND provider_id = :provider_id "
    "AND channel = (SELECT channel FROM outbox WHERE id = :id) ORDER BY id";
const std::string sql_attach_early_reports =
    "UPDATE delivery_reports SET outbox_id = :id WHERE outbox_id IS NULL AND "
    "provider_id = :provider_id AND channel = (SELECT channel FROM outbox WHERE id = :id)";
const std::string sql_set_retry =
    "UPDATE outbox SET status = 'queued', attempts = :attempts, next_attempt_at_ms = "
    ":next_attempt_at_ms, last_error = :error, updated_at = :now WHERE id = :id";
const std::string sql_set_dead =
    "UPDATE outbox SET status = 'dead', attempts = :attempts, last_error = :error, "
    "updated_at = :now WHERE id = :id";
const std::string sql_requeue_unfinished =
    "UPDATE outbox SET status = 'queued' WHERE status = 'sending'";
const std::string sql_outbound_by_id =
    std::string("SELECT ") + outbox_columns + " FROM outbox WHERE id = :id";
const std::string sql_outbound_to = std::string("SELECT ") + outbox_columns +
                                    " FROM outbox WHERE recipient = :recipient ORDER BY id";
const std::string sql_outbox_counts = "SELECT status, count(*) AS n FROM outbox GROUP BY status";
const std::string sql_dead_outbound =
    std::string("SELECT ") + outbox_columns +
    " FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT :limit";
const std::string sql_retry_dead =
    "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at_ms = :now_ms, "
    "updated_at = :now WHERE id = :id AND status = 'dead'";

// A lane's claim: one statement per shape of filter (cached by its SQL),
// channels bound as :only0.., :except0...
std::string due_sql(const channel_filter& lane) {
    auto names = [](const char* prefix, std::size_t n) {
        std::string p;
        for (std::size_t i = 0; i < n; ++i)
            p += (i ? ", :" : ":") + std::string(prefix) + std::to_string(i);
        return p;
    };
    std::string sql = sql_due_outbound;
    if (!lane.only.empty()) sql += " AND channel IN (" + names("only", lane.only.size()) + ")";
    if (!lane.except.empty())
        sql += " AND channel NOT IN (" + names("except", lane.except.size()) + ")";
    return sql + sql_due_order;
}

}  // namespace

outbound_message read_outbound(const database& db, const SQLite::Statement& st) {
    outbound_message m;
    m.id = st.getColumn("id").getInt64();
    m.channel = st.getColumn("channel").getString();
    m.recipient = db.unseal(st.getColumn("recipient_sealed"));
    m.body = st.getColumn("body").getString();
    m.purpose = st.getColumn("purpose").getString();
    m.status = stored_message_status(st.getColumn("status").getString());
    m.attempts = st.getColumn("attempts").getInt();
    m.next_attempt_at_ms = st.getColumn("next_attempt_at_ms").getInt64();
    m.provider_id = st.getColumn("provider_id").getString();
    m.last_error = st.getColumn("last_error").getString();
    m.created_at = st.getColumn("created_at").getInt64();
    return m;
}

long long put_outbound(database& db, const outbound_message& m) {
    auto& st = db.cached(sql_put_outbound);
    bind_param(st, ":channel", m.channel);
    bind_param(st, ":recipient", db.lookup_hash(m.recipient));
    bind_param(st, ":body", m.body);
    bind_param(st, ":purpose", m.purpose);
    bind_param(st, ":next_attempt_at_ms", m.next_attempt_at_ms);
    bind_param(st, ":created_at", m.created_at);
    db.bind_sealed(st, ":recipient_sealed", m.recipient);
    if (st.exec() == 0) return 0;
    return db.last_insert_id();
}

long long sqlite_outbox::enqueue_outbound(const outbound_message& m) {
    return db_.write(__func__, [&](unit_tx& tx) {
        long long id = put_outbound(db_, m);
        tx.commit();
        return id;
    });
}

std::vector<outbound_message> sqlite_outbox::claim_due_outbound(long long now_ms, std::size_t limit,
                                                                const channel_filter& lane) {
    return db_.write(__func__, [&](unit_tx& tx) {
        std::vector<outbound_message> out;
        auto& due = db_.cached(due_sql(lane));
        bind_param(due, ":now_ms", now_ms);
        bind_param(due, ":limit", limit);
        for (std::size_t i = 0; i < lane.only.size(); ++i)
            bind_param(due, (":only" + std::to_string(i)).c_str(), lane.only[i]);
        for (std::size_t i = 0; i < lane.except.size(); ++i)
            bind_param(due, (":except" + std::to_string(i)).c_str(), lane.except[i]);
        while (due.executeStep()) out.push_back(read_outbound(db_, due));
        due.reset();
        for (auto& m : out) {
            auto& st = db_.cached(sql_set_sending);
            bind_param(st, ":id", m.id);
            st.exec();
            m.status = message_status::sending;
        }
        tx.commit();
        return out;
    });
}

void sqlite_outbox::mark_sent(long long id, const std::string& provider_id, long long now) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_set_sent);
        bind_param(st, ":id", id);
        bind_param(st, ":provider_id", provider_id);
        bind_param(st, ":now", now);
        st.exec();
        // A report may have arrived before the aggregator's answer did.
        auto& early = db_.cached(sql_early_reports);
        bind_param(early, ":id", id);
        bind_param(early, ":provider_id", provider_id);
        std::optional<message_status> final_status;
        while (early.executeStep()) {
            auto status = domain::message_status_named(early.getColumn("status").getString());
            if (status && is_final_report(*status)) final_status = status;
        }
        early.reset();
        auto& attach = db_.cached(sql_attach_early_reports);
        bind_param(attach, ":id", id);
        bind_param(attach, ":provider_id", provider_id);
        attach.exec();
        if (final_status) set_reported_status(db_, id, *final_status, now);
        tx.commit();
    });
}

void sqlite_outbox::mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                               const std::string& error, long long now) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_set_retry);
        bind_param(st, ":id", id);
        bind_param(st, ":attempts", attempts);
        bind_param(st, ":next_attempt_at_ms", next_attempt_at_ms);
        bind_param(st, ":error", error);
        bind_param(st, ":now", now);
        st.exec();
        tx.commit();
    });
}

void sqlite_outbox::mark_dead(long long id, int attempts, const std::string& error, long long now) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_set_dead);
        bind_param(st, ":id", id);
        bind_param(st, ":attempts", attempts);
        bind_param(st, ":error", error);
        bind_param(st, ":now", now);
        st.exec();
        tx.commit();
    });
}

std::size_t sqlite_outbox::requeue_unfinished() {
    return db_.write(__func__, [&](unit_tx& tx) {
        std::size_t n = db_.cached(sql_requeue_unfinished).exec();
        tx.commit();
        return n;
    });
}

std::optional<outbound_message> sqlite_outbox::find_outbound(long long id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<outbound_message> {
        auto& st = c.cached(sql_outbound_by_id);
        bind_param(st, ":id", id);
        if (!st.executeStep()) return std::nullopt;
        return read_outbound(db_, st);
    });
}

std::vector<outbound_message> sqlite_outbox::outbound_to(const std::string& recipient) {
    return db_.read(__func__, [&](connection& c) {
        std::vector<outbound_message> out;
        auto& st = c.cached(sql_outbound_to);
        bind_param(st, ":recipient", db_.lookup_hash(recipient));
        while (st.executeStep()) out.push_back(read_outbound(db_, st));
        return out;
    });
}

std::map<std::string, std::size_t> sqlite_outbox::outbox_counts() {
    return db_.read(__func__, [&](connection& c) {
        std::map<std::string, std::size_t> out;
        auto& st = c.cached(sql_outbox_counts);
        while (st.executeStep())
            out[st.getColumn("status").getString()] =
                static_cast<std::size_t>(st.getColumn("n").getInt64());
        return out;
    });
}

std::vector<outbound_message> sqlite_outbox::dead_outbound(std::size_t limit) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_dead_outbound);
        bind_param(st, ":limit", limit);
        std::vector<outbound_message> out;
        while (st.executeStep()) out.push_back(read_outbound(db_, st));
        return out;
    });
}

bool sqlite_outbox::retry_outbound(long long id, long long now, const audit_entry& audit) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_retry_dead);
        bind_param(st, ":id", id);
        bind_param(st, ":now_ms", now * 1000);
        bind_param(st, ":now", now);
        if (st.exec() == 0) return false;
        put_audit(db_, audit);
        tx.commit();
        return true;
    });
}

}  // namespace gw::store::sqlite

// SQLite implementation of the store, in WAL mode: one writer thread owns
// the write connection and commits the writes queued meanwhile together
// (group commit, one fsync for every case of a batch); reads run on
// connections of their own. Prepared statements kept for reuse per
// connection; migrations versioned with PRAGMA user_version.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <random>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "store/health.hpp"
#include "store/store.hpp"

namespace gw::store {
namespace {

// Append only: each entry moves the schema one version up. Never edit a
// migration that has shipped; add a new one.
const std::vector<const char*>& migrations() {
    static const std::vector<const char*> m = {
        R"sql(
        CREATE TABLE subscribers (
            phone TEXT PRIMARY KEY,
            language TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            phone TEXT NOT NULL,
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX sessions_by_phone ON sessions (phone, updated_at);
        CREATE INDEX sessions_by_status ON sessions (status, updated_at);
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            reference TEXT NOT NULL UNIQUE,
            origin_key TEXT NOT NULL UNIQUE,
            phone TEXT NOT NULL,
            channel TEXT NOT NULL,
            language TEXT NOT NULL,
            topic TEXT NOT NULL,
            subtopic TEXT NOT NULL DEFAULT '',
            oblast TEXT NOT NULL DEFAULT '',
            target_group TEXT NOT NULL DEFAULT '',
            details TEXT NOT NULL DEFAULT '',
            consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
            urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),
            safe_to_call INTEGER,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX cases_by_status ON cases (status, created_at);
        )sql",
        R"sql(
        ALTER TABLE subscribers ADD COLUMN no_sms INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE inbound_messages (
            aggregator TEXT NOT NULL,
            message_id TEXT NOT NULL,
            phone TEXT NOT NULL,
            reply TEXT NOT NULL DEFAULT '',
            received_at INTEGER NOT NULL,
            PRIMARY KEY (aggregator, message_id)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            body TEXT NOT NULL,
            purpose TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms INTEGER NOT NULL,
            provider_id TEXT NOT NULL DEFAULT '',
            last_error TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at_ms);
        CREATE INDEX outbox_by_provider_id ON outbox (channel, provider_id);
        CREATE INDEX outbox_by_recipient ON outbox (recipient);
        CREATE TABLE delivery_reports (
            id INTEGER PRIMARY KEY,
            outbox_id INTEGER REFERENCES outbox (id),
            channel TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            received_at INTEGER NOT NULL
        );
        )sql",
        R"sql(
        ALTER TABLE cases ADD COLUMN notify_sms INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE referrals (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            partner TEXT NOT NULL,
            status TEXT NOT NULL,
            rule TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            due_at INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX referrals_by_partner ON referrals (partner, status, id);
        CREATE INDEX referrals_by_case ON referrals (case_id);
        CREATE INDEX referrals_due ON referrals (status, due_at);
        CREATE TABLE referral_events (
            id INTEGER PRIMARY KEY,
            referral_id INTEGER NOT NULL REFERENCES referrals (id),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            at INTEGER NOT NULL
        );
        CREATE INDEX referral_events_by_referral ON referral_events (referral_id, id);
        CREATE INDEX delivery_reports_by_provider_id ON delivery_reports (channel, provider_id);
        -- The audit trail is append-only, whatever code runs against it.
        CREATE TRIGGER referral_events_no_update BEFORE UPDATE ON referral_events
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
        CREATE TRIGGER referral_events_no_delete BEFORE DELETE ON referral_events
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END;
        )sql",
        // Privacy at rest and the hotline console. Phone columns now hold a
        // keyed hash (look-ups); the numbers themselves, session state and
        // free text are sealed blobs (see seal_legacy_rows for older rows).
        R"sql(
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        ALTER TABLE sessions ADD COLUMN id_sealed BLOB;
        ALTER TABLE sessions ADD COLUMN phone_sealed BLOB;
        ALTER TABLE cases ADD COLUMN phone_sealed BLOB;
        ALTER TABLE cases ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE cases ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '';
        ALTER TABLE cases ADD COLUMN outcome BLOB;
        ALTER TABLE cases ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE cases ADD COLUMN purged_at INTEGER NOT NULL DEFAULT 0;
        -- In the hotline's hands until an operator closes it.
        ALTER TABLE cases ADD COLUMN needs_hotline INTEGER NOT NULL DEFAULT 0;
        UPDATE cases SET needs_hotline = 1 WHERE urgent = 1 OR status = 'escalated' OR id IN
            (SELECT case_id FROM referrals WHERE partner = '');
        CREATE INDEX cases_hotline ON cases (urgent DESC, created_at) WHERE needs_hotline = 1;
        CREATE INDEX cases_by_phone ON cases (phone);
        ALTER TABLE outbox ADD COLUMN recipient_sealed BLOB;
        CREATE TABLE operators (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE operator_sessions (
            token_hash TEXT PRIMARY KEY,
            operator_id INTEGER NOT NULL REFERENCES operators (id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE case_notes (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            author TEXT NOT NULL,
            text BLOB NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX case_notes_by_case ON case_notes (case_id, id);
        CREATE TABLE partner_state (
            partner TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            case_id INTEGER,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_log_by_case ON audit_log (case_id, id);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END;
        -- Retention may blank a partner's free text; nothing else may change.
        DROP TRIGGER referral_events_no_update;
        CREATE TRIGGER referral_events_redact_only BEFORE UPDATE ON referral_events
        WHEN NEW.referral_id IS NOT OLD.referral_id OR NEW.actor IS NOT OLD.actor OR
             NEW.action IS NOT OLD.action OR NEW.at IS NOT OLD.at OR NEW.detail <> ''
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
        )sql",
        // The SMS channel a case came in on: replies to her go back the same way.
        R"sql(
        ALTER TABLE cases ADD COLUMN sms_channel TEXT NOT NULL DEFAULT '';
        )sql",
        // The screens she went through, kept with the case (sealed): an SMS
        // session row is reused by her next conversation.
        R"sql(
        ALTER TABLE cases ADD COLUMN transcript BLOB;
        )sql",
        // Partners' and operators' free text (decline and revocation
        // reasons, closing notes, event details) is sealed too; the
        // redact-only trigger is made again once the rows are sealed
        // (see seal_referral_text).
        R"sql(
        DROP TRIGGER referral_events_redact_only;
        )sql",
        // How she may be reached (safe contact), kept with the case.
        R"sql(
        ALTER TABLE cases ADD COLUMN contact TEXT NOT NULL DEFAULT '';
        ALTER TABLE cases ADD COLUMN call_time TEXT NOT NULL DEFAULT '';
        )sql",
    };
    return m;
}

const std::string session_columns =
    "id_sealed, phone_sealed, channel, state, status, started_at, updated_at";
const std::string outbox_columns =
    "id, channel, recipient_sealed, body, purpose, status, attempts, next_attempt_at_ms, "
    "provider_id, last_error, created_at";
const std::string case_columns =
    "id, reference, origin_key, phone_sealed, channel, language, topic, subtopic, oblast, "
    "target_group, details, consent, urgent, safe_to_call, status, created_at, notify_sms, "
    "session_id, assigned_to, outcome, closed_at, sms_channel, transcript, contact, call_time";
constexpr int case_column_count = 25;  // columns read_case reads
// Open cases in the hotline's hands, and recent ones not routed yet.
const std::string hotline_queue_condition =
    "status <> 'closed' AND (needs_hotline = 1 OR (id > (SELECT max(id) - 1000 FROM cases) "
    "AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id)))";
const std::string operator_columns =
    "operators.id, username, display_name, role, password_hash, active, "
    "operators.created_at";
const std::string referral_columns =
    "r.id, r.case_id, c.reference, r.partner, r.status, r.rule, r.explanation, r.reason, "
    "r.outcome, r.due_at, r.created_at, r.updated_at FROM referrals r JOIN cases c ON "
    "c.id = r.case_id";

// Reads, each run on whichever reader connection is free.
const std::string sql_get_language = "SELECT language FROM subscribers WHERE phone = ?";
const std::string sql_get_session = "SELECT " + session_columns + " FROM sessions WHERE id = ?";
const std::string sql_resumable = "SELECT " + session_columns +
                       " FROM sessions WHERE phone = ?1 AND status IN ('active', 'abandoned') AND "
                       "updated_at >= ?2 AND id <> ?3 ORDER BY updated_at DESC LIMIT 1";
const std::string sql_case_by_ref = "SELECT " + case_columns + " FROM cases WHERE reference = ?";
const std::string sql_count_cases = "SELECT count(*) FROM cases";
const std::string sql_get_no_sms = "SELECT no_sms FROM subscribers WHERE phone = ?";
const std::string sql_get_inbound = "SELECT aggregator, message_id, phone, reply, received_at FROM "
                       "inbound_messages WHERE aggregator = ? AND message_id = ?";
const std::string sql_outbox_by_id = "SELECT " + outbox_columns + " FROM outbox WHERE id = ?";
const std::string sql_outbox_to = "SELECT " + outbox_columns + " FROM outbox WHERE recipient = ? ORDER BY id";
const std::string sql_outbox_counts = "SELECT status, count(*) FROM outbox GROUP BY status";

class sqlite_store final : public store {
  public:
    sqlite_store(const std::string& path, const data_sealer& sealer, const sqlite_options& options)
        : sealer_(sealer),
          health_(options.health),
          db_(open(path, sealer_, options)),
          put_language_(db_,
                        "INSERT INTO subscribers (phone, language, created_at, updated_at) "
                        "VALUES (?1, ?2, strftime('%s','now'), strftime('%s','now')) "
                        "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
                        "updated_at = excluded.updated_at"),
          put_session_(db_,
                       "INSERT INTO sessions (id, phone, channel, state, status, started_at, "
                       "updated_at, id_sealed, phone_sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                       "?8, ?9) "
                       "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
                       "status = excluded.status, updated_at = excluded.updated_at"),
          set_status_(db_, "UPDATE sessions SET status = ?2 WHERE id = ?1"),
          abandon_(db_,
                   "UPDATE sessions SET status = 'abandoned' WHERE status = 'active' AND "
                   "updated_at < ?1"),
          insert_case_(
              db_,
              "INSERT INTO cases (reference, origin_key, phone, channel, language, "
              "topic, subtopic, oblast, target_group, details, consent, urgent, "
              "safe_to_call, status, created_at, notify_sms, phone_sealed, session_id, "
              "needs_hotline, sms_channel, transcript, contact, call_time) VALUES (?1, ?2, ?3, "
              "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
              "?21, ?22, ?23) "
              "ON CONFLICT (origin_key) DO NOTHING"),
          case_by_origin_(db_, "SELECT " + case_columns + " FROM cases WHERE origin_key = ?"),
          put_no_sms_(db_,
                      "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) "
                      "VALUES (?1, ?2, strftime('%s','now'), strftime('%s','now')) "
                      "ON CONFLICT (phone) DO UPDATE SET no_sms = excluded.no_sms, "
                      "updated_at = excluded.updated_at"),
          put_inbound_(db_,
                       "INSERT INTO inbound_messages (aggregator, message_id, phone, reply, "
                       "received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
          put_outbox_(
              db_,
              "INSERT INTO outbox (channel, recipient, body, purpose, status, attempts, "
              "next_attempt_at_ms, created_at, updated_at, recipient_sealed) SELECT ?1, "
              "?2, ?3, ?4, 'queued', 0, ?5, ?6, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM subscribers "
              "WHERE phone = ?2 AND no_sms = 1)"),
          due_outbox_(db_, "SELECT " + outbox_columns +
                               " FROM outbox WHERE status = 'queued' AND next_attempt_at_ms <= ? "
                               "ORDER BY next_attempt_at_ms, id LIMIT ?"),
          set_outbox_sending_(db_, "UPDATE outbox SET status = 'sending' WHERE id = ?"),
          set_outbox_sent_(db_,
                           "UPDATE outbox SET status = 'sent', provider_id = ?2, attempts = "
                           "attempts + 1, updated_at = ?3, last_error = '' WHERE id = ?1"),
          set_outbox_retry_(db_,
                            "UPDATE outbox SET status = 'queued', attempts = ?2, "
                            "next_attempt_at_ms = ?3, last_error = ?4, updated_at = ?5 WHERE id "
                            "= ?1"),
          set_outbox_dead_(db_,
                           "UPDATE outbox SET status = 'dead', attempts = ?2, last_error = ?3, "
                           "updated_at = ?4 WHERE id = ?1"),
          requeue_(db_, "UPDATE outbox SET status = 'queued' WHERE status = 'sending'"),
          outbox_by_provider_(db_,
                              "SELECT id FROM outbox WHERE channel = ? AND provider_id = ? AND "
                              "provider_id <> ''"),
          put_report_(db_,
                      "INSERT INTO delivery_reports (outbox_id, channel, provider_id, status, "
                      "detail, received_at) VALUES (?, ?, ?, ?, ?, ?)"),
          set_outbox_report_(db_,
                             "UPDATE outbox SET status = ?2, updated_at = ?3 WHERE id = ?1 AND "
                             "status IN ('sent', 'delivered', 'failed')"),
          random_(std::random_device{}()),
          path_(path),
          busy_timeout_(options.busy_timeout),
          separate_readers_(!path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0) {
        writer_thread_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "store-writer");  // in top -H and perf
            writer_loop();
        });
        writer_id_ = writer_thread_.get_id();
    }

    ~sqlite_store() override {
        {
            std::lock_guard lock(queue_mutex_);
            stopping_ = true;
        }
        queue_ready_.notify_all();
        writer_thread_.join();
    }

    commit_stats commit_counts() const override {
        return {stats_.commits.load(), stats_.durable_commits.load(), stats_.writes.load()};
    }

    std::optional<std::string> subscriber_language(const std::string& phone) override {
        return read(__func__, [&](connection& c) -> std::optional<std::string> {
            auto& st = c.cached(sql_get_language);
            st.bind(1, sealer_.lookup_hash(phone));
            if (!st.executeStep() || st.isColumnNull(0)) return std::nullopt;
            return st.getColumn(0).getString();
        });
    }

    void set_subscriber_language(const std::string& phone, const std::string& lang) override {
        write(__func__, [&](unit_tx& tx) {
            reset(put_language_);
            put_language_.bind(1, sealer_.lookup_hash(phone));
            put_language_.bind(2, lang);
            put_language_.exec();
            tx.commit();
        });
    }

    void save_session(const session_record& s) override {
        write(__func__, [&](unit_tx& tx) {
            write_session(s);
            tx.commit();
        });
    }

    void save_sessions(const std::vector<session_record>& sessions) override {
        if (sessions.empty()) return;
        write(__func__, [&](unit_tx& tx) {
            for (const auto& s : sessions) write_session(s);
            tx.commit();
        });
    }

    std::optional<session_record> find_session(const std::string& id) override {
        return read(__func__, [&](connection& c) -> std::optional<session_record> {
            auto& st = c.cached(sql_get_session);
            st.bind(1, sealer_.lookup_hash(id));
            if (!st.executeStep()) return std::nullopt;
            return read_session(st);
        });
    }

    std::optional<session_record> find_resumable_session(const std::string& phone, long long since,
                                                         const std::string& except_id) override {
        return read(__func__, [&](connection& c) -> std::optional<session_record> {
            auto& st = c.cached(sql_resumable);
            st.bind(1, sealer_.lookup_hash(phone));
            st.bind(2, static_cast<int64_t>(since));
            st.bind(3, sealer_.lookup_hash(except_id));
            if (!st.executeStep()) return std::nullopt;
            return read_session(st);
        });
    }

    void set_session_status(const std::string& id, const std::string& status) override {
        write(__func__, [&](unit_tx& tx) {
            reset(set_status_);
            set_status_.bind(1, sealer_.lookup_hash(id));
            set_status_.bind(2, status);
            set_status_.exec();
            tx.commit();
        });
    }

    std::size_t abandon_idle_sessions(long long before) override {
        return write(__func__, [&](unit_tx& tx) {
            reset(abandon_);
            abandon_.bind(1, static_cast<int64_t>(before));
            std::size_t n = abandon_.exec();
            tx.commit();
            return n;
        });
    }

    case_record create_case(const new_case& c, long long now) override {
        // A case is what we promise her: durable, so its batch is fsynced.
        return write(
            __func__,
            [&](unit_tx& tx) {
            for (int attempt = 0;; ++attempt) {
                // Each attempt in a savepoint of its own inside the unit's.
                writer_.cached("SAVEPOINT attempt").exec();
                try {
                    reset(insert_case_);
                    insert_case_.bind(1, new_reference());
                    insert_case_.bind(2, c.origin_key);
                    insert_case_.bind(3, sealer_.lookup_hash(c.phone));
                    insert_case_.bind(4, c.channel);
                    insert_case_.bind(5, c.language);
                    insert_case_.bind(6, c.topic);
                    insert_case_.bind(7, c.subtopic);
                    insert_case_.bind(8, c.oblast);
                    insert_case_.bind(9, c.target_group);
                    bind_sealed(insert_case_, 10, c.details);
                    insert_case_.bind(11, c.consent ? 1 : 0);
                    insert_case_.bind(12, c.urgent ? 1 : 0);
                    if (c.safe_to_call)
                        insert_case_.bind(13, *c.safe_to_call ? 1 : 0);
                    else
                        insert_case_.bind(13);
                    insert_case_.bind(14, c.urgent ? "escalated" : "new");
                    insert_case_.bind(15, static_cast<int64_t>(now));
                    insert_case_.bind(16, c.notify_sms ? 1 : 0);
                    bind_sealed(insert_case_, 17, c.phone);
                    insert_case_.bind(18, c.session_id.empty() ? std::string()
                                                               : sealer_.lookup_hash(c.session_id));
                    insert_case_.bind(19, c.urgent ? 1 : 0);
                    insert_case_.bind(20, c.sms_channel);
                    bind_sealed(insert_case_, 21, c.transcript);
                    insert_case_.bind(22, c.contact);
                    insert_case_.bind(23, c.call_time);
                    insert_case_.exec();
                    reset(case_by_origin_);
                    case_by_origin_.bind(1, c.origin_key);
                    if (!case_by_origin_.executeStep())
                        throw store_error("case vanished inside its transaction");
                    case_record out = read_case(case_by_origin_);
                    reset(case_by_origin_);
                    writer_.cached("RELEASE attempt").exec();
                    tx.commit();
                    return out;
                } catch (const SQLite::Exception& e) {
                    reset_busy_statements(db_);
                    writer_.cached("ROLLBACK TO attempt").exec();
                    writer_.cached("RELEASE attempt").exec();
                    // A reference code collision: draw another one.
                    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE && attempt < 5)
                        continue;
                    throw;
                }
            }
            },
            /*durable=*/true);
    }

    std::optional<case_record> find_case(const std::string& reference) override {
        return read(__func__, [&](connection& c) -> std::optional<case_record> {
            auto& st = c.cached(sql_case_by_ref);
            st.bind(1, reference);
            if (!st.executeStep()) return std::nullopt;
            return read_case(st);
        });
    }

    std::size_t count_cases() override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(sql_count_cases);
            st.executeStep();
            return static_cast<std::size_t>(st.getColumn(0).getInt64());
        });
    }

    bool no_sms(const std::string& phone) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(sql_get_no_sms);
            st.bind(1, sealer_.lookup_hash(phone));
            return st.executeStep() && st.getColumn(0).getInt() != 0;
        });
    }

    void set_no_sms(const std::string& phone, bool value) override {
        write(__func__, [&](unit_tx& tx) {
            reset(put_no_sms_);
            put_no_sms_.bind(1, sealer_.lookup_hash(phone));
            put_no_sms_.bind(2, value ? 1 : 0);
            put_no_sms_.exec();
            tx.commit();
        });
    }

    std::optional<inbound_record> find_inbound(const std::string& aggregator,
                                               const std::string& message_id) override {
        return read(__func__, [&](connection& c) -> std::optional<inbound_record> {
            auto& st = c.cached(sql_get_inbound);
            st.bind(1, aggregator);
            st.bind(2, message_id);
            if (!st.executeStep()) return std::nullopt;
            return inbound_record{
                st.getColumn(0).getString(), st.getColumn(1).getString(),
                unseal(st.getColumn(2)), st.getColumn(3).getString(),
                st.getColumn(4).getInt64()};
        });
    }

    bool commit_inbound(const inbound_record& in, const session_record* session,
                        const std::vector<outbound_message>& outbox) override {
        return write(__func__, [&](unit_tx& tx) {
            reset(put_inbound_);
            put_inbound_.bind(1, in.aggregator);
            put_inbound_.bind(2, in.message_id);
            bind_sealed(put_inbound_, 3, in.phone);
            put_inbound_.bind(4, in.reply);
            put_inbound_.bind(5, static_cast<int64_t>(in.received_at));
            if (put_inbound_.exec() == 0) return false;  // seen before: roll back
            if (session) write_session(*session);
            for (const auto& m : outbox) insert_outbound(m);
            tx.commit();
            return true;
        });
    }

    long long enqueue_outbound(const outbound_message& m) override {
        return write(__func__, [&](unit_tx& tx) {
            long long id = insert_outbound(m);
            tx.commit();
            return id;
        });
    }

    std::vector<outbound_message> claim_due_outbound(long long now_ms, std::size_t limit,
                                                     const channel_filter& lane) override {
        return write(__func__, [&](unit_tx& tx) {
            std::vector<outbound_message> out;
            // A lane's statement: one per shape of filter, cached.
            auto placeholders = [](std::size_t from, std::size_t n) {
                std::string p;
                for (std::size_t i = 0; i < n; ++i)
                    p += (i ? ", ?" : "?") + std::to_string(from + i);
                return p;
            };
            SQLite::Statement* due = &due_outbox_;
            if (!lane.only.empty() || !lane.except.empty()) {
                std::string sql = "SELECT " + outbox_columns +
                                  " FROM outbox WHERE status = 'queued' AND next_attempt_at_ms <= ?1";
                if (!lane.only.empty())
                    sql += " AND channel IN (" + placeholders(3, lane.only.size()) + ")";
                if (!lane.except.empty())
                    sql += " AND channel NOT IN (" +
                           placeholders(3 + lane.only.size(), lane.except.size()) + ")";
                due = &cached(sql + " ORDER BY next_attempt_at_ms, id LIMIT ?2");
            }
            reset(*due);
            due->bind(1, static_cast<int64_t>(now_ms));
            due->bind(2, static_cast<int64_t>(limit));
            int n = 3;
            for (const auto& c : lane.only) due->bind(n++, c);
            for (const auto& c : lane.except) due->bind(n++, c);
            while (due->executeStep()) out.push_back(read_outbound(*due));
            reset(*due);
            for (auto& m : out) {
                reset(set_outbox_sending_);
                set_outbox_sending_.bind(1, static_cast<int64_t>(m.id));
                set_outbox_sending_.exec();
                m.status = "sending";
            }
            tx.commit();
            return out;
        });
    }

    void mark_sent(long long id, const std::string& provider_id, long long now) override {
        write(__func__, [&](unit_tx& tx) {
            reset(set_outbox_sent_);
            set_outbox_sent_.bind(1, static_cast<int64_t>(id));
            set_outbox_sent_.bind(2, provider_id);
            set_outbox_sent_.bind(3, static_cast<int64_t>(now));
            set_outbox_sent_.exec();
            // A report may have arrived before the aggregator's answer did.
            auto& early = cached(
                "SELECT status FROM delivery_reports WHERE outbox_id IS NULL AND provider_id = ?2 "
                "AND channel = (SELECT channel FROM outbox WHERE id = ?1) ORDER BY id");
            early.bind(1, static_cast<int64_t>(id));
            early.bind(2, provider_id);
            std::string final_status;
            while (early.executeStep()) {
                std::string st = early.getColumn(0).getString();
                if (st == "delivered" || st == "failed") final_status = st;
            }
            early.reset();
            auto& attach = cached(
                "UPDATE delivery_reports SET outbox_id = ?1 WHERE outbox_id IS NULL AND "
                "provider_id = ?2 AND channel = (SELECT channel FROM outbox WHERE id = ?1)");
            attach.bind(1, static_cast<int64_t>(id));
            attach.bind(2, provider_id);
            attach.exec();
            if (!final_status.empty()) {
                reset(set_outbox_report_);
                set_outbox_report_.bind(1, static_cast<int64_t>(id));
                set_outbox_report_.bind(2, final_status);
                set_outbox_report_.bind(3, static_cast<int64_t>(now));
                set_outbox_report_.exec();
            }
            tx.commit();
        });
    }

    void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                    const std::string& error, long long now) override {
        write(__func__, [&](unit_tx& tx) {
            reset(set_outbox_retry_);
            set_outbox_retry_.bind(1, static_cast<int64_t>(id));
            set_outbox_retry_.bind(2, attempts);
            set_outbox_retry_.bind(3, static_cast<int64_t>(next_attempt_at_ms));
            set_outbox_retry_.bind(4, error);
            set_outbox_retry_.bind(5, static_cast<int64_t>(now));
            set_outbox_retry_.exec();
            tx.commit();
        });
    }

    void mark_dead(long long id, int attempts, const std::string& error, long long now) override {
        write(__func__, [&](unit_tx& tx) {
            reset(set_outbox_dead_);
            set_outbox_dead_.bind(1, static_cast<int64_t>(id));
            set_outbox_dead_.bind(2, attempts);
            set_outbox_dead_.bind(3, error);
            set_outbox_dead_.bind(4, static_cast<int64_t>(now));
            set_outbox_dead_.exec();
            tx.commit();
        });
    }

    std::size_t requeue_unfinished() override {
        return write(__func__, [&](unit_tx& tx) {
            reset(requeue_);
            std::size_t n = requeue_.exec();
            tx.commit();
            return n;
        });
    }

    bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                const std::string& status, const std::string& detail,
                                long long now) override {
        return write(__func__, [&](unit_tx& tx) {
            reset(outbox_by_provider_);
            outbox_by_provider_.bind(1, channel);
            outbox_by_provider_.bind(2, provider_id);
            if (!outbox_by_provider_.executeStep()) {
                // Not (yet) known: keep it; mark_sent applies it when the id arrives.
                reset(outbox_by_provider_);
                reset(put_report_);
                put_report_.bind(1);
                put_report_.bind(2, channel);
                put_report_.bind(3, provider_id);
                put_report_.bind(4, status);
                put_report_.bind(5, detail);
                put_report_.bind(6, static_cast<int64_t>(now));
                put_report_.exec();
                tx.commit();
                return false;
            }
            const int64_t id = outbox_by_provider_.getColumn(0).getInt64();
            reset(outbox_by_provider_);
            reset(put_report_);
            put_report_.bind(1, id);
            put_report_.bind(2, channel);
            put_report_.bind(3, provider_id);
            put_report_.bind(4, status);
            put_report_.bind(5, detail);
            put_report_.bind(6, static_cast<int64_t>(now));
            put_report_.exec();
            if (status == "delivered" || status == "failed") {
                reset(set_outbox_report_);
                set_outbox_report_.bind(1, id);
                set_outbox_report_.bind(2, status);
                set_outbox_report_.bind(3, static_cast<int64_t>(now));
                set_outbox_report_.exec();
            }
            tx.commit();
            return true;
        });
    }

    bool opt_out_recipient_of(const std::string& channel,
                              const std::string& provider_id) override {
        return write(__func__, [&](unit_tx& tx) {
            auto& st = cached(
                "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) SELECT recipient, "
                "1, strftime('%s','now'), strftime('%s','now') FROM outbox WHERE channel = ?1 AND "
                "provider_id = ?2 AND provider_id <> '' AND recipient <> '' LIMIT 1 ON CONFLICT "
                "(phone) DO UPDATE SET no_sms = 1, updated_at = excluded.updated_at");
            st.bind(1, channel);
            st.bind(2, provider_id);
            const bool found = st.exec() > 0;
            tx.commit();
            return found;
        });
    }

    std::optional<outbound_message> find_outbound(long long id) override {
        return read(__func__, [&](connection& c) -> std::optional<outbound_message> {
            auto& st = c.cached(sql_outbox_by_id);
            st.bind(1, static_cast<int64_t>(id));
            if (!st.executeStep()) return std::nullopt;
            return read_outbound(st);
        });
    }

    std::vector<outbound_message> outbound_to(const std::string& recipient) override {
        return read(__func__, [&](connection& c) {
            std::vector<outbound_message> out;
            auto& st = c.cached(sql_outbox_to);
            st.bind(1, sealer_.lookup_hash(recipient));
            while (st.executeStep()) out.push_back(read_outbound(st));
            return out;
        });
    }

    std::map<std::string, std::size_t> outbox_counts() override {
        return read(__func__, [&](connection& c) {
            std::map<std::string, std::size_t> out;
            auto& st = c.cached(sql_outbox_counts);
            while (st.executeStep())
                out[st.getColumn(0).getString()] =
                    static_cast<std::size_t>(st.getColumn(1).getInt64());
            return out;
        });
    }

    std::optional<case_record> find_case_by_id(long long id) override {
        return read(__func__, [&](connection& c) -> std::optional<case_record> {
            auto& st = c.cached("SELECT " + case_columns + " FROM cases WHERE id = ?");
            st.bind(1, static_cast<int64_t>(id));
            if (!st.executeStep()) return std::nullopt;
            return read_case(st);
        });
    }

    std::vector<case_record> unrouted_cases(std::size_t limit) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + case_columns +
                              " FROM cases WHERE NOT EXISTS (SELECT 1 FROM referrals r WHERE "
                              "r.case_id = cases.id) ORDER BY id LIMIT ?");
            st.bind(1, static_cast<int64_t>(limit));
            std::vector<case_record> out;
            while (st.executeStep()) out.push_back(read_case(st));
            return out;
        });
    }

    referral_record create_referral(const referral_record& r, const std::string& actor,
                                    const std::vector<outbound_message>& outbox) override {
        return write(__func__, [&](unit_tx& tx) {
            auto& ins = cached(
                "INSERT INTO referrals (case_id, partner, status, rule, explanation, due_at, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
            ins.bind(1, static_cast<int64_t>(r.case_id));
            ins.bind(2, r.partner);
            ins.bind(3, r.status);
            ins.bind(4, r.rule);
            ins.bind(5, r.explanation);
            ins.bind(6, static_cast<int64_t>(r.due_at));
            ins.bind(7, static_cast<int64_t>(r.created_at));
            ins.bind(8, static_cast<int64_t>(r.created_at));
            ins.exec();
            referral_record out = r;
            out.id = db_.getLastInsertRowid();
            out.updated_at = r.created_at;
            insert_event({out.id, actor, "created",
                          r.partner.empty() ? "to operators" : "to " + r.partner, r.created_at});
            if (r.partner.empty()) {
                // No partner: the case is now the hotline's to handle.
                auto& hand = cached("UPDATE cases SET needs_hotline = 1 WHERE id = ?");
                hand.bind(1, static_cast<int64_t>(r.case_id));
                hand.exec();
            }
            for (const auto& m : outbox) insert_outbound(m);
            tx.commit();
            return out;
        });
    }

    std::optional<referral_record> find_referral(long long id) override {
        return read(__func__, [&](connection& c) -> std::optional<referral_record> {
            auto& st = c.cached("SELECT " + referral_columns + " WHERE r.id = ?");
            st.bind(1, static_cast<int64_t>(id));
            if (!st.executeStep()) return std::nullopt;
            return read_referral(st);
        });
    }

    std::vector<referral_record> partner_referrals(const std::string& partner,
                                                   const std::string& status, std::size_t limit,
                                                   std::size_t offset) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + referral_columns +
                              " WHERE r.partner = ?1 AND (?2 = '' OR r.status = ?2) ORDER BY "
                              "r.id DESC LIMIT ?3 OFFSET ?4");
            st.bind(1, partner);
            st.bind(2, status);
            st.bind(3, static_cast<int64_t>(limit));
            st.bind(4, static_cast<int64_t>(offset));
            std::vector<referral_record> out;
            while (st.executeStep()) out.push_back(read_referral(st));
            return out;
        });
    }

    std::vector<referral_record> case_referrals(long long case_id) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + referral_columns + " WHERE r.case_id = ? ORDER BY r.id");
            st.bind(1, static_cast<int64_t>(case_id));
            std::vector<referral_record> out;
            while (st.executeStep()) out.push_back(read_referral(st));
            return out;
        });
    }

    std::optional<referral_record> transition_referral(
        long long id, const std::vector<std::string>& from, const std::string& to,
        const referral_event& event, const std::vector<outbound_message>& outbox,
        const std::string& reason, const std::string& outcome) override {
        return write(__func__, [&](unit_tx& tx) -> std::optional<referral_record> {
            auto& get = cached("SELECT " + referral_columns + " WHERE r.id = ?");
            get.bind(1, static_cast<int64_t>(id));
            if (!get.executeStep()) return std::nullopt;
            referral_record r = read_referral(get);
            get.reset();
            if (std::find(from.begin(), from.end(), r.status) == from.end()) return std::nullopt;
            auto& upd = cached(
                "UPDATE referrals SET status = ?2, reason = CASE WHEN ?3 = '' THEN reason ELSE ?3 "
                "END, outcome = CASE WHEN ?4 = '' THEN outcome ELSE ?4 END, updated_at = ?5 WHERE "
                "id = ?1");
            upd.bind(1, static_cast<int64_t>(id));
            upd.bind(2, to);
            bind_sealed(upd, 3, reason);
            bind_sealed(upd, 4, outcome);
            upd.bind(5, static_cast<int64_t>(event.at));
            upd.exec();
            insert_event(event);
            for (const auto& m : outbox) insert_outbound(m);
            tx.commit();
            r.status = to;
            if (!reason.empty()) r.reason = reason;
            if (!outcome.empty()) r.outcome = outcome;
            r.updated_at = event.at;
            return r;
        });
    }

    void record_referral_event(const referral_event& e) override {
        write(__func__, [&](unit_tx& tx) {
            insert_event(e);
            tx.commit();
        });
    }

    std::vector<referral_event> referral_events(long long referral_id) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(
                "SELECT referral_id, actor, action, detail, at FROM referral_events WHERE "
                "referral_id = ? ORDER BY id");
            st.bind(1, static_cast<int64_t>(referral_id));
            std::vector<referral_event> out;
            while (st.executeStep())
                out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                               st.getColumn(2).getString(), unseal(st.getColumn(3)),
                               st.getColumn(4).getInt64()});
            return out;
        });
    }

    std::vector<referral_record> overdue_referrals(long long now) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + referral_columns +
                              " WHERE r.status = 'new' AND r.due_at > 0 AND r.due_at < ? ORDER BY "
                              "r.due_at");
            st.bind(1, static_cast<int64_t>(now));
            std::vector<referral_record> out;
            while (st.executeStep()) out.push_back(read_referral(st));
            return out;
        });
    }

    std::map<std::string, std::size_t> open_referral_counts() override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(
                "SELECT partner, count(*) FROM referrals WHERE status IN ('new', 'accepted', "
                "'in_progress') AND partner <> '' GROUP BY partner");
            std::map<std::string, std::size_t> out;
            while (st.executeStep())
                out[st.getColumn(0).getString()] =
                    static_cast<std::size_t>(st.getColumn(1).getInt64());
            return out;
        });
    }

    // --- The hotline ---

    long long create_operator(const operator_account& a, const audit_entry& audit) override {
        return write(__func__, [&](unit_tx& tx) {
            auto& st = cached(
                "INSERT INTO operators (username, display_name, role, password_hash, active, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?6)");
            st.bind(1, a.username);
            st.bind(2, a.display_name);
            st.bind(3, a.role);
            st.bind(4, a.password_hash);
            st.bind(5, a.active ? 1 : 0);
            st.bind(6, static_cast<int64_t>(a.created_at));
            st.exec();
            long long id = db_.getLastInsertRowid();
            insert_audit(audit);
            tx.commit();
            return id;
        });
    }

    void update_operator(const operator_account& a, const audit_entry& audit) override {
        write(__func__, [&](unit_tx& tx) {
            auto& old = cached("SELECT password_hash FROM operators WHERE id = ?");
            old.bind(1, static_cast<int64_t>(a.id));
            const bool new_password =
                old.executeStep() && old.getColumn(0).getString() != a.password_hash;
            old.reset();
            auto& st = cached(
                "UPDATE operators SET display_name = ?2, role = ?3, password_hash = ?4, active = "
                "?5, updated_at = ?6 WHERE id = ?1");
            st.bind(1, static_cast<int64_t>(a.id));
            st.bind(2, a.display_name);
            st.bind(3, a.role);
            st.bind(4, a.password_hash);
            st.bind(5, a.active ? 1 : 0);
            st.bind(6, static_cast<int64_t>(audit.at));
            st.exec();
            if (!a.active || new_password) {
                // A disabled account, or one whose password was reset (it may
                // have leaked), is signed out everywhere at once.
                auto& end = cached("DELETE FROM operator_sessions WHERE operator_id = ?");
                end.bind(1, static_cast<int64_t>(a.id));
                end.exec();
            }
            insert_audit(audit);
            tx.commit();
        });
    }

    std::optional<operator_account> find_operator(const std::string& username) override {
        return read(__func__, [&](connection& c) -> std::optional<operator_account> {
            auto& st = c.cached("SELECT " + operator_columns + " FROM operators WHERE username = ?");
            st.bind(1, username);
            if (!st.executeStep()) return std::nullopt;
            return read_operator(st);
        });
    }

    std::vector<operator_account> operators() override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + operator_columns + " FROM operators ORDER BY username");
            std::vector<operator_account> out;
            while (st.executeStep()) out.push_back(read_operator(st));
            return out;
        });
    }

    void create_operator_session(const std::string& token_hash, long long operator_id,
                                 long long now, long long expires_at,
                                 const audit_entry& audit) override {
        write(__func__, [&](unit_tx& tx) {
            auto& st = cached(
                "INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)");
            st.bind(1, token_hash);
            st.bind(2, static_cast<int64_t>(operator_id));
            st.bind(3, static_cast<int64_t>(now));
            st.bind(4, static_cast<int64_t>(expires_at));
            st.exec();
            insert_audit(audit);
            tx.commit();
        });
    }

    std::optional<operator_account> operator_for_session(const std::string& token_hash,
                                                         long long now) override {
        return read(__func__, [&](connection& c) -> std::optional<operator_account> {
            auto& st = c.cached("SELECT " + operator_columns +
                              " FROM operators JOIN operator_sessions s ON s.operator_id = "
                              "operators.id WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND "
                              "operators.active = 1");
            st.bind(1, token_hash);
            st.bind(2, static_cast<int64_t>(now));
            if (!st.executeStep()) return std::nullopt;
            return read_operator(st);
        });
    }

    void end_operator_session(const std::string& token_hash) override {
        write(__func__, [&](unit_tx& tx) {
            auto& st = cached("DELETE FROM operator_sessions WHERE token_hash = ?");
            st.bind(1, token_hash);
            st.exec();
            tx.commit();
        });
    }

    std::size_t hotline_queue_length() override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT count(*) FROM cases WHERE " + hotline_queue_condition);
            st.executeStep();
            return static_cast<std::size_t>(st.getColumn(0).getInt64());
        });
    }

    std::vector<queue_entry> hotline_queue(std::size_t limit) override {
        return read(__func__, [&](connection& c) {
            // Recent cases without any referral are listed too: routing
            // failed or has not run yet (the sweep retries), someone must know.
            auto& st = c.cached(
                "SELECT " + case_columns +
                ", (SELECT r.status FROM referrals r WHERE r.case_id = cases.id ORDER BY r.id "
                "DESC LIMIT 1), EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND "
                "r.status = 'overdue') FROM cases WHERE " +
                hotline_queue_condition + " ORDER BY urgent DESC, created_at, id LIMIT ?");
            st.bind(1, static_cast<int64_t>(limit));
            std::vector<queue_entry> out;
            while (st.executeStep()) {
                queue_entry e;
                e.c = read_case(st);
                if (!st.getColumn(case_column_count).isNull())
                    e.latest_referral_status = st.getColumn(case_column_count).getString();
                e.overdue = st.getColumn(case_column_count + 1).getInt() != 0;
                out.push_back(std::move(e));
            }
            return out;
        });
    }

    std::optional<case_record> update_case(long long case_id, const case_update& u,
                                           const audit_entry& audit,
                                           const std::vector<outbound_message>& outbox) override {
        return write(__func__, [&](unit_tx& tx) -> std::optional<case_record> {
            auto& get = cached("SELECT " + case_columns + " FROM cases WHERE id = ?");
            get.bind(1, static_cast<int64_t>(case_id));
            if (!get.executeStep()) return std::nullopt;
            case_record c = read_case(get);
            get.reset();
            if (u.expect_assigned && c.assigned_to != *u.expect_assigned) return std::nullopt;
            if (u.assigned_to) c.assigned_to = *u.assigned_to;
            if (u.status) c.status = *u.status;
            if (u.outcome) c.outcome = *u.outcome;
            const bool closed = c.status == "closed";
            if (closed && u.status) c.closed_at = audit.at;
            auto& upd = cached(
                "UPDATE cases SET assigned_to = ?2, status = ?3, outcome = ?4, closed_at = ?5, "
                "needs_hotline = ?6 WHERE id = ?1");
            upd.bind(1, static_cast<int64_t>(case_id));
            upd.bind(2, c.assigned_to);
            upd.bind(3, c.status);
            bind_sealed(upd, 4, c.outcome);
            upd.bind(5, static_cast<int64_t>(c.closed_at));
            upd.bind(6, closed ? 0 : 1);
            upd.exec();
            if (closed && u.status) close_open_referrals(case_id, audit);
            insert_audit(audit);
            for (const auto& m : outbox) insert_outbound(m);
            tx.commit();
            return c;
        });
    }

    void add_case_note(const case_note& n, const audit_entry& audit) override {
        write(__func__, [&](unit_tx& tx) {
            auto& st =
                cached("INSERT INTO case_notes (case_id, author, text, at) VALUES (?, ?, ?, ?)");
            st.bind(1, static_cast<int64_t>(n.case_id));
            st.bind(2, n.author);
            bind_sealed(st, 3, n.text);
            st.bind(4, static_cast<int64_t>(n.at));
            st.exec();
            insert_audit(audit);
            tx.commit();
        });
    }

    std::vector<case_note> case_notes(long long case_id) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(
                "SELECT id, case_id, author, text, at FROM case_notes WHERE case_id = ? ORDER BY "
                "id");
            st.bind(1, static_cast<int64_t>(case_id));
            std::vector<case_note> out;
            while (st.executeStep())
                out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(),
                               st.getColumn(2).getString(), unseal(st.getColumn(3)),
                               st.getColumn(4).getInt64()});
            return out;
        });
    }

    std::optional<session_record> case_session(long long case_id) override {
        return read(__func__, [&](connection& c) -> std::optional<session_record> {
            auto& st = c.cached("SELECT " + session_columns +
                              " FROM sessions WHERE id = (SELECT session_id FROM cases WHERE id "
                              "= ? AND session_id <> '')");
            st.bind(1, static_cast<int64_t>(case_id));
            if (!st.executeStep()) return std::nullopt;
            return read_session(st);
        });
    }

    void record_audit(const audit_entry& e) override {
        write(__func__, [&](unit_tx& tx) {
            insert_audit(e);
            tx.commit();
        });
    }

    std::vector<audit_record> audit_trail(long long case_id, std::size_t limit) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached(
                "SELECT at, actor, action, case_id, detail, reference, k FROM ("
                "SELECT a.at, a.actor, a.action, COALESCE(a.case_id, 0) AS case_id, a.detail, "
                "COALESCE(c.reference, '') AS reference, a.id * 2 AS k FROM audit_log a LEFT JOIN "
                "cases c ON c.id = a.case_id WHERE ?1 = 0 OR a.case_id = ?1 "
                "UNION ALL SELECT e.at, e.actor, e.action, r.case_id, e.detail, c.reference, e.id "
                "* "
                "2 + 1 FROM referral_events e JOIN referrals r ON r.id = e.referral_id JOIN cases "
                "c "
                "ON c.id = r.case_id WHERE ?1 = 0 OR r.case_id = ?1) ORDER BY at DESC, k DESC "
                "LIMIT ?2");
            st.bind(1, static_cast<int64_t>(case_id));
            st.bind(2, static_cast<int64_t>(limit));
            std::vector<audit_record> out;
            while (st.executeStep()) {
                audit_record a;
                a.at = st.getColumn(0).getInt64();
                a.actor = st.getColumn(1).getString();
                a.action = st.getColumn(2).getString();
                a.case_id = st.getColumn(3).getInt64();
                // Odd keys are referral events, whose details are sealed.
                a.detail = st.getColumn(6).getInt64() % 2 ? unseal(st.getColumn(4))
                                                          : st.getColumn(4).getString();
                a.case_reference = st.getColumn(5).getString();
                out.push_back(std::move(a));
            }
            return out;
        });
    }

    std::vector<outbound_message> dead_outbound(std::size_t limit) override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT " + outbox_columns +
                              " FROM outbox WHERE status = 'dead' ORDER BY id DESC LIMIT ?");
            st.bind(1, static_cast<int64_t>(limit));
            std::vector<outbound_message> out;
            while (st.executeStep()) out.push_back(read_outbound(st));
            return out;
        });
    }

    bool retry_outbound(long long id, long long now, const audit_entry& audit) override {
        return write(__func__, [&](unit_tx& tx) {
            auto& st = cached(
                "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at_ms = ?2, "
                "updated_at = ?3 WHERE id = ?1 AND status = 'dead'");
            st.bind(1, static_cast<int64_t>(id));
            st.bind(2, static_cast<int64_t>(now * 1000));
            st.bind(3, static_cast<int64_t>(now));
            if (st.exec() == 0) return false;
            insert_audit(audit);
            tx.commit();
            return true;
        });
    }

    std::set<std::string> paused_partners() override {
        return read(__func__, [&](connection& c) {
            auto& st = c.cached("SELECT partner FROM partner_state WHERE paused = 1");
            std::set<std::string> out;
            while (st.executeStep()) out.insert(st.getColumn(0).getString());
            return out;
        });
    }

    void set_partner_paused(const std::string& partner, bool paused,
                            const audit_entry& audit) override {
        write(__func__, [&](unit_tx& tx) {
            auto& st = cached(
                "INSERT INTO partner_state (partner, paused, updated_at) VALUES (?1, ?2, ?3) ON "
                "CONFLICT (partner) DO UPDATE SET paused = excluded.paused, updated_at = "
                "excluded.updated_at");
            st.bind(1, partner);
            st.bind(2, paused ? 1 : 0);
            st.bind(3, static_cast<int64_t>(audit.at));
            st.exec();
            insert_audit(audit);
            tx.commit();
        });
    }

    std::vector<stat_row> statistics() override {
        return read(__func__, [&](connection& c) {
            std::vector<stat_row> out;
            auto& st = c.cached(
                "SELECT 'sessions', strftime('%Y-%m', started_at, 'unixepoch'), '', '', '', "
                "channel, '', status, count(*), 0 FROM sessions GROUP BY 2, 6, 8 "
                "UNION ALL SELECT 'cases', strftime('%Y-%m', created_at, 'unixepoch'), oblast, "
                "topic, language, channel, '', '', count(*), 0 FROM cases GROUP BY 2, 3, 4, 5, 6 "
                "UNION ALL SELECT 'referrals', strftime('%Y-%m', r.created_at, 'unixepoch'), "
                "c.oblast, c.topic, c.language, '', r.partner, r.status, count(*), 0 FROM "
                "referrals r JOIN cases c ON c.id = r.case_id GROUP BY 2, 3, 4, 5, 7, 8 "
                "UNION ALL SELECT 'partner_response', strftime('%Y-%m', r.created_at, "
                "'unixepoch'), '', '', '', '', r.partner, '', count(*), avg((f.first_at - "
                "r.created_at) / 3600.0) FROM referrals r JOIN (SELECT referral_id, min(at) AS "
                "first_at FROM referral_events WHERE action IN ('accepted', 'declined') GROUP BY "
                "referral_id) f ON f.referral_id = r.id WHERE r.partner <> '' GROUP BY 2, 7 "
                "ORDER BY 1, 2, 3, 4, 5, 6, 7, 8");
            while (st.executeStep()) {
                stat_row r;
                r.metric = st.getColumn(0).getString();
                r.month = st.getColumn(1).getString();
                r.oblast = st.getColumn(2).getString();
                r.topic = st.getColumn(3).getString();
                r.language = st.getColumn(4).getString();
                r.channel = st.getColumn(5).getString();
                r.partner = st.getColumn(6).getString();
                r.status = st.getColumn(7).getString();
                r.count = st.getColumn(8).getInt64();
                r.average_hours = st.getColumn(9).getDouble();
                out.push_back(std::move(r));
            }
            return out;
        });
    }

    retention_report purge_personal_data(long long before, long long now) override {
        retention_report report = unit(work::write, __func__, [&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            retention_report r;
            auto run = [&](const char* sql, long long value) {
                auto& st = cached(sql);
                st.bind(1, static_cast<int64_t>(value));
                if (std::string_view(sql).find("?2") != std::string_view::npos)
                    st.bind(2, static_cast<int64_t>(now));
                return static_cast<std::size_t>(st.exec());
            };
            r.sessions =
                run("UPDATE sessions SET state = '', phone = '', phone_sealed = NULL, id_sealed = "
                    "NULL, "
                    "status = CASE WHEN status = 'active' THEN 'abandoned' ELSE status END WHERE "
                    "updated_at < ?1 AND (phone <> '' OR state <> '')",
                    before);
            // A case is done when the hotline closed it, or when it never
            // needed the hotline and no referral of it is still open.
            const char* done_cases =
                "SELECT id FROM cases WHERE purged_at = 0 AND ((status = 'closed' AND closed_at < "
                "?1) OR (needs_hotline = 0 AND status <> 'claimed' AND created_at < ?1 AND NOT "
                "EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND (r.status IN "
                "('new', 'accepted', 'in_progress', 'escalated') OR r.updated_at >= ?1))))";
            run((std::string("DELETE FROM case_notes WHERE case_id IN (") + done_cases + ")")
                    .c_str(),
                before);
            run((std::string("UPDATE referrals SET reason = '', outcome = '' WHERE case_id IN (") +
                 done_cases + ")")
                    .c_str(),
                before);
            run((std::string("UPDATE referral_events SET detail = '' WHERE detail <> '' AND "
                             "referral_id IN (SELECT id FROM referrals WHERE case_id IN (") +
                 done_cases + "))")
                    .c_str(),
                before);
            r.cases =
                run((std::string(
                         "UPDATE cases SET phone = '', phone_sealed = NULL, details "
                         "= '', outcome = NULL, transcript = NULL, purged_at = ?2 WHERE id IN (") +
                     done_cases + ")")
                        .c_str(),
                    before);
            r.inbound =
                run("UPDATE inbound_messages SET phone = '', reply = '' WHERE received_at < ?1 AND "
                    "(phone <> '' OR reply <> '')",
                    before);
            r.outbox =
                run("UPDATE outbox SET recipient = '', recipient_sealed = NULL, body = '' WHERE "
                    "created_at < ?1 AND status IN ('sent', 'delivered', 'failed', 'dead') AND "
                    "(body <> '' OR recipient <> '')",
                    before);
            r.operator_sessions = run("DELETE FROM operator_sessions WHERE expires_at < ?1", now);
            tx.commit();
            return r;
        });
        // Old page images in the WAL still hold what was just blanked:
        // copy the WAL into the (securely overwritten) database and empty
        // it (unit() left no statement of ours on a row).
        std::lock_guard lock(mutex_);
        int log_frames = 0, copied = 0;
        if (sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                      &log_frames, &copied) != SQLITE_OK)
            report.wal_truncated = false;  // a reader elsewhere; the next run tries again
        return report;
    }

  private:
    enum class work { read, write };

    // Resets every statement of a connection that is still on a row. A
    // statement left on a row holds a read transaction open: no checkpoint
    // can then pass it (the WAL grows without bound) and, once another
    // process has written, every write of this connection fails with
    // "database is locked" (SQLITE_BUSY_SNAPSHOT) until it is reset.
    static void reset_busy_statements(SQLite::Database& db) {
        sqlite3* h = db.getHandle();
        for (sqlite3_stmt* st = sqlite3_next_stmt(h, nullptr); st; st = sqlite3_next_stmt(h, st))
            if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
    }

    // On every way out of a unit of work: no statement left on a row, no
    // transaction left open.
    struct statement_sweep {
        SQLite::Database& db;
        ~statement_sweep() {
            reset_busy_statements(db);
            sqlite3* h = db.getHandle();
            if (!sqlite3_get_autocommit(h)) sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    };

    // A connection with the statements prepared on it, each kept by its SQL.
    struct connection {
        SQLite::Database& db;
        std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements;

        // A prepared statement kept for reuse, reset and ready to bind.
        SQLite::Statement& cached(const std::string& sql) {
            auto it = statements.find(sql);
            if (it == statements.end())
                it = statements.emplace(sql, std::make_unique<SQLite::Statement>(db, sql)).first;
            reset(*it->second);
            return *it->second;
        }
    };

    // A write's view of its transaction: what it does stays only if it
    // calls commit() (its own savepoint inside the group's transaction).
    struct unit_tx {
        bool committed = false;
        void commit() { committed = true; }
    };

    // One unit of work on the writer's connection, outside the group
    // commit (the hourly purge, reads of a database without a file):
    // under the lock, SQLite errors mapped to store_error, nothing left
    // open afterwards, and storage health reported here, where reads and
    // writes are known apart: any SQLite failure raises the alarm; only a
    // write that went through clears it (a read proves nothing about writes).
    template <class F>
    auto unit(work kind, const char* method, F&& f) -> decltype(f()) {
        std::lock_guard lock(mutex_);
        statement_sweep sweep{db_};
        try {
            if constexpr (std::is_void_v<decltype(f())>) {
                f();
                if (kind == work::write && health_) health_->write_succeeded();
            } else {
                auto result = f();
                if (kind == work::write && health_) health_->write_succeeded();
                return result;
            }
        } catch (const SQLite::Exception& e) {
            if (health_) health_->failed(method, e.what());
            throw store_error(e.what());
        }
    }

    // --- Readers: connections of their own (WAL lets them read while the
    // writer writes), never the writer's; up to max_readers, opened when needed.

    static constexpr std::size_t max_readers = 8;

    struct reader_lease {
        sqlite_store& store;
        connection* c;
        ~reader_lease() { store.return_reader(c); }
    };

    connection* borrow_reader() {
        std::unique_lock lock(readers_mutex_);
        readers_free_.wait(lock, [&] { return !idle_readers_.empty() || readers_.size() < max_readers; });
        if (!idle_readers_.empty()) {
            connection* c = idle_readers_.back();
            idle_readers_.pop_back();
            return c;
        }
        auto db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
        db->setBusyTimeout(static_cast<int>(busy_timeout_.count()));
        db->exec("PRAGMA query_only = ON");  // a reader never writes, even by mistake
        auto c = std::make_unique<connection>(connection{*db, {}});
        connection* out = c.get();
        readers_.push_back({std::move(db), std::move(c)});
        return out;
    }

    void return_reader(connection* c) {
        {
            std::lock_guard lock(readers_mutex_);
            idle_readers_.push_back(c);
        }
        readers_free_.notify_one();
    }

    template <class F>
    auto read(const char* method, F&& f) -> decltype(f(std::declval<connection&>())) {
        if (!separate_readers_) return unit(work::read, method, [&] { return f(writer_); });
        try {
            reader_lease lease{*this, borrow_reader()};
            statement_sweep sweep{lease.c->db};
            return f(*lease.c);
        } catch (const SQLite::Exception& e) {
            if (health_) health_->failed(method, e.what());
            throw store_error(e.what());
        }
    }

    // --- The writer: one thread owns the write connection. Each write is
    // queued and its caller waits; the writer takes everything queued
    // while it was committing and commits it in one BEGIN IMMEDIATE
    // transaction, each write in a savepoint of its own (one that fails
    // or does not commit leaves the others alone), then wakes the callers.
    // The durable writes of a batch (cases) are committed after the
    // others, in a transaction of their own with synchronous=FULL: one
    // fsync for every case in it.

    struct write_job {
        write_job(const char* m, bool d, std::function<void(unit_tx&)> r)
            : method(m), durable(d), run(std::move(r)) {}
        const char* method;
        bool durable;
        std::function<void(unit_tx&)> run;
        std::exception_ptr error;
        // Set by the writer once the job's batch is committed: only its own
        // caller wakes, not every thread waiting on the writer.
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;

        void finish() {
            // Notified under the lock: the caller cannot return (and free
            // the job) before the writer has let go of it.
            std::lock_guard lock(mutex);
            done = true;
            cv.notify_one();
        }
        void wait() {
            std::unique_lock lock(mutex);
            cv.wait(lock, [&] { return done; });
        }
    };

    // One unit of work under the writer; `f` commits what it wants kept
    // (leaving without commit undoes it). Returns once committed.
    template <class F>
    auto write(const char* method, F&& f, bool durable = false)
        -> decltype(f(std::declval<unit_tx&>())) {
        using result_type = decltype(f(std::declval<unit_tx&>()));
        if (std::this_thread::get_id() == writer_id_)
            throw store_error("a write inside a write would wait for itself");
        if constexpr (std::is_void_v<result_type>) {
            write_job job{method, durable, [&](unit_tx& tx) { f(tx); }};
            submit(job);
        } else {
            std::optional<result_type> result;
            write_job job{method, durable, [&](unit_tx& tx) { result.emplace(f(tx)); }};
            submit(job);
            return std::move(*result);
        }
    }

    void submit(write_job& job) {
        bool first;
        {
            std::lock_guard lock(queue_mutex_);
            first = queue_.empty();
            queue_.push_back(&job);
        }
        if (first) queue_ready_.notify_one();  // later ones find the writer awake
        job.wait();
        if (job.error) std::rethrow_exception(job.error);
    }

    void writer_loop() {
        std::vector<write_job*> batch, durable;
        for (;;) {
            {
                std::unique_lock lock(queue_mutex_);
                queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping, and nothing left to write
                batch.swap(queue_);
            }
            // Writes that need no fsync (session states, statuses) are
            // committed and answered first; the cases of the batch then
            // share one fsync. A session's hop never waits for someone
            // else's case to reach the disk. (Writes of one batch come
            // from different callers, each waiting for its own: their
            // order among themselves is free.)
            auto first_durable = std::stable_partition(
                batch.begin(), batch.end(), [](const write_job* j) { return !j->durable; });
            durable.assign(first_durable, batch.end());
            batch.erase(first_durable, batch.end());
            for (auto* part : {&batch, &durable}) {
                if (part->empty()) continue;
                commit_batch(*part);
                for (write_job* j : *part) j->finish();
            }
            batch.clear();
            durable.clear();
        }
    }

    void commit_batch(std::vector<write_job*>& batch) {
        std::lock_guard lock(mutex_);
        statement_sweep sweep{db_};
        // Transaction control prepared once, not parsed for every write.
        auto run = [&](const char* sql) { writer_.cached(sql).exec(); };
        auto fail_all = [&](const char* method, const char* what) {
            if (health_) health_->failed(method, what);
            for (write_job* j : batch)
                if (!j->error) j->error = std::make_exception_ptr(store_error(what));
        };
        const bool durable =
            std::any_of(batch.begin(), batch.end(), [](const write_job* j) { return j->durable; });
        try {
            if (durable != synchronous_full_) {
                db_.exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                synchronous_full_ = durable;
            }
            run("BEGIN IMMEDIATE");
        } catch (const SQLite::Exception& e) {
            fail_all(batch.front()->method, e.what());
            return;
        }
        for (write_job* j : batch) {
            bool undo = true;
            try {
                run("SAVEPOINT unit");
                unit_tx tx;
                j->run(tx);
                undo = !tx.committed;
            } catch (const SQLite::Exception& e) {
                if (health_) health_->failed(j->method, e.what());
                j->error = std::make_exception_ptr(store_error(e.what()));
            } catch (...) {
                j->error = std::current_exception();
            }
            try {
                reset_busy_statements(db_);
                if (undo) run("ROLLBACK TO unit");
                run("RELEASE unit");
            } catch (const SQLite::Exception& e) {
                // The transaction itself is lost (SQLite rolled it back on a
                // full disk or an I/O error): nothing of the batch is kept.
                fail_all(j->method, e.what());
                return;
            }
        }
        try {
            run("COMMIT");
        } catch (const SQLite::Exception& e) {
            fail_all("commit", e.what());
            return;
        }
        ++stats_.commits;
        if (durable) ++stats_.durable_commits;
        stats_.writes += batch.size();
        if (health_) health_->write_succeeded();
    }

    // A prepared statement of the writer's connection, reset and ready to bind.
    SQLite::Statement& cached(const std::string& sql) { return writer_.cached(sql); }

    // The hotline closed the case: referrals still open end with it (they
    // would go on counting against the partner's capacity), each with an
    // event in its own trail.
    void close_open_referrals(long long case_id, const audit_entry& audit) {
        auto& open = cached(
            "SELECT id FROM referrals WHERE case_id = ? AND status IN ('new', 'accepted', "
            "'in_progress', 'overdue', 'escalated')");
        open.bind(1, static_cast<int64_t>(case_id));
        std::vector<long long> ids;
        while (open.executeStep()) ids.push_back(open.getColumn(0).getInt64());
        open.reset();
        for (long long id : ids) {
            auto& upd = cached("UPDATE referrals SET status = 'closed', updated_at = ?2 WHERE id = ?1");
            upd.bind(1, static_cast<int64_t>(id));
            upd.bind(2, static_cast<int64_t>(audit.at));
            upd.exec();
            insert_event({id, audit.actor, "closed", "the hotline closed the case", audit.at});
        }
    }

    void insert_event(const referral_event& e) {
        auto& st = cached(
            "INSERT INTO referral_events (referral_id, actor, action, detail, at) VALUES (?, ?, "
            "?, ?, ?)");
        st.bind(1, static_cast<int64_t>(e.referral_id));
        st.bind(2, e.actor);
        st.bind(3, e.action);
        bind_sealed(st, 4, e.detail);
        st.bind(5, static_cast<int64_t>(e.at));
        st.exec();
    }

    void insert_audit(const audit_entry& e) {
        auto& st = cached(
            "INSERT INTO audit_log (at, actor, action, case_id, detail) VALUES (?, ?, ?, ?, ?)");
        st.bind(1, static_cast<int64_t>(e.at));
        st.bind(2, e.actor);
        st.bind(3, e.action);
        if (e.case_id)
            st.bind(4, static_cast<int64_t>(e.case_id));
        else
            st.bind(4);
        st.bind(5, e.detail);
        st.exec();
    }

    static operator_account read_operator(SQLite::Statement& st) {
        operator_account a;
        a.id = st.getColumn(0).getInt64();
        a.username = st.getColumn(1).getString();
        a.display_name = st.getColumn(2).getString();
        a.role = st.getColumn(3).getString();
        a.password_hash = st.getColumn(4).getString();
        a.active = st.getColumn(5).getInt() != 0;
        a.created_at = st.getColumn(6).getInt64();
        return a;
    }

    referral_record read_referral(SQLite::Statement& st) {
        referral_record r;
        r.id = st.getColumn(0).getInt64();
        r.case_id = st.getColumn(1).getInt64();
        r.case_reference = st.getColumn(2).getString();
        r.partner = st.getColumn(3).getString();
        r.status = st.getColumn(4).getString();
        r.rule = st.getColumn(5).getString();
        r.explanation = st.getColumn(6).getString();
        r.reason = unseal(st.getColumn(7));
        r.outcome = unseal(st.getColumn(8));
        r.due_at = st.getColumn(9).getInt64();
        r.created_at = st.getColumn(10).getInt64();
        r.updated_at = st.getColumn(11).getInt64();
        return r;
    }

    // Inside a transaction: returns the new id, or 0 for a "do not SMS" number.
    long long insert_outbound(const outbound_message& m) {
        reset(put_outbox_);
        put_outbox_.bind(1, m.channel);
        put_outbox_.bind(2, sealer_.lookup_hash(m.recipient));
        put_outbox_.bind(3, m.body);
        put_outbox_.bind(4, m.purpose);
        put_outbox_.bind(5, static_cast<int64_t>(m.next_attempt_at_ms));
        put_outbox_.bind(6, static_cast<int64_t>(m.created_at));
        bind_sealed(put_outbox_, 7, m.recipient);
        if (put_outbox_.exec() == 0) return 0;
        return db_.getLastInsertRowid();
    }

    void write_session(const session_record& s) {
        reset(put_session_);
        put_session_.bind(1, sealer_.lookup_hash(s.id));
        put_session_.bind(2, sealer_.lookup_hash(s.phone));
        put_session_.bind(3, s.channel);
        bind_sealed(put_session_, 4, s.state);
        put_session_.bind(5, s.status);
        put_session_.bind(6, static_cast<int64_t>(s.started_at));
        put_session_.bind(7, static_cast<int64_t>(s.updated_at));
        bind_sealed(put_session_, 8, s.id);
        bind_sealed(put_session_, 9, s.phone);
        put_session_.exec();
        if (!s.remember_language.empty()) {
            reset(put_language_);
            put_language_.bind(1, sealer_.lookup_hash(s.phone));
            put_language_.bind(2, s.remember_language);
            put_language_.exec();
        }
    }

    outbound_message read_outbound(SQLite::Statement& st) {
        outbound_message m;
        m.id = st.getColumn(0).getInt64();
        m.channel = st.getColumn(1).getString();
        m.recipient = unseal(st.getColumn(2));
        m.body = st.getColumn(3).getString();
        m.purpose = st.getColumn(4).getString();
        m.status = st.getColumn(5).getString();
        m.attempts = st.getColumn(6).getInt();
        m.next_attempt_at_ms = st.getColumn(7).getInt64();
        m.provider_id = st.getColumn(8).getString();
        m.last_error = st.getColumn(9).getString();
        m.created_at = st.getColumn(10).getInt64();
        return m;
    }

    static SQLite::Database open(const std::string& path, const data_sealer& sealer,
                                 const sqlite_options& options) {
        try {
            prepare_private_files(path);
            SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            db.setBusyTimeout(static_cast<int>(options.busy_timeout.count()));
            db.exec("PRAGMA journal_mode = WAL");
            db.exec("PRAGMA synchronous = NORMAL");
            db.exec("PRAGMA foreign_keys = ON");
            // Purged and overwritten personal data is zeroed, not left in free pages.
            db.exec("PRAGMA secure_delete = ON");
            // The log is reset after each full checkpoint; beyond this it is truncated.
            db.exec("PRAGMA journal_size_limit = " + std::to_string(options.wal_limit_bytes));
            migrate(db, sealer);
            return db;
        } catch (const std::exception& e) {
            throw store_error(std::string("cannot open database: ") + e.what());
        }
    }

    // Her data stays with the gateway's own user: a folder made here is
    // 0700; the database is created 0600 (SQLite gives -wal and -shm the
    // database's mode), and files an older version left readable by all
    // are narrowed.
    static void prepare_private_files(const std::string& path) {
        namespace fs = std::filesystem;
        // SQLite's own names for a database without a file.
        if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return;
        auto parent = fs::path(path).parent_path();
        if (!parent.empty() && !fs::exists(parent)) {
            fs::create_directories(parent);
            fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace);
        }
        if (!fs::exists(path)) {
            int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            if (fd < 0) throw store_error("cannot create " + path + ": " + std::strerror(errno));
            ::close(fd);
        }
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            std::error_code ec;
            if (fs::exists(path + suffix, ec))
                fs::permissions(path + suffix, fs::perms::owner_read | fs::perms::owner_write,
                                fs::perm_options::replace, ec);
        }
    }

    static void migrate(SQLite::Database& db, const data_sealer& sealer) {
        int version = db.execAndGet("PRAGMA user_version").getInt();
        const auto& all = migrations();
        if (version > static_cast<int>(all.size()))
            throw store_error("database schema is newer than this gateway");
        bool sealed_legacy = false;
        for (int v = version; v < static_cast<int>(all.size()); ++v) {
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            db.exec(all[v]);
            if (v + 1 == sealing_version) sealed_legacy = seal_legacy_rows(db, sealer);
            if (v + 1 == referral_sealing_version) {
                sealed_legacy = seal_referral_text(db, sealer) || sealed_legacy;
                db.exec(redact_only_trigger);
            }
            db.exec("PRAGMA user_version = " + std::to_string(v + 1));
            tx.commit();
        }
        check_key(db, sealer);
        if (sealed_legacy) {
            // The clear-text pages must not linger in the WAL or free list.
            db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
            db.exec("VACUUM");
        }
    }

    // The version whose migration starts sealing numbers.
    static constexpr int sealing_version = 4;
    // The version whose migration seals partners' and operators' free text.
    static constexpr int referral_sealing_version = 7;
    static constexpr const char* redact_only_trigger = R"sql(
        CREATE TRIGGER referral_events_redact_only BEFORE UPDATE ON referral_events
        WHEN NEW.referral_id IS NOT OLD.referral_id OR NEW.actor IS NOT OLD.actor OR
             NEW.action IS NOT OLD.action OR NEW.at IS NOT OLD.at OR NEW.detail <> ''
        BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
        )sql";

    // A sealed value for a migration ("" stays "": nothing to hide).
    static void bind_sealed_with(const data_sealer& sealer, SQLite::Statement& st, int index,
                                 const std::string& plain) {
        std::string b = sealer.seal(plain);
        if (b.empty())
            st.bind(index, std::string());
        else
            st.bind(index, b.data(), static_cast<int>(b.size()));
    }

    // Reasons, notes and event details written before version 7 are in
    // clear: seal them in the migration's transaction.
    static bool seal_referral_text(SQLite::Database& db, const data_sealer& sealer) {
        auto blob = [&](SQLite::Statement& st, int index, const std::string& plain) {
            bind_sealed_with(sealer, st, index, plain);
        };
        std::size_t n = 0;
        {
            std::vector<std::tuple<int64_t, std::string, std::string>> rows;
            SQLite::Statement all(db, "SELECT id, reason, outcome FROM referrals WHERE reason <> '' OR outcome <> ''");
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getInt64(), all.getColumn(1).getString(),
                                  all.getColumn(2).getString());
            SQLite::Statement upd(db, "UPDATE referrals SET reason = ?2, outcome = ?3 WHERE id = ?1");
            for (const auto& [id, reason, outcome] : rows) {
                upd.reset();
                upd.bind(1, id);
                blob(upd, 2, reason);
                blob(upd, 3, outcome);
                n += upd.exec();
            }
        }
        {
            std::vector<std::pair<int64_t, std::string>> rows;
            SQLite::Statement all(db, "SELECT id, detail FROM referral_events WHERE detail <> ''");
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getInt64(), all.getColumn(1).getString());
            SQLite::Statement upd(db, "UPDATE referral_events SET detail = ?2 WHERE id = ?1");
            for (const auto& [id, detail] : rows) {
                upd.reset();
                upd.bind(1, id);
                blob(upd, 2, detail);
                n += upd.exec();
            }
        }
        return n > 0;
    }

    // A database is bound to the key that sealed it: another key would
    // make every number unreadable, so refuse to start instead.
    static void check_key(SQLite::Database& db, const data_sealer& sealer) {
        SQLite::Statement get(db, "SELECT value FROM meta WHERE key = 'data_key_id'");
        if (get.executeStep()) {
            if (get.getColumn(0).getString() != sealer.key_id())
                throw store_error(
                    "the data key does not match the one this database was "
                    "sealed with");
            return;
        }
        SQLite::Statement put(db, "INSERT INTO meta (key, value) VALUES ('data_key_id', ?)");
        put.bind(1, sealer.key_id());
        put.exec();
    }

    // Rows written before version 4 hold numbers in clear: seal them in
    // the migration's transaction. Returns whether anything was rewritten.
    static bool seal_legacy_rows(SQLite::Database& db, const data_sealer& sealer) {
        auto blob = [&](SQLite::Statement& st, int index, const std::string& plain) {
            bind_sealed_with(sealer, st, index, plain);
        };
        std::size_t n = 0;
        {
            std::vector<std::string> phones;
            SQLite::Statement all(db, "SELECT phone FROM subscribers");
            while (all.executeStep()) phones.push_back(all.getColumn(0).getString());
            SQLite::Statement upd(db, "UPDATE subscribers SET phone = ?2 WHERE phone = ?1");
            for (const auto& p : phones) {
                upd.reset();
                upd.bind(1, p);
                upd.bind(2, sealer.lookup_hash(p));
                n += upd.exec();
            }
        }
        {
            SQLite::Statement all(db, "SELECT rowid, id, phone, state FROM sessions");
            SQLite::Statement upd(db,
                                  "UPDATE sessions SET id = ?2, phone = ?3, state = ?4, "
                                  "id_sealed = ?5, phone_sealed = ?6 WHERE rowid = ?1");
            std::vector<std::tuple<int64_t, std::string, std::string, std::string>> rows;
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getInt64(), all.getColumn(1).getString(),
                                  all.getColumn(2).getString(), all.getColumn(3).getString());
            for (const auto& [rowid, id, phone, state] : rows) {
                upd.reset();
                upd.bind(1, rowid);
                upd.bind(2, sealer.lookup_hash(id));
                upd.bind(3, sealer.lookup_hash(phone));
                blob(upd, 4, state);
                blob(upd, 5, id);
                blob(upd, 6, phone);
                n += upd.exec();
            }
        }
        {
            SQLite::Statement all(db, "SELECT id, phone, details FROM cases");
            SQLite::Statement upd(db,
                                  "UPDATE cases SET phone = ?2, phone_sealed = ?3, details = ?4 "
                                  "WHERE id = ?1");
            std::vector<std::tuple<int64_t, std::string, std::string>> rows;
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getInt64(), all.getColumn(1).getString(),
                                  all.getColumn(2).getString());
            for (const auto& [id, phone, details] : rows) {
                upd.reset();
                upd.bind(1, id);
                upd.bind(2, sealer.lookup_hash(phone));
                blob(upd, 3, phone);
                blob(upd, 4, details);
                n += upd.exec();
            }
        }
        {
            SQLite::Statement all(db, "SELECT aggregator, message_id, phone FROM inbound_messages");
            SQLite::Statement upd(db,
                                  "UPDATE inbound_messages SET phone = ?3 WHERE aggregator = ?1 "
                                  "AND message_id = ?2");
            std::vector<std::tuple<std::string, std::string, std::string>> rows;
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getString(), all.getColumn(1).getString(),
                                  all.getColumn(2).getString());
            for (const auto& [agg, id, phone] : rows) {
                upd.reset();
                upd.bind(1, agg);
                upd.bind(2, id);
                blob(upd, 3, phone);
                n += upd.exec();
            }
        }
        {
            SQLite::Statement all(db, "SELECT id, recipient FROM outbox");
            SQLite::Statement upd(db,
                                  "UPDATE outbox SET recipient = ?2, recipient_sealed = ?3 WHERE "
                                  "id = ?1");
            std::vector<std::pair<int64_t, std::string>> rows;
            while (all.executeStep())
                rows.emplace_back(all.getColumn(0).getInt64(), all.getColumn(1).getString());
            for (const auto& [id, recipient] : rows) {
                upd.reset();
                upd.bind(1, id);
                upd.bind(2, sealer.lookup_hash(recipient));
                blob(upd, 3, recipient);
                n += upd.exec();
            }
        }
        return n > 0;
    }

    static void reset(SQLite::Statement& st) {
        st.reset();
        st.clearBindings();
    }

    std::string new_reference() {
        std::uniform_int_distribution<int> digits(0, 9999999);
        char buf[16];
        std::snprintf(buf, sizeof buf, "R-%07d", digits(random_));
        return buf;
    }

    session_record read_session(SQLite::Statement& st) {
        session_record s;
        s.id = unseal(st.getColumn(0));
        s.phone = unseal(st.getColumn(1));
        s.channel = st.getColumn(2).getString();
        s.state = unseal(st.getColumn(3));
        s.status = st.getColumn(4).getString();
        s.started_at = st.getColumn(5).getInt64();
        s.updated_at = st.getColumn(6).getInt64();
        return s;
    }

    case_record read_case(SQLite::Statement& st) {
        case_record c;
        c.id = st.getColumn(0).getInt64();
        c.reference = st.getColumn(1).getString();
        c.origin_key = st.getColumn(2).getString();
        c.phone = unseal(st.getColumn(3));
        c.channel = st.getColumn(4).getString();
        c.language = st.getColumn(5).getString();
        c.topic = st.getColumn(6).getString();
        c.subtopic = st.getColumn(7).getString();
        c.oblast = st.getColumn(8).getString();
        c.target_group = st.getColumn(9).getString();
        c.details = unseal(st.getColumn(10));
        c.consent = st.getColumn(11).getInt() != 0;
        c.urgent = st.getColumn(12).getInt() != 0;
        if (!st.isColumnNull(13)) c.safe_to_call = st.getColumn(13).getInt() != 0;
        c.status = st.getColumn(14).getString();
        c.created_at = st.getColumn(15).getInt64();
        c.notify_sms = st.getColumn(16).getInt() != 0;
        c.session_id = st.getColumn(17).getString();
        c.assigned_to = st.getColumn(18).getString();
        c.outcome = unseal(st.getColumn(19));
        c.closed_at = st.getColumn(20).getInt64();
        c.sms_channel = st.getColumn(21).getString();
        c.transcript = unseal(st.getColumn(22));
        c.contact = st.getColumn(23).getString();
        c.call_time = st.getColumn(24).getString();
        return c;
    }

    // Sealed column values: NULL and "" both mean nothing stored (or purged).
    void bind_sealed(SQLite::Statement& st, int index, const std::string& plain) {
        if (plain.empty()) {
            st.bind(index, std::string());
            return;
        }
        std::string blob = sealer_.seal(plain);
        st.bind(index, blob.data(), static_cast<int>(blob.size()));
    }

    std::string unseal(const SQLite::Column& col) const {
        if (col.isNull()) return {};
        auto opened = sealer_.open(col.getString());
        if (!opened)
            throw store_error("sealed data cannot be opened: wrong data key or damaged row");
        return std::move(*opened);
    }

    data_sealer sealer_;
    storage_health* health_;
    std::mutex mutex_;
    SQLite::Database db_;
    SQLite::Statement put_language_, put_session_, set_status_, abandon_, insert_case_, case_by_origin_, put_no_sms_, put_inbound_, put_outbox_, due_outbox_,
        set_outbox_sending_, set_outbox_sent_, set_outbox_retry_, set_outbox_dead_, requeue_,
        outbox_by_provider_, put_report_, set_outbox_report_;
    std::mt19937_64 random_;  // reference codes: used by the writer only

    const std::string path_;
    const std::chrono::milliseconds busy_timeout_;
    const bool separate_readers_;  // false for a database without a file
    connection writer_{db_, {}};

    std::mutex readers_mutex_;
    std::condition_variable readers_free_;
    struct reader_slot {
        std::unique_ptr<SQLite::Database> db;
        std::unique_ptr<connection> c;  // destroyed before its database
    };
    std::vector<reader_slot> readers_;
    std::vector<connection*> idle_readers_;

    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;
    std::vector<write_job*> queue_;
    bool stopping_ = false;
    bool synchronous_full_ = false;  // the writer's current setting (opened NORMAL)
    struct {
        std::atomic<long long> commits{0}, durable_commits{0}, writes{0};
    } stats_;
    std::thread writer_thread_;
    std::thread::id writer_id_;
};

}  // namespace

std::unique_ptr<store> open_sqlite_store(const std::string& path, const data_sealer& sealer,
                                         const sqlite_options& options) {
    return std::make_unique<sqlite_store>(path, sealer, options);
}

int sqlite_schema_version() {
    return static_cast<int>(migrations().size());
}

void create_legacy_sqlite_store(const std::string& path, int version) {
    if (version < 1 || version >= 4)
        throw store_error("a legacy database has schema version 1 to 3");
    try {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode = WAL");
        for (int v = db.execAndGet("PRAGMA user_version").getInt(); v < version; ++v) {
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            db.exec(migrations()[v]);
            db.exec("PRAGMA user_version = " + std::to_string(v + 1));
            tx.commit();
        }
    } catch (const SQLite::Exception& e) {
        throw store_error(e.what());
    }
}

}  // namespace gw::store

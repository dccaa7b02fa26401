// SQLite implementation of the store: one connection, WAL, writes under
// BEGIN IMMEDIATE, prepared statements kept for reuse, migrations
// versioned with PRAGMA user_version.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <vector>

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
    };
    return m;
}

class sqlite_store final : public store {
public:
    explicit sqlite_store(const std::string& path)
        : db_(open(path)),
          get_language_(db_, "SELECT language FROM subscribers WHERE phone = ?"),
          put_language_(db_,
                        "INSERT INTO subscribers (phone, language, created_at, updated_at) "
                        "VALUES (?1, ?2, strftime('%s','now'), strftime('%s','now')) "
                        "ON CONFLICT (phone) DO UPDATE SET language = excluded.language, "
                        "updated_at = excluded.updated_at"),
          put_session_(db_,
                       "INSERT INTO sessions (id, phone, channel, state, status, started_at, "
                       "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                       "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
                       "status = excluded.status, updated_at = excluded.updated_at"),
          get_session_(db_, "SELECT " + session_columns + " FROM sessions WHERE id = ?"),
          resumable_(db_, "SELECT " + session_columns +
                              " FROM sessions WHERE phone = ?1 AND status IN ('active', 'abandoned') AND "
                              "updated_at >= ?2 AND id <> ?3 ORDER BY updated_at DESC LIMIT 1"),
          set_status_(db_, "UPDATE sessions SET status = ?2 WHERE id = ?1"),
          abandon_(db_,
                   "UPDATE sessions SET status = 'abandoned' WHERE status = 'active' AND "
                   "updated_at < ?1"),
          insert_case_(db_,
                       "INSERT INTO cases (reference, origin_key, phone, channel, language, "
                       "topic, subtopic, oblast, target_group, details, consent, urgent, "
                       "safe_to_call, status, created_at, notify_sms) VALUES (?1, ?2, ?3, ?4, ?5, "
                       "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
                       "ON CONFLICT (origin_key) DO NOTHING"),
          case_by_origin_(db_, "SELECT " + case_columns + " FROM cases WHERE origin_key = ?"),
          case_by_ref_(db_, "SELECT " + case_columns + " FROM cases WHERE reference = ?"),
          count_cases_(db_, "SELECT count(*) FROM cases"),
          get_no_sms_(db_, "SELECT no_sms FROM subscribers WHERE phone = ?"),
          put_no_sms_(db_,
                      "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) "
                      "VALUES (?1, ?2, strftime('%s','now'), strftime('%s','now')) "
                      "ON CONFLICT (phone) DO UPDATE SET no_sms = excluded.no_sms, "
                      "updated_at = excluded.updated_at"),
          get_inbound_(db_,
                       "SELECT aggregator, message_id, phone, reply, received_at FROM "
                       "inbound_messages WHERE aggregator = ? AND message_id = ?"),
          put_inbound_(db_,
                       "INSERT INTO inbound_messages (aggregator, message_id, phone, reply, "
                       "received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
          put_outbox_(db_,
                      "INSERT INTO outbox (channel, recipient, body, purpose, status, attempts, "
                      "next_attempt_at_ms, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, "
                      "'queued', 0, ?5, ?6, ?6 WHERE NOT EXISTS (SELECT 1 FROM subscribers "
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
          outbox_by_id_(db_, "SELECT " + outbox_columns + " FROM outbox WHERE id = ?"),
          outbox_to_(db_, "SELECT " + outbox_columns +
                              " FROM outbox WHERE recipient = ? ORDER BY id"),
          outbox_counts_(db_, "SELECT status, count(*) FROM outbox GROUP BY status"),
          random_(std::random_device{}()) {}

    std::optional<std::string> subscriber_language(const std::string& phone) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<std::string> {
            reset(get_language_);
            get_language_.bind(1, phone);
            if (!get_language_.executeStep() || get_language_.isColumnNull(0))
                return std::nullopt;
            return get_language_.getColumn(0).getString();
        });
    }

    void set_subscriber_language(const std::string& phone, const std::string& lang) override {
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(put_language_);
            put_language_.bind(1, phone);
            put_language_.bind(2, lang);
            put_language_.exec();
            tx.commit();
        });
    }

    void save_session(const session_record& s) override {
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            write_session(s);
            tx.commit();
        });
    }

    void save_sessions(const std::vector<session_record>& sessions) override {
        if (sessions.empty()) return;
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            for (const auto& s : sessions) write_session(s);
            tx.commit();
        });
    }

    std::optional<session_record> find_session(const std::string& id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<session_record> {
            reset(get_session_);
            get_session_.bind(1, id);
            if (!get_session_.executeStep()) return std::nullopt;
            return read_session(get_session_);
        });
    }

    std::optional<session_record> find_resumable_session(const std::string& phone, long long since,
                                                         const std::string& except_id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<session_record> {
            reset(resumable_);
            resumable_.bind(1, phone);
            resumable_.bind(2, static_cast<int64_t>(since));
            resumable_.bind(3, except_id);
            if (!resumable_.executeStep()) return std::nullopt;
            return read_session(resumable_);
        });
    }

    void set_session_status(const std::string& id, const std::string& status) override {
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(set_status_);
            set_status_.bind(1, id);
            set_status_.bind(2, status);
            set_status_.exec();
            tx.commit();
        });
    }

    std::size_t abandon_idle_sessions(long long before) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(abandon_);
            abandon_.bind(1, static_cast<int64_t>(before));
            std::size_t n = abandon_.exec();
            tx.commit();
            return n;
        });
    }

    case_record create_case(const new_case& c, long long now) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            // A case is what we promise her: fsync the WAL on this commit.
            db_.exec("PRAGMA synchronous = FULL");
            struct restore {
                SQLite::Database& db;
                ~restore() {
                    try {
                        db.exec("PRAGMA synchronous = NORMAL");
                    } catch (...) {
                    }
                }
            } restore_sync{db_};

            for (int attempt = 0;; ++attempt) {
                try {
                    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
                    reset(insert_case_);
                    insert_case_.bind(1, new_reference());
                    insert_case_.bind(2, c.origin_key);
                    insert_case_.bind(3, c.phone);
                    insert_case_.bind(4, c.channel);
                    insert_case_.bind(5, c.language);
                    insert_case_.bind(6, c.topic);
                    insert_case_.bind(7, c.subtopic);
                    insert_case_.bind(8, c.oblast);
                    insert_case_.bind(9, c.target_group);
                    insert_case_.bind(10, c.details);
                    insert_case_.bind(11, c.consent ? 1 : 0);
                    insert_case_.bind(12, c.urgent ? 1 : 0);
                    if (c.safe_to_call)
                        insert_case_.bind(13, *c.safe_to_call ? 1 : 0);
                    else
                        insert_case_.bind(13);
                    insert_case_.bind(14, c.urgent ? "escalated" : "new");
                    insert_case_.bind(15, static_cast<int64_t>(now));
                    insert_case_.bind(16, c.notify_sms ? 1 : 0);
                    insert_case_.exec();
                    reset(case_by_origin_);
                    case_by_origin_.bind(1, c.origin_key);
                    if (!case_by_origin_.executeStep())
                        throw store_error("case vanished inside its transaction");
                    case_record out = read_case(case_by_origin_);
                    reset(case_by_origin_);
                    tx.commit();
                    return out;
                } catch (const SQLite::Exception& e) {
                    // A reference code collision: draw another one.
                    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE && attempt < 5)
                        continue;
                    throw;
                }
            }
        });
    }

    std::optional<case_record> find_case(const std::string& reference) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<case_record> {
            reset(case_by_ref_);
            case_by_ref_.bind(1, reference);
            if (!case_by_ref_.executeStep()) return std::nullopt;
            return read_case(case_by_ref_);
        });
    }

    std::size_t count_cases() override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            reset(count_cases_);
            count_cases_.executeStep();
            return static_cast<std::size_t>(count_cases_.getColumn(0).getInt64());
        });
    }

    bool no_sms(const std::string& phone) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            reset(get_no_sms_);
            get_no_sms_.bind(1, phone);
            return get_no_sms_.executeStep() && get_no_sms_.getColumn(0).getInt() != 0;
        });
    }

    void set_no_sms(const std::string& phone, bool value) override {
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(put_no_sms_);
            put_no_sms_.bind(1, phone);
            put_no_sms_.bind(2, value ? 1 : 0);
            put_no_sms_.exec();
            tx.commit();
        });
    }

    std::optional<inbound_record> find_inbound(const std::string& aggregator,
                                               const std::string& message_id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<inbound_record> {
            reset(get_inbound_);
            get_inbound_.bind(1, aggregator);
            get_inbound_.bind(2, message_id);
            if (!get_inbound_.executeStep()) return std::nullopt;
            return inbound_record{get_inbound_.getColumn(0).getString(),
                                  get_inbound_.getColumn(1).getString(),
                                  get_inbound_.getColumn(2).getString(),
                                  get_inbound_.getColumn(3).getString(),
                                  get_inbound_.getColumn(4).getInt64()};
        });
    }

    bool commit_inbound(const inbound_record& in, const session_record* session,
                        const std::vector<outbound_message>& outbox) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(put_inbound_);
            put_inbound_.bind(1, in.aggregator);
            put_inbound_.bind(2, in.message_id);
            put_inbound_.bind(3, in.phone);
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
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            long long id = insert_outbound(m);
            tx.commit();
            return id;
        });
    }

    std::vector<outbound_message> claim_due_outbound(long long now_ms,
                                                     std::size_t limit) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            std::vector<outbound_message> out;
            reset(due_outbox_);
            due_outbox_.bind(1, static_cast<int64_t>(now_ms));
            due_outbox_.bind(2, static_cast<int64_t>(limit));
            while (due_outbox_.executeStep()) out.push_back(read_outbound(due_outbox_));
            reset(due_outbox_);
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
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            reset(requeue_);
            std::size_t n = requeue_.exec();
            tx.commit();
            return n;
        });
    }

    bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                const std::string& status, const std::string& detail,
                                long long now) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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

    std::optional<outbound_message> find_outbound(long long id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<outbound_message> {
            reset(outbox_by_id_);
            outbox_by_id_.bind(1, static_cast<int64_t>(id));
            if (!outbox_by_id_.executeStep()) return std::nullopt;
            return read_outbound(outbox_by_id_);
        });
    }

    std::vector<outbound_message> outbound_to(const std::string& recipient) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            std::vector<outbound_message> out;
            reset(outbox_to_);
            outbox_to_.bind(1, recipient);
            while (outbox_to_.executeStep()) out.push_back(read_outbound(outbox_to_));
            return out;
        });
    }

    std::map<std::string, std::size_t> outbox_counts() override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            std::map<std::string, std::size_t> out;
            reset(outbox_counts_);
            while (outbox_counts_.executeStep())
                out[outbox_counts_.getColumn(0).getString()] =
                    static_cast<std::size_t>(outbox_counts_.getColumn(1).getInt64());
            return out;
        });
    }

    std::optional<case_record> find_case_by_id(long long id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<case_record> {
            auto& st = cached("SELECT " + case_columns + " FROM cases WHERE id = ?");
            st.bind(1, static_cast<int64_t>(id));
            if (!st.executeStep()) return std::nullopt;
            return read_case(st);
        });
    }

    std::vector<case_record> unrouted_cases(std::size_t limit) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached("SELECT " + case_columns +
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
        std::lock_guard lock(mutex_);
        return guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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
            insert_event({out.id, actor, "created", r.partner.empty() ? "to operators" : "to " + r.partner, r.created_at});
            for (const auto& m : outbox) insert_outbound(m);
            tx.commit();
            return out;
        });
    }

    std::optional<referral_record> find_referral(long long id) override {
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<referral_record> {
            auto& st = cached("SELECT " + referral_columns + " WHERE r.id = ?");
            st.bind(1, static_cast<int64_t>(id));
            if (!st.executeStep()) return std::nullopt;
            return read_referral(st);
        });
    }

    std::vector<referral_record> partner_referrals(const std::string& partner,
                                                   const std::string& status, std::size_t limit,
                                                   std::size_t offset) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached("SELECT " + referral_columns +
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
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached("SELECT " + referral_columns + " WHERE r.case_id = ? ORDER BY r.id");
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
        std::lock_guard lock(mutex_);
        return guarded([&]() -> std::optional<referral_record> {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
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
            upd.bind(3, reason);
            upd.bind(4, outcome);
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
        std::lock_guard lock(mutex_);
        guarded([&] {
            SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
            insert_event(e);
            tx.commit();
        });
    }

    std::vector<referral_event> referral_events(long long referral_id) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached(
                "SELECT referral_id, actor, action, detail, at FROM referral_events WHERE "
                "referral_id = ? ORDER BY id");
            st.bind(1, static_cast<int64_t>(referral_id));
            std::vector<referral_event> out;
            while (st.executeStep())
                out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                               st.getColumn(2).getString(), st.getColumn(3).getString(),
                               st.getColumn(4).getInt64()});
            return out;
        });
    }

    std::vector<referral_record> overdue_referrals(long long now) override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached("SELECT " + referral_columns +
                              " WHERE r.status = 'new' AND r.due_at > 0 AND r.due_at < ? ORDER BY "
                              "r.due_at");
            st.bind(1, static_cast<int64_t>(now));
            std::vector<referral_record> out;
            while (st.executeStep()) out.push_back(read_referral(st));
            return out;
        });
    }

    std::map<std::string, std::size_t> open_referral_counts() override {
        std::lock_guard lock(mutex_);
        return guarded([&] {
            auto& st = cached(
                "SELECT partner, count(*) FROM referrals WHERE status IN ('new', 'accepted', "
                "'in_progress') AND partner <> '' GROUP BY partner");
            std::map<std::string, std::size_t> out;
            while (st.executeStep())
                out[st.getColumn(0).getString()] =
                    static_cast<std::size_t>(st.getColumn(1).getInt64());
            return out;
        });
    }

private:
    // A prepared statement kept for reuse, reset and ready to bind.
    SQLite::Statement& cached(const std::string& sql) {
        auto it = statements_.find(sql);
        if (it == statements_.end())
            it = statements_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
        reset(*it->second);
        return *it->second;
    }

    void insert_event(const referral_event& e) {
        auto& st = cached(
            "INSERT INTO referral_events (referral_id, actor, action, detail, at) VALUES (?, ?, "
            "?, ?, ?)");
        st.bind(1, static_cast<int64_t>(e.referral_id));
        st.bind(2, e.actor);
        st.bind(3, e.action);
        st.bind(4, e.detail);
        st.bind(5, static_cast<int64_t>(e.at));
        st.exec();
    }

    static referral_record read_referral(SQLite::Statement& st) {
        referral_record r;
        r.id = st.getColumn(0).getInt64();
        r.case_id = st.getColumn(1).getInt64();
        r.case_reference = st.getColumn(2).getString();
        r.partner = st.getColumn(3).getString();
        r.status = st.getColumn(4).getString();
        r.rule = st.getColumn(5).getString();
        r.explanation = st.getColumn(6).getString();
        r.reason = st.getColumn(7).getString();
        r.outcome = st.getColumn(8).getString();
        r.due_at = st.getColumn(9).getInt64();
        r.created_at = st.getColumn(10).getInt64();
        r.updated_at = st.getColumn(11).getInt64();
        return r;
    }

    // Inside a transaction: returns the new id, or 0 for a "do not SMS" number.
    long long insert_outbound(const outbound_message& m) {
        reset(put_outbox_);
        put_outbox_.bind(1, m.channel);
        put_outbox_.bind(2, m.recipient);
        put_outbox_.bind(3, m.body);
        put_outbox_.bind(4, m.purpose);
        put_outbox_.bind(5, static_cast<int64_t>(m.next_attempt_at_ms));
        put_outbox_.bind(6, static_cast<int64_t>(m.created_at));
        if (put_outbox_.exec() == 0) return 0;
        return db_.getLastInsertRowid();
    }

    void write_session(const session_record& s) {
        reset(put_session_);
        put_session_.bind(1, s.id);
        put_session_.bind(2, s.phone);
        put_session_.bind(3, s.channel);
        put_session_.bind(4, s.state);
        put_session_.bind(5, s.status);
        put_session_.bind(6, static_cast<int64_t>(s.started_at));
        put_session_.bind(7, static_cast<int64_t>(s.updated_at));
        put_session_.exec();
    }

    static outbound_message read_outbound(SQLite::Statement& st) {
        outbound_message m;
        m.id = st.getColumn(0).getInt64();
        m.channel = st.getColumn(1).getString();
        m.recipient = st.getColumn(2).getString();
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

    static inline const std::string session_columns =
        "id, phone, channel, state, status, started_at, updated_at";
    static inline const std::string outbox_columns =
        "id, channel, recipient, body, purpose, status, attempts, next_attempt_at_ms, "
        "provider_id, last_error, created_at";
    static inline const std::string case_columns =
        "id, reference, origin_key, phone, channel, language, topic, subtopic, oblast, "
        "target_group, details, consent, urgent, safe_to_call, status, created_at, notify_sms";
    static inline const std::string referral_columns =
        "r.id, r.case_id, c.reference, r.partner, r.status, r.rule, r.explanation, r.reason, "
        "r.outcome, r.due_at, r.created_at, r.updated_at FROM referrals r JOIN cases c ON "
        "c.id = r.case_id";

    static SQLite::Database open(const std::string& path) {
        try {
            auto parent = std::filesystem::path(path).parent_path();
            if (!parent.empty()) std::filesystem::create_directories(parent);
            SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            db.setBusyTimeout(5000);
            db.exec("PRAGMA journal_mode = WAL");
            db.exec("PRAGMA synchronous = NORMAL");
            db.exec("PRAGMA foreign_keys = ON");
            migrate(db);
            return db;
        } catch (const std::exception& e) {
            throw store_error(std::string("cannot open database: ") + e.what());
        }
    }

    static void migrate(SQLite::Database& db) {
        int version = db.execAndGet("PRAGMA user_version").getInt();
        const auto& all = migrations();
        if (version > static_cast<int>(all.size()))
            throw store_error("database schema is newer than this gateway");
        for (int v = version; v < static_cast<int>(all.size()); ++v) {
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            db.exec(all[v]);
            db.exec("PRAGMA user_version = " + std::to_string(v + 1));
            tx.commit();
        }
    }

    static void reset(SQLite::Statement& st) {
        st.reset();
        st.clearBindings();
    }

    template <class F>
    auto guarded(F&& f) -> decltype(f()) {
        try {
            return f();
        } catch (const SQLite::Exception& e) {
            throw store_error(e.what());
        }
    }

    std::string new_reference() {
        std::uniform_int_distribution<int> digits(0, 9999999);
        char buf[16];
        std::snprintf(buf, sizeof buf, "R-%07d", digits(random_));
        return buf;
    }

    static session_record read_session(SQLite::Statement& st) {
        session_record s;
        s.id = st.getColumn(0).getString();
        s.phone = st.getColumn(1).getString();
        s.channel = st.getColumn(2).getString();
        s.state = st.getColumn(3).getString();
        s.status = st.getColumn(4).getString();
        s.started_at = st.getColumn(5).getInt64();
        s.updated_at = st.getColumn(6).getInt64();
        return s;
    }

    static case_record read_case(SQLite::Statement& st) {
        case_record c;
        c.id = st.getColumn(0).getInt64();
        c.reference = st.getColumn(1).getString();
        c.origin_key = st.getColumn(2).getString();
        c.phone = st.getColumn(3).getString();
        c.channel = st.getColumn(4).getString();
        c.language = st.getColumn(5).getString();
        c.topic = st.getColumn(6).getString();
        c.subtopic = st.getColumn(7).getString();
        c.oblast = st.getColumn(8).getString();
        c.target_group = st.getColumn(9).getString();
        c.details = st.getColumn(10).getString();
        c.consent = st.getColumn(11).getInt() != 0;
        c.urgent = st.getColumn(12).getInt() != 0;
        if (!st.isColumnNull(13)) c.safe_to_call = st.getColumn(13).getInt() != 0;
        c.status = st.getColumn(14).getString();
        c.created_at = st.getColumn(15).getInt64();
        c.notify_sms = st.getColumn(16).getInt() != 0;
        return c;
    }

    std::mutex mutex_;
    SQLite::Database db_;
    SQLite::Statement get_language_, put_language_, put_session_, get_session_, resumable_,
        set_status_, abandon_, insert_case_, case_by_origin_, case_by_ref_, count_cases_,
        get_no_sms_, put_no_sms_, get_inbound_, put_inbound_, put_outbox_, due_outbox_,
        set_outbox_sending_, set_outbox_sent_, set_outbox_retry_, set_outbox_dead_, requeue_,
        outbox_by_provider_, put_report_, set_outbox_report_, outbox_by_id_, outbox_to_,
        outbox_counts_;
    std::map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
    std::mt19937_64 random_;
};

}  // namespace

std::unique_ptr<store> open_sqlite_store(const std::string& path) {
    return std::make_unique<sqlite_store>(path);
}

int sqlite_schema_version() { return static_cast<int>(migrations().size()); }

}  // namespace gw::store

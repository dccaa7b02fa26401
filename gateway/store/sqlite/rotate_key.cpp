// Data key rotation: every sealed column re-sealed and every keyed look-up
// hash recomputed under a new key, table by table, in batches that are
// each one transaction. The meta table says how far it got:
//   rotation_target_key_id   the new key's id, while a rotation is under way
//   rotation_done:<table>    the last row rewritten ("all" once finished)
// A run that stops anywhere (crash, kill, full disk) leaves every row
// either wholly old or wholly new, and its progress with it; the next run
// with the same two keys goes on from there. `data_key_id` names the old
// key until the last batch, and open_sqlite_store refuses a database with
// a rotation under way, so a gateway never starts on a half-rotated file.
//
// What holds what (schema.cpp, and the aggregates' SQL):
//   subscribers      phone = hash(number)                       (primary key)
//   sessions         id = hash(session id), phone = hash(number);
//                    id_sealed, phone_sealed, state sealed
//   cases            phone = hash(number), session_id = hash(session id),
//                    phone_ending = hash(last digits);
//                    phone_sealed, details, outcome, transcript sealed
//   inbound_messages phone sealed
//   outbox           recipient = hash(number); recipient_sealed sealed
//   referrals        reason, outcome sealed
//   referral_events  detail sealed (an append-only trigger guards it)
//   case_notes       text sealed
// Not keyed, so left alone: operator_sessions (SHA-256 of tokens),
// audit_log and delivery_reports (no personal data), cases.origin_key.
//
// Order matters: a hash is recomputed from the number or id it hides, so
// subscribers (which keep only the hash) are matched to a number through
// sessions, cases and outbox while those are still under the old key, and
// cases' session hashes through sessions; sessions come after both. Where
// retention has forgotten the number or id (a purged session, an old
// subscriber) the hash cannot be recomputed: it becomes a keyed hash of
// the old hash under the new key, the same in every table, so joins
// between rows still hold and nothing derived from the old key is left.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace gw::store {
namespace {

constexpr const char* target_key = "rotation_target_key_id";
constexpr const char* staging = "rotation_subscribers";

std::string done_key(const std::string& table) {
    return "rotation_done:" + table;
}

class rotation {
  public:
    rotation(SQLite::Database& db, const data_sealer& from, const data_sealer& to,
             const key_rotation_options& options, key_rotation_report& report)
        : db_(db), from_(from), to_(to), options_(options), report_(report) {}

    void run() {
        subscribers();
        by_rowid("cases", "id, phone, phone_sealed, details, outcome, transcript, session_id",
                 [&](const SQLite::Statement& row) { rewrite_case(row); });
        by_rowid("sessions", "rowid AS id, id AS hash, phone, state, id_sealed, phone_sealed",
                 [&](const SQLite::Statement& row) { rewrite_session(row); });
        inbound();
        by_rowid("outbox", "id, recipient, recipient_sealed",
                 [&](const SQLite::Statement& row) { rewrite_outbox(row); });
        by_rowid("referrals", "id, reason, outcome", [&](const SQLite::Statement& row) {
            update("UPDATE referrals SET reason = ?2, outcome = ?3 WHERE id = ?1",
                   row.getColumn("id").getInt64(), {reseal(row, "reason"), reseal(row, "outcome")});
        });
        by_rowid("referral_events", "id, detail", [&](const SQLite::Statement& row) {
            update("UPDATE referral_events SET detail = ?2 WHERE id = ?1",
                   row.getColumn("id").getInt64(), {reseal(row, "detail")});
        });
        by_rowid("case_notes", "id, text", [&](const SQLite::Statement& row) {
            update("UPDATE case_notes SET text = ?2 WHERE id = ?1", row.getColumn("id").getInt64(),
                   {reseal(row, "text")});
        });
    }

  private:
    // A sealed column's new value: NULL stays NULL, "" stays "".
    using sealed = std::optional<std::string>;

    // Statements prepared once, reset and unbound for every use.
    SQLite::Statement& stmt(const std::string& sql) {
        auto& st = statements_[sql];
        if (!st) st = std::make_unique<SQLite::Statement>(db_, sql);
        st->reset();
        st->clearBindings();
        return *st;
    }
    // None left on a row (before DDL, commit and rollback).
    void reset_all() {
        for (auto& entry : statements_) entry.second->reset();
    }

    std::optional<std::string> meta(const std::string& key) {
        auto& st = stmt("SELECT value FROM meta WHERE key = ?");
        st.bind(1, key);
        if (!st.executeStep()) return std::nullopt;
        return st.getColumn(0).getString();
    }
    void set_meta(const std::string& key, const std::string& value) {
        auto& st = stmt(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
            "excluded.value");
        st.bind(1, key);
        st.bind(2, value);
        st.exec();
    }

    std::string open_old(const SQLite::Column& col, const char* what) {
        auto plain = from_.open(col.getString());
        if (!plain)
            throw store_error(std::string("rotation: a sealed ") + what +
                              " does not open with the current key (damaged row?)");
        return std::move(*plain);
    }
    sealed reseal(const SQLite::Statement& row, const char* column) {
        const SQLite::Column col = row.getColumn(column);
        if (col.isNull()) return std::nullopt;
        if (col.getBytes() == 0) return std::string();
        return to_.seal(open_old(col, column));
    }
    // The new hash for a value whose old hash is `old` and which is stored
    // sealed in `sealed_col` (when retention left it).
    std::string rehash(const std::string& old, const SQLite::Column& sealed_col, const char* what) {
        if (!sealed_col.isNull() && sealed_col.getBytes() > 0)
            return to_.lookup_hash(open_old(sealed_col, what));
        return unmatched(old);
    }
    // A hash whose value is gone: keyed again, never left as the old key made it.
    std::string unmatched(const std::string& old) {
        return old.empty() ? std::string() : to_.lookup_hash("rotated:" + old);
    }

    static void bind(SQLite::Statement& st, int index, const sealed& v) {
        if (!v)
            st.bind(index);
        else if (v->empty())
            st.bind(index, std::string());
        else
            st.bind(index, v->data(), static_cast<int>(v->size()));
    }
    void update(const char* sql, long long id, std::initializer_list<sealed> values) {
        auto& st = stmt(sql);
        st.bind(1, static_cast<int64_t>(id));
        int i = 2;
        for (const auto& v : values) bind(st, i++, v);
        st.exec();
    }

    // One transaction: `work` rewrites rows, records its progress and
    // returns how many rows it rewrote.
    template <class F>
    void batch(const std::string& table, F&& work) {
        SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
        unmatched_ = unmatched_no_sms_ = 0;
        std::size_t n = 0;
        try {
            n = work();
            reset_all();
            ++report_.batches;
            if (options_.before_commit) options_.before_commit(table, report_.batches);
        } catch (...) {
            reset_all();
            throw;  // the transaction rolls back: none of the batch happened
        }
        tx.commit();
        report_.rows[table] += n;
        report_.unmatched_subscribers += unmatched_;
        report_.unmatched_no_sms += unmatched_no_sms_;
    }

    // A table with a rowid, `batch_rows` rows at a time in rowid order
    // (which the rewrite leaves alone). The batch's rowids are read first,
    // then each row: no scan is open on a table while it is updated.
    template <class F>
    void by_rowid(const std::string& table, const std::string& columns, F&& rewrite) {
        auto done = meta(done_key(table));
        if (done == "all") return;
        long long after = done ? std::stoll(*done) : std::numeric_limits<long long>::min();
        const std::string ids_sql =
            "SELECT rowid FROM " + table + " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2";
        const std::string row_sql = "SELECT " + columns + " FROM " + table + " WHERE rowid = ?1";
        for (bool more = true; more;) {
            batch(table, [&] {
                std::vector<long long> ids;
                auto& select = stmt(ids_sql);
                select.bind(1, static_cast<int64_t>(after));
                select.bind(2, static_cast<int64_t>(options_.batch_rows));
                while (select.executeStep()) ids.push_back(select.getColumn(0).getInt64());
                const bool events = table == "referral_events";
                std::string trigger;
                if (events && !ids.empty()) trigger = drop_redact_only_trigger();
                for (long long id : ids) {
                    auto& row = stmt(row_sql);
                    row.bind(1, static_cast<int64_t>(id));
                    if (row.executeStep()) rewrite(row);
                }
                if (!trigger.empty()) {
                    reset_all();
                    db_.exec(trigger);
                }
                if (!ids.empty()) after = ids.back();
                more = ids.size() == options_.batch_rows;
                set_meta(done_key(table), more ? std::to_string(after) : "all");
                return ids.size();
            });
        }
    }

    // The audit trail's guard allows only blanking a detail: it is taken
    // off for the batch and put back, word for word, in the same
    // transaction (never missing for anyone else).
    std::string drop_redact_only_trigger() {
        auto& st = stmt(
            "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = "
            "'referral_events_redact_only'");
        if (!st.executeStep()) return {};
        std::string sql = st.getColumn(0).getString();
        reset_all();
        db_.exec("DROP TRIGGER referral_events_redact_only");
        return sql;
    }

    void rewrite_case(const SQLite::Statement& row) {
        const std::string phone =
            rehash(row.getColumn("phone").getString(), row.getColumn("phone_sealed"), "number");
        std::string session = row.getColumn("session_id").getString();
        if (!session.empty()) session = session_hash(session);
        // Her number's ending is found again under the new key.
        const SQLite::Column number = row.getColumn("phone_sealed");
        const std::string ending = number.isNull() || number.getBytes() == 0
                                       ? std::string()
                                       : to_.number_ending_hash(open_old(number, "number"));
        auto& st = stmt(
            "UPDATE cases SET phone = ?2, phone_sealed = ?3, details = ?4, outcome = ?5, "
            "transcript = ?6, session_id = ?7, phone_ending = ?8 WHERE id = ?1");
        st.bind(1, row.getColumn("id").getInt64());
        st.bind(2, phone);
        bind(st, 3, reseal(row, "phone_sealed"));
        bind(st, 4, reseal(row, "details"));
        bind(st, 5, reseal(row, "outcome"));
        bind(st, 6, reseal(row, "transcript"));
        st.bind(7, session);
        st.bind(8, ending);
        st.exec();
    }

    // Cases are done before sessions: their session rows are still old.
    std::string session_hash(const std::string& old) {
        auto& st = stmt("SELECT id_sealed FROM sessions WHERE id = ?");
        st.bind(1, old);
        if (st.executeStep()) return rehash(old, st.getColumn(0), "session id");
        return unmatched(old);
    }

    void rewrite_session(const SQLite::Statement& row) {
        const std::string id =
            rehash(row.getColumn("hash").getString(), row.getColumn("id_sealed"), "session id");
        const std::string phone =
            rehash(row.getColumn("phone").getString(), row.getColumn("phone_sealed"), "number");
        auto& st = stmt(
            "UPDATE sessions SET id = ?2, phone = ?3, state = ?4, id_sealed = ?5, phone_sealed = "
            "?6 "
            "WHERE rowid = ?1");
        st.bind(1, row.getColumn("id").getInt64());
        st.bind(2, id);
        st.bind(3, phone);
        bind(st, 4, reseal(row, "state"));
        bind(st, 5, reseal(row, "id_sealed"));
        bind(st, 6, reseal(row, "phone_sealed"));
        st.exec();
    }

    void rewrite_outbox(const SQLite::Statement& row) {
        auto& st = stmt("UPDATE outbox SET recipient = ?2, recipient_sealed = ?3 WHERE id = ?1");
        st.bind(1, row.getColumn("id").getInt64());
        st.bind(2, rehash(row.getColumn("recipient").getString(), row.getColumn("recipient_sealed"),
                          "number"));
        bind(st, 3, reseal(row, "recipient_sealed"));
        st.exec();
    }

    // inbound_messages has no rowid: its key (aggregator, message_id),
    // which the rotation leaves alone, orders the batches.
    void inbound() {
        const std::string table = "inbound_messages";
        auto done = meta(done_key(table));
        if (done == "all") return;
        std::optional<std::pair<std::string, std::string>> after;
        if (done) {
            const auto cut = done->find('\n');
            after.emplace(done->substr(0, cut),
                          cut == std::string::npos ? "" : done->substr(cut + 1));
        }
        for (bool more = true; more;) {
            batch(table, [&] {
                std::vector<std::pair<std::string, std::string>> keys;
                auto& select =
                    stmt(std::string("SELECT aggregator, message_id FROM inbound_messages ") +
                         (after ? "WHERE (aggregator, message_id) > (?2, ?3) " : "") +
                         "ORDER BY aggregator, message_id LIMIT ?1");
                select.bind(1, static_cast<int64_t>(options_.batch_rows));
                if (after) {
                    select.bind(2, after->first);
                    select.bind(3, after->second);
                }
                while (select.executeStep())
                    keys.emplace_back(select.getColumn(0).getString(),
                                      select.getColumn(1).getString());
                for (const auto& [aggregator, id] : keys) {
                    auto& row = stmt(
                        "SELECT phone FROM inbound_messages WHERE aggregator = ?1 AND message_id = "
                        "?2");
                    row.bind(1, aggregator);
                    row.bind(2, id);
                    if (!row.executeStep()) continue;
                    const sealed phone = reseal(row, "phone");
                    auto& st = stmt(
                        "UPDATE inbound_messages SET phone = ?3 WHERE aggregator = ?1 AND "
                        "message_id = ?2");
                    st.bind(1, aggregator);
                    st.bind(2, id);
                    bind(st, 3, phone);
                    st.exec();
                }
                if (!keys.empty()) after = keys.back();
                more = keys.size() == options_.batch_rows;
                set_meta(done_key(table), more ? after->first + "\n" + after->second : "all");
                return keys.size();
            });
        }
    }

    // subscribers keeps only the hash of her number, and that hash is its
    // primary key: rows move batch by batch into a staging table under
    // their new hash (so what is left in subscribers is exactly what is
    // still to do), and come back together at the end.
    void subscribers() {
        const std::string table = "subscribers";
        if (meta(done_key(table)) == "all") return;
        for (bool more = true; more;) {
            batch(table, [&] {
                std::vector<std::pair<std::string, bool>> rows;
                auto& select = stmt("SELECT phone, no_sms FROM subscribers ORDER BY phone LIMIT ?");
                select.bind(1, static_cast<int64_t>(options_.batch_rows));
                while (select.executeStep())
                    rows.emplace_back(select.getColumn(0).getString(),
                                      select.getColumn(1).getInt() != 0);
                for (const auto& [old, no_sms] : rows) {
                    std::string next;
                    if (auto number = number_of(old)) {
                        next = to_.lookup_hash(*number);
                    } else {
                        next = unmatched(old);
                        ++unmatched_;
                        if (no_sms) ++unmatched_no_sms_;
                    }
                    auto& copy = stmt(std::string("INSERT INTO ") + staging +
                                      " SELECT * FROM subscribers WHERE phone = ?");
                    copy.bind(1, old);
                    copy.exec();
                    auto& rename =
                        stmt(std::string("UPDATE ") + staging + " SET phone = ?2 WHERE phone = ?1");
                    rename.bind(1, old);
                    rename.bind(2, next);
                    rename.exec();
                    auto& remove = stmt("DELETE FROM subscribers WHERE phone = ?");
                    remove.bind(1, old);
                    remove.exec();
                }
                more = rows.size() == options_.batch_rows;
                if (!more) {
                    reset_all();
                    db_.exec(std::string("INSERT INTO subscribers SELECT * FROM ") + staging);
                    db_.exec(std::string("DROP TABLE ") + staging);
                    set_meta(done_key(table), "all");
                }
                return rows.size();
            });
        }
    }

    // Her number, found through whatever still holds it sealed beside the
    // same old hash (each column indexed by its hash), else in the inbound
    // messages (sealed without a hash: read once, all of them).
    std::optional<std::string> number_of(const std::string& old) {
        static const char* const places[] = {
            "SELECT phone_sealed FROM sessions WHERE phone = ?1 AND length(phone_sealed) > 0 "
            "LIMIT 1",
            "SELECT phone_sealed FROM cases WHERE phone = ?1 AND length(phone_sealed) > 0 LIMIT 1",
            "SELECT recipient_sealed FROM outbox WHERE recipient = ?1 AND "
            "length(recipient_sealed) > 0 LIMIT 1",
        };
        for (const char* sql : places) {
            auto& st = stmt(sql);
            st.bind(1, old);
            if (st.executeStep()) {
                std::string number = open_old(st.getColumn(0), "number");
                if (from_.lookup_hash(number) == old) return number;
            }
        }
        if (!inbound_numbers_) {
            inbound_numbers_.emplace();
            auto& st = stmt("SELECT phone FROM inbound_messages WHERE length(phone) > 0");
            while (st.executeStep()) {
                std::string number = open_old(st.getColumn(0), "number");
                (*inbound_numbers_)[from_.lookup_hash(number)] = number;
            }
        }
        if (auto it = inbound_numbers_->find(old); it != inbound_numbers_->end()) return it->second;
        return std::nullopt;
    }

    SQLite::Database& db_;
    const data_sealer& from_;
    const data_sealer& to_;
    const key_rotation_options& options_;
    key_rotation_report& report_;
    std::optional<std::unordered_map<std::string, std::string>> inbound_numbers_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
    std::size_t unmatched_ = 0, unmatched_no_sms_ = 0;  // in the batch under way
};

struct key_state {
    std::string key_id;  // data_key_id
    std::string target;  // rotation_target_key_id, "" when none
};

key_state read_key_state(SQLite::Database& db) {
    key_state s;
    SQLite::Statement st(db, "SELECT key, value FROM meta WHERE key IN ('data_key_id', ?)");
    st.bind(1, target_key);
    while (st.executeStep())
        (st.getColumn(0).getString() == "data_key_id" ? s.key_id : s.target) =
            st.getColumn(1).getString();
    return s;
}

}  // namespace

key_rotation_report rotate_sqlite_data_key(const std::string& path, const data_sealer& current,
                                           const data_sealer& next,
                                           const key_rotation_options& options) {
    if (options.batch_rows == 0) throw store_error("rotation: batch_rows must be at least 1");
    if (current.key_id() == next.key_id())
        throw store_error("the new data key is the key already in use");
    key_rotation_report report;
    try {
        key_state peek;
        {
            SQLite::Database db(path, SQLite::OPEN_READWRITE);
            db.setBusyTimeout(2000);
            if (db.tableExists("meta")) peek = read_key_state(db);
        }
        if (peek.target.empty()) {
            if (peek.key_id == next.key_id()) {
                report.already_done = true;
                return report;
            }
            // Migrates an older schema and checks the current key, as a
            // start of the gateway would.
            open_sqlite_store(path, current);
        }

        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.setBusyTimeout(1000);
        // Exclusive locking mode: the lock taken by the first transaction is
        // kept until the connection closes. A gateway's open connections
        // (which keep a shared lock in WAL mode) make this fail; a gateway
        // started meanwhile cannot read or write.
        db.exec("PRAGMA locking_mode = EXCLUSIVE");
        try {
            db.exec("BEGIN EXCLUSIVE");
            db.exec("COMMIT");
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_BUSY || e.getErrorCode() == SQLITE_LOCKED)
                throw store_error(
                    "the database is in use (is the gateway running?): stop it before rotating "
                    "the key");
            throw;
        }
        // Overwritten sealed values are zeroed, not left in free space.
        db.exec("PRAGMA secure_delete = ON");
        if (db.execAndGet("PRAGMA user_version").getInt() != sqlite_schema_version())
            throw store_error("rotation: the database schema is not the one this gateway expects");

        const key_state state = read_key_state(db);
        if (state.target.empty()) {
            if (state.key_id == next.key_id()) {
                report.already_done = true;
                return report;
            }
            if (state.key_id != current.key_id())
                throw store_error(
                    "the data key does not match the one this database was sealed with");
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            SQLite::Statement put(db, "INSERT INTO meta (key, value) VALUES (?, ?)");
            put.bind(1, target_key);
            put.bind(2, next.key_id());
            put.exec();
            db.exec(std::string("DROP TABLE IF EXISTS ") + staging);
            db.exec(std::string("CREATE TABLE ") + staging +
                    " AS SELECT * FROM subscribers WHERE 0");
            db.exec(std::string("CREATE UNIQUE INDEX ") + staging + "_phone ON " + staging +
                    " (phone)");
            tx.commit();
        } else {
            if (state.target != next.key_id())
                throw store_error(
                    "a rotation to another data key was started and not finished: run it again "
                    "with that key");
            if (state.key_id != current.key_id())
                throw store_error(
                    "a rotation is under way and the configured key is not the one it started "
                    "from: run it with the old key in the config");
            report.resumed = true;
        }

        rotation(db, current, next, options, report).run();

        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement set(db, "UPDATE meta SET value = ? WHERE key = 'data_key_id'");
        set.bind(1, next.key_id());
        set.exec();
        db.exec(
            "DELETE FROM meta WHERE key = 'rotation_target_key_id' OR key LIKE 'rotation_done:%'");
        // Rate-limit windows and log-in back-off are kept by keyed hashes of
        // keys the store never sees in clear: they cannot follow the new key,
        // and last minutes at most, so they start again.
        db.exec("DELETE FROM rate_windows; DELETE FROM throttles");
        tx.commit();
        // The old key's blobs still sit in the write-ahead log's page images.
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        return report;
    } catch (const SQLite::Exception& e) {
        throw store_error(std::string("rotation: ") + e.what());
    }
}

}  // namespace gw::store

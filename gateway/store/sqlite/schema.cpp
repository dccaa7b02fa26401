// The SQLite schema: versioned migrations (PRAGMA user_version), sealing of
// rows written before sealing began, the data-key check, and a private
// (0600) database file.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "store/sqlite/database.hpp"

namespace gw::store {
namespace sqlite {
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
        // Jobs run once however many processes run them (hold_lease).
        R"sql(
        CREATE TABLE leases (job TEXT PRIMARY KEY, holder TEXT NOT NULL,
                             until INTEGER NOT NULL) WITHOUT ROWID;
        )sql",
        // Rate-limit windows and log-in back-off (limit_store), by keyed hash.
        R"sql(
        CREATE TABLE rate_windows (key TEXT NOT NULL, window_start INTEGER NOT NULL,
                                   count INTEGER NOT NULL, PRIMARY KEY (key, window_start))
                                   WITHOUT ROWID;
        CREATE TABLE throttles (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
                                blocked_until INTEGER NOT NULL, last INTEGER NOT NULL)
                                WITHOUT ROWID;
        )sql",
        // The keyed hash of her number's last digits, by which an operator
        // finds her case when she reads them out (filled for older cases by
        // index_number_endings).
        R"sql(
        ALTER TABLE cases ADD COLUMN phone_ending TEXT NOT NULL DEFAULT '';
        CREATE INDEX cases_by_phone_ending ON cases (phone_ending) WHERE phone_ending <> '';
        )sql",
        // Programme staff (the dashboard only) get accounts too. SQLite cannot
        // change a CHECK: the table is made again (migrate() turns foreign
        // keys off around this one, as SQLite's manual says to).
        R"sql(
        CREATE TABLE operators_new (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'programme')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        INSERT INTO operators_new (id, username, display_name, role, password_hash, active,
                                   created_at, updated_at)
            SELECT id, username, display_name, role, password_hash, active, created_at,
                   updated_at FROM operators;
        DROP TABLE operators;
        ALTER TABLE operators_new RENAME TO operators;
        )sql",
        // Routing counts each partner's open referrals for every new case:
        // an index of the open ones keeps that count as small as the open
        // work, however many referrals the years have closed. Same terms as
        // sql_open_referral_counts (SQLite uses it only then).
        R"sql(
        CREATE INDEX referrals_open_by_partner ON referrals (partner, status)
            WHERE status IN ('new', 'accepted', 'in_progress') AND partner <> '';
        )sql",
    };
    return m;
}

// The version whose migration starts sealing numbers.
constexpr int sealing_version = 4;
// The version whose migration seals partners' and operators' free text.
constexpr int referral_sealing_version = 7;
// The version whose migration adds the number-ending hash of cases.
constexpr int number_ending_version = 11;
// The version whose migration makes the operators table again.
constexpr int operator_roles_version = 12;
constexpr const char* redact_only_trigger = R"sql(
    CREATE TRIGGER referral_events_redact_only BEFORE UPDATE ON referral_events
    WHEN NEW.referral_id IS NOT OLD.referral_id OR NEW.actor IS NOT OLD.actor OR
         NEW.action IS NOT OLD.action OR NEW.at IS NOT OLD.at OR NEW.detail <> ''
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;
    )sql";

// Her data stays with the gateway's own user: a folder made here is
// 0700; the database is created 0600 (SQLite gives -wal and -shm the
// database's mode), and files an older version left readable by all
// are narrowed.
void prepare_private_files(const std::string& path) {
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

bool seal_legacy_rows(SQLite::Database& db, const data_sealer& sealer);
bool seal_referral_text(SQLite::Database& db, const data_sealer& sealer);
void index_number_endings(SQLite::Database& db, const data_sealer& sealer);
void check_key(SQLite::Database& db, const data_sealer& sealer);

void migrate(SQLite::Database& db, const data_sealer& sealer) {
    int version = db.execAndGet("PRAGMA user_version").getInt();
    const auto& all = migrations();
    if (version > static_cast<int>(all.size()))
        throw store_error("database schema is newer than this gateway");
    bool sealed_legacy = false;
    for (int v = version; v < static_cast<int>(all.size()); ++v) {
        // Making a table again: foreign keys off outside the transaction,
        // checked before it commits.
        const bool remakes_table = v + 1 == operator_roles_version;
        if (remakes_table) db.exec("PRAGMA foreign_keys = OFF");
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(all[v]);
        if (v + 1 == sealing_version) sealed_legacy = seal_legacy_rows(db, sealer);
        if (v + 1 == referral_sealing_version) {
            sealed_legacy = seal_referral_text(db, sealer) || sealed_legacy;
            db.exec(redact_only_trigger);
        }
        if (v + 1 == number_ending_version) index_number_endings(db, sealer);
        if (remakes_table) {
            SQLite::Statement broken(db, "PRAGMA foreign_key_check");
            if (broken.executeStep())
                throw store_error("migration " + std::to_string(v + 1) +
                                  " would break a reference: nothing changed");
        }
        db.exec("PRAGMA user_version = " + std::to_string(v + 1));
        tx.commit();
        if (remakes_table) db.exec("PRAGMA foreign_keys = ON");
    }
    check_key(db, sealer);
    if (sealed_legacy) {
        // The clear-text pages must not linger in the WAL or free list.
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        db.exec("VACUUM");
    }
}

// A sealed value for a migration ("" stays "": nothing to hide).
void bind_sealed_with(const data_sealer& sealer, SQLite::Statement& st, int index,
                      const std::string& plain) {
    std::string b = sealer.seal(plain);
    if (b.empty())
        st.bind(index, std::string());
    else
        st.bind(index, b.data(), static_cast<int>(b.size()));
}

// Cases stored before the number-ending column: their endings, from the
// sealed numbers (a number retention forgot has none).
void index_number_endings(SQLite::Database& db, const data_sealer& sealer) {
    SQLite::Statement all(db, "SELECT id, phone_sealed FROM cases WHERE length(phone_sealed) > 0");
    std::vector<std::pair<int64_t, std::string>> rows;
    while (all.executeStep()) {
        const auto col = all.getColumn("phone_sealed");
        auto number = sealer.open(std::string_view(static_cast<const char*>(col.getBlob()),
                                                   static_cast<std::size_t>(col.getBytes())));
        if (number) rows.emplace_back(all.getColumn("id").getInt64(), *number);
    }
    SQLite::Statement upd(db, "UPDATE cases SET phone_ending = :ending WHERE id = :id");
    for (const auto& [id, number] : rows) {
        upd.reset();
        upd.bind(":id", id);
        upd.bind(":ending", sealer.number_ending_hash(number));
        upd.exec();
    }
}

// Reasons, notes and event details written before version 7 are in
// clear: seal them in the migration's transaction.
bool seal_referral_text(SQLite::Database& db, const data_sealer& sealer) {
    auto blob = [&](SQLite::Statement& st, int index, const std::string& plain) {
        bind_sealed_with(sealer, st, index, plain);
    };
    std::size_t n = 0;
    {
        std::vector<std::tuple<int64_t, std::string, std::string>> rows;
        SQLite::Statement all(
            db, "SELECT id, reason, outcome FROM referrals WHERE reason <> '' OR outcome <> ''");
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
void check_key(SQLite::Database& db, const data_sealer& sealer) {
    // Half its rows sealed with one key, half with the other: only the
    // rotation itself (rotate_key.cpp) may go on with it.
    SQLite::Statement rotating(db, "SELECT 1 FROM meta WHERE key = 'rotation_target_key_id'");
    if (rotating.executeStep())
        throw store_error(
            "a data key rotation was started and not finished: run `hotline-gateway rotate-key` "
            "again with the same new key");
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
bool seal_legacy_rows(SQLite::Database& db, const data_sealer& sealer) {
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

}  // namespace

SQLite::Database open_database(const std::string& path, const data_sealer& sealer,
                               const sqlite_options& options) {
    try {
        prepare_private_files(path);
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.setBusyTimeout(static_cast<int>(options.busy_timeout.count()));
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec("PRAGMA foreign_keys = ON");
        // A batch runs each write under its own savepoint; their journal
        // stays in memory instead of spilling to a temporary file (which
        // cost more writes than the log itself under load).
        db.exec("PRAGMA temp_store = MEMORY");
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

}  // namespace sqlite

int sqlite_schema_version() {
    return static_cast<int>(sqlite::migrations().size());
}

void create_legacy_sqlite_store(const std::string& path, int version) {
    if (version < 1 || version >= 4)
        throw store_error("a legacy database has schema version 1 to 3");
    try {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode = WAL");
        for (int v = db.execAndGet("PRAGMA user_version").getInt(); v < version; ++v) {
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            db.exec(sqlite::migrations()[v]);
            db.exec("PRAGMA user_version = " + std::to_string(v + 1));
            tx.commit();
        }
    } catch (const SQLite::Exception& e) {
        throw store_error(e.what());
    }
}

}  // namespace gw::store

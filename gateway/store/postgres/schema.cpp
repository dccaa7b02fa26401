// The PostgreSQL schema: versioned migrations (table schema_version), run
// under an advisory lock so two nodes starting together migrate once; the
// audit trail append-only by trigger, whatever the role's rights; the
// data-key check as in SQLite.
#include <string>
#include <vector>

#include "store/postgres/database.hpp"

namespace gw::store::postgres {
namespace {

// Append only: each entry moves the schema one version up. Never edit a
// migration that has shipped; add a new one. Times are unix seconds
// (bigint), flags 0/1, sealed values bytea, keyed hashes text: the same
// shapes as the SQLite store's, so one set of SQL reads the same.
const std::vector<const char*>& migrations() {
    static const std::vector<const char*> m = {
        R"sql(
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE subscribers (
            phone TEXT PRIMARY KEY,
            language TEXT,
            no_sms INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL);
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            phone TEXT NOT NULL,
            channel TEXT NOT NULL,
            state BYTEA NOT NULL,
            status TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            id_sealed BYTEA,
            phone_sealed BYTEA);
        CREATE INDEX sessions_by_phone ON sessions (phone, updated_at);
        CREATE INDEX sessions_by_status ON sessions (status, updated_at);
        CREATE TABLE cases (
            id BIGSERIAL PRIMARY KEY,
            reference TEXT NOT NULL UNIQUE,
            origin_key TEXT NOT NULL UNIQUE,
            phone TEXT NOT NULL,
            channel TEXT NOT NULL,
            language TEXT NOT NULL,
            topic TEXT NOT NULL,
            subtopic TEXT NOT NULL DEFAULT '',
            oblast TEXT NOT NULL DEFAULT '',
            target_group TEXT NOT NULL DEFAULT '',
            details BYTEA NOT NULL DEFAULT '',
            consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
            urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),
            safe_to_call INTEGER,
            status TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            notify_sms INTEGER NOT NULL DEFAULT 0,
            phone_sealed BYTEA,
            session_id TEXT NOT NULL DEFAULT '',
            assigned_to TEXT NOT NULL DEFAULT '',
            outcome BYTEA,
            closed_at BIGINT NOT NULL DEFAULT 0,
            purged_at BIGINT NOT NULL DEFAULT 0,
            needs_hotline INTEGER NOT NULL DEFAULT 0,
            sms_channel TEXT NOT NULL DEFAULT '',
            transcript BYTEA,
            contact TEXT NOT NULL DEFAULT '',
            call_time TEXT NOT NULL DEFAULT '');
        CREATE INDEX cases_by_status ON cases (status, created_at);
        CREATE INDEX cases_hotline ON cases (urgent DESC, created_at) WHERE needs_hotline = 1;
        CREATE INDEX cases_by_phone ON cases (phone);
        CREATE TABLE inbound_messages (
            aggregator TEXT NOT NULL,
            message_id TEXT NOT NULL,
            phone BYTEA NOT NULL,
            reply TEXT NOT NULL DEFAULT '',
            received_at BIGINT NOT NULL,
            PRIMARY KEY (aggregator, message_id));
        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            body TEXT NOT NULL,
            purpose TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms BIGINT NOT NULL,
            provider_id TEXT NOT NULL DEFAULT '',
            last_error TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            recipient_sealed BYTEA);
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at_ms);
        CREATE INDEX outbox_by_provider_id ON outbox (channel, provider_id);
        CREATE INDEX outbox_by_recipient ON outbox (recipient);
        CREATE TABLE delivery_reports (
            id BIGSERIAL PRIMARY KEY,
            outbox_id BIGINT REFERENCES outbox (id),
            channel TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            received_at BIGINT NOT NULL);
        CREATE INDEX delivery_reports_by_provider_id ON delivery_reports (channel, provider_id);
        CREATE TABLE referrals (
            id BIGSERIAL PRIMARY KEY,
            case_id BIGINT NOT NULL REFERENCES cases (id),
            partner TEXT NOT NULL,
            status TEXT NOT NULL,
            rule TEXT NOT NULL DEFAULT '',
            explanation TEXT NOT NULL DEFAULT '',
            reason BYTEA NOT NULL DEFAULT '',
            outcome BYTEA NOT NULL DEFAULT '',
            due_at BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL);
        CREATE INDEX referrals_by_partner ON referrals (partner, status, id);
        CREATE INDEX referrals_by_case ON referrals (case_id);
        CREATE INDEX referrals_due ON referrals (status, due_at);
        CREATE TABLE referral_events (
            id BIGSERIAL PRIMARY KEY,
            referral_id BIGINT NOT NULL REFERENCES referrals (id),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail BYTEA NOT NULL DEFAULT '',
            at BIGINT NOT NULL);
        CREATE INDEX referral_events_by_referral ON referral_events (referral_id, id);
        CREATE TABLE operators (
            id BIGSERIAL PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL);
        CREATE TABLE operator_sessions (
            token_hash TEXT PRIMARY KEY,
            operator_id BIGINT NOT NULL REFERENCES operators (id),
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL);
        CREATE TABLE case_notes (
            id BIGSERIAL PRIMARY KEY,
            case_id BIGINT NOT NULL REFERENCES cases (id),
            author TEXT NOT NULL,
            text BYTEA NOT NULL,
            at BIGINT NOT NULL);
        CREATE INDEX case_notes_by_case ON case_notes (case_id, id);
        CREATE TABLE partner_state (
            partner TEXT PRIMARY KEY,
            paused INTEGER NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL);
        CREATE TABLE audit_log (
            id BIGSERIAL PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            case_id BIGINT,
            detail TEXT NOT NULL DEFAULT '');
        CREATE INDEX audit_log_by_case ON audit_log (case_id, id);

        -- The audit trail only grows, whatever rights the gateway's role has:
        -- operators' lines never change; a partner event's detail may only be
        -- blanked (retention), nothing else of it.
        CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit events cannot be changed or deleted'; END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_refuse();
        CREATE TRIGGER referral_events_no_delete BEFORE DELETE ON referral_events
            FOR EACH ROW EXECUTE FUNCTION audit_refuse();
        CREATE FUNCTION referral_events_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.referral_id IS DISTINCT FROM OLD.referral_id OR
               NEW.actor IS DISTINCT FROM OLD.actor OR NEW.action IS DISTINCT FROM OLD.action OR
               NEW.at IS DISTINCT FROM OLD.at OR length(NEW.detail) <> 0 THEN
                RAISE EXCEPTION 'audit events cannot be changed';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER referral_events_redact_only BEFORE UPDATE ON referral_events
            FOR EACH ROW EXECUTE FUNCTION referral_events_redact_only();

        -- Jobs run once however many nodes run them (hold_lease).
        CREATE TABLE leases (job TEXT PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);
        )sql",
        // Rate-limit windows and log-in back-off shared by every node (limit_store).
        R"sql(
        CREATE TABLE rate_windows (key TEXT NOT NULL, window_start BIGINT NOT NULL,
                                   count INTEGER NOT NULL, PRIMARY KEY (key, window_start));
        CREATE TABLE throttles (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
                                blocked_until BIGINT NOT NULL, last BIGINT NOT NULL);
        )sql",
        // The keyed hash of her number's last digits, by which an operator
        // finds her case (filled for older cases by index_number_endings).
        R"sql(
        ALTER TABLE cases ADD COLUMN phone_ending TEXT NOT NULL DEFAULT '';
        CREATE INDEX cases_by_phone_ending ON cases (phone_ending) WHERE phone_ending <> '';
        )sql",
        // Programme staff (the dashboard only) get accounts too.
        R"sql(
        ALTER TABLE operators DROP CONSTRAINT operators_role_check;
        ALTER TABLE operators ADD CONSTRAINT operators_role_check
            CHECK (role IN ('operator', 'supervisor', 'programme'));
        )sql",
        // Routing counts each partner's open referrals for every new case:
        // an index of the open ones keeps that as small as the open work.
        R"sql(
        CREATE INDEX referrals_open_by_partner ON referrals (partner, status)
            WHERE status IN ('new', 'accepted', 'in_progress') AND partner <> '';
        )sql",
    };
    return m;
}

// Any number: one lock id for "migrating the gateway's schema".
constexpr long long migration_lock = 0x6777'5f6d'6967'72LL;

const statement sql_lock{"SELECT pg_advisory_xact_lock(:lock::bigint)"};
const statement sql_create_version{
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"};
const statement sql_get_version{"SELECT max(version) AS version FROM schema_version"};
const statement sql_put_version{"INSERT INTO schema_version (version) VALUES (:version::integer)"};
// The version whose migration adds the number-ending hash of cases.
constexpr int number_ending_version = 3;
const statement sql_sealed_numbers{
    "SELECT id, phone_sealed FROM cases WHERE phone_sealed IS NOT NULL AND "
    "length(phone_sealed) > 0"};
const statement sql_set_ending{"UPDATE cases SET phone_ending = :ending WHERE id = :id::bigint"};

// Cases stored before the number-ending column: their endings, from the
// sealed numbers (a number retention forgot has none).
void index_number_endings(database& db, unit& u) {
    for (const auto& row : u.exec(sql_sealed_numbers))
        u.exec(sql_set_ending,
               params()
                   .set(":id", row["id"].as<long long>())
                   .set(":ending", db.sealer().number_ending_hash(db.unseal(row["phone_sealed"]))));
}

const statement sql_get_key{"SELECT value FROM meta WHERE key = 'data_key_id'"};
const statement sql_put_key{"INSERT INTO meta (key, value) VALUES ('data_key_id', :value)"};

}  // namespace

void migrate(database& db) {
    db.write("migrate", [&](unit& u) {
        u.exec(sql_lock, params().set(":lock", migration_lock));
        u.exec(sql_create_version);
        auto r = u.exec(sql_get_version);
        int version = r[0]["version"].is_null() ? 0 : r[0]["version"].as<int>();
        const auto& all = migrations();
        if (version > static_cast<int>(all.size()))
            throw store_error("database schema is newer than this gateway");
        for (int v = version; v < static_cast<int>(all.size()); ++v) {
            u.exec_script(all[v]);
            if (v + 1 == number_ending_version) index_number_endings(db, u);
            u.exec(sql_put_version, params().set(":version", v + 1));
        }
        // A database is bound to the key that sealed it.
        auto key = u.exec(sql_get_key);
        if (key.empty())
            u.exec(sql_put_key, params().set(":value", db.sealer().key_id()));
        else if (key[0]["value"].as<std::string>() != db.sealer().key_id())
            throw store_error("the data key does not match the one this database was sealed with");
        u.commit();
    });
}

}  // namespace gw::store::postgres

int gw::store::postgres_schema_version() {
    return static_cast<int>(postgres::migrations().size());
}

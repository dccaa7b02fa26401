// Cases, exactly as she gave them: her number, details and the session's
// transcript sealed; looked up by reference or by the event that made them.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {

const char case_columns[] =
    "id, reference, origin_key, phone_sealed, channel, language, topic, subtopic, oblast, "
    "target_group, details, consent, urgent, safe_to_call, status, created_at, notify_sms, "
    "session_id, assigned_to, outcome, closed_at, sms_channel, transcript, contact, call_time";

namespace {

const std::string sql_case_by_origin =
    std::string("SELECT ") + case_columns + " FROM cases WHERE origin_key = :origin_key";
const std::string sql_reference_taken = "SELECT 1 FROM cases WHERE reference = :reference";
const std::string sql_insert_case =
    "INSERT INTO cases (reference, origin_key, phone, channel, language, topic, subtopic, "
    "oblast, target_group, details, consent, urgent, safe_to_call, status, created_at, "
    "notify_sms, phone_sealed, session_id, needs_hotline, sms_channel, transcript, contact, "
    "call_time, phone_ending) VALUES (:reference, :origin_key, :phone, :channel, :language, "
    ":topic, "
    ":subtopic, :oblast, :target_group, :details, :consent, :urgent, :safe_to_call, :status, "
    ":created_at, :notify_sms, :phone_sealed, :session_id, :needs_hotline, :sms_channel, "
    ":transcript, :contact, :call_time, :phone_ending)";
const std::string sql_case_by_reference =
    std::string("SELECT ") + case_columns + " FROM cases WHERE reference = :reference";
const std::string sql_case_by_id =
    std::string("SELECT ") + case_columns + " FROM cases WHERE id = :id";
const std::string sql_cases_by_phone_ending =
    std::string("SELECT ") + case_columns +
    " FROM cases WHERE phone_ending = :phone_ending ORDER BY id DESC LIMIT :limit";
const std::string sql_count_cases = "SELECT count(*) AS n FROM cases";
const std::string sql_unrouted_cases =
    std::string("SELECT ") + case_columns +
    " FROM cases WHERE NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id) "
    "ORDER BY id LIMIT :limit";
const std::string sql_case_session =
    std::string("SELECT ") + session_columns +
    " FROM sessions WHERE id = (SELECT session_id FROM cases WHERE id = :case_id AND "
    "session_id <> '')";

}  // namespace

case_record read_case(const database& db, const SQLite::Statement& st) {
    case_record c;
    c.id = st.getColumn("id").getInt64();
    c.reference = st.getColumn("reference").getString();
    c.origin_key = st.getColumn("origin_key").getString();
    c.phone = db.unseal(st.getColumn("phone_sealed"));
    c.channel = st.getColumn("channel").getString();
    c.language = st.getColumn("language").getString();
    c.topic = st.getColumn("topic").getString();
    c.subtopic = st.getColumn("subtopic").getString();
    c.oblast = st.getColumn("oblast").getString();
    c.target_group = st.getColumn("target_group").getString();
    c.details = db.unseal(st.getColumn("details"));
    c.consent = st.getColumn("consent").getInt() != 0;
    c.urgent = st.getColumn("urgent").getInt() != 0;
    if (!st.isColumnNull("safe_to_call"))
        c.safe_to_call = st.getColumn("safe_to_call").getInt() != 0;
    c.status = stored_case_status(st.getColumn("status").getString());
    c.created_at = st.getColumn("created_at").getInt64();
    c.notify_sms = st.getColumn("notify_sms").getInt() != 0;
    c.session_id = st.getColumn("session_id").getString();
    c.assigned_to = st.getColumn("assigned_to").getString();
    c.outcome = db.unseal(st.getColumn("outcome"));
    c.closed_at = st.getColumn("closed_at").getInt64();
    c.sms_channel = st.getColumn("sms_channel").getString();
    c.transcript = db.unseal(st.getColumn("transcript"));
    c.contact = st.getColumn("contact").getString();
    c.call_time = st.getColumn("call_time").getString();
    return c;
}

namespace {

// Inside a write: the case stored under `origin_key`, if any.
std::optional<case_record> case_by_origin(database& db, const std::string& origin_key) {
    auto& st = db.cached(sql_case_by_origin);
    bind_param(st, ":origin_key", origin_key);
    if (!st.executeStep()) return std::nullopt;
    return read_case(db, st);
}

// Inside a write: inserts the case; false, writing nothing, when
// `reference` is taken. `session`: session_lookup(db, c).
bool put_case(database& db, const new_case& c, const std::string& reference, long long now,
              const std::string& session) {
    auto& taken = db.cached(sql_reference_taken);
    bind_param(taken, ":reference", reference);
    if (taken.executeStep()) return false;
    auto& st = db.cached(sql_insert_case);
    bind_param(st, ":reference", reference);
    bind_param(st, ":origin_key", c.origin_key);
    bind_param(st, ":phone", db.lookup_hash(c.phone));
    bind_param(st, ":channel", c.channel);
    bind_param(st, ":language", c.language);
    bind_param(st, ":topic", c.topic);
    bind_param(st, ":subtopic", c.subtopic);
    bind_param(st, ":oblast", c.oblast);
    bind_param(st, ":target_group", c.target_group);
    db.bind_sealed(st, ":details", c.details);
    bind_param(st, ":consent", c.consent);
    bind_param(st, ":urgent", c.urgent);
    bind_param(st, ":safe_to_call", c.safe_to_call);
    bind_param(st, ":status", c.status);
    bind_param(st, ":created_at", now);
    bind_param(st, ":notify_sms", c.notify_sms);
    db.bind_sealed(st, ":phone_sealed", c.phone);
    bind_param(st, ":session_id", session);
    bind_param(st, ":needs_hotline", c.needs_hotline);
    bind_param(st, ":sms_channel", c.sms_channel);
    db.bind_sealed(st, ":transcript", c.transcript);
    bind_param(st, ":contact", c.contact);
    bind_param(st, ":call_time", c.call_time);
    bind_param(st, ":phone_ending", db.number_ending_hash(c.phone));
    st.exec();
    return true;
}

}  // namespace

std::optional<created_case> sqlite_cases::create_case_with(const new_case& c,
                                                           const std::string& reference,
                                                           long long now,
                                                           const written_with_case& with) {
    // A case is what we promise her: durable, so its batch is fsynced.
    return db_.write(
        __func__,
        [&](unit_tx& tx) -> std::optional<created_case> {
            if (auto stored = case_by_origin(db_, c.origin_key))  // a retry
                return created_case{std::move(*stored), false};
            std::string session = session_lookup(db_, c);
            if (!put_case(db_, c, reference, now, session)) return std::nullopt;
            created_case made{
                as_inserted(c, db_.last_insert_id(), reference, now, std::move(session)), true};
            if (with.referral) {
                first_referral routed = *with.referral;
                routed.referral.case_id = made.record.id;
                put_referral(db_, routed);
            }
            if (with.session) put_session(db_, *with.session);
            tx.commit();
            return made;
        },
        /*durable=*/true);
}

std::optional<case_record> sqlite_cases::find_case(const std::string& reference) {
    return db_.read(__func__, [&](connection& c) -> std::optional<case_record> {
        auto& st = c.cached(sql_case_by_reference);
        bind_param(st, ":reference", reference);
        if (!st.executeStep()) return std::nullopt;
        return read_case(db_, st);
    });
}

std::optional<case_record> sqlite_cases::find_case_by_id(long long id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<case_record> {
        auto& st = c.cached(sql_case_by_id);
        bind_param(st, ":id", id);
        if (!st.executeStep()) return std::nullopt;
        return read_case(db_, st);
    });
}

std::vector<case_record> sqlite_cases::find_cases_by_number_ending(const std::string& digits,
                                                                   std::size_t limit) {
    const std::string ending = db_.number_ending_hash(digits);
    if (ending.empty()) return {};
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_cases_by_phone_ending);
        bind_param(st, ":phone_ending", ending);
        bind_param(st, ":limit", static_cast<long long>(limit));
        std::vector<case_record> out;
        while (st.executeStep()) out.push_back(read_case(db_, st));
        return out;
    });
}

std::size_t sqlite_cases::count_cases() {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_count_cases);
        st.executeStep();
        return static_cast<std::size_t>(st.getColumn("n").getInt64());
    });
}

std::vector<case_record> sqlite_cases::unrouted_cases(std::size_t limit) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_unrouted_cases);
        bind_param(st, ":limit", limit);
        std::vector<case_record> out;
        while (st.executeStep()) out.push_back(read_case(db_, st));
        return out;
    });
}

std::optional<session_record> sqlite_cases::case_session(long long case_id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<session_record> {
        auto& st = c.cached(sql_case_session);
        bind_param(st, ":case_id", case_id);
        if (!st.executeStep()) return std::nullopt;
        return read_session(db_, st);
    });
}

}  // namespace gw::store::sqlite

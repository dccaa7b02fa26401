// Cases, exactly as she gave them: her number, details and the session's
// transcript sealed; looked up by reference or by the event that made them.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {

const char case_columns[] =
    "id, reference, origin_key, phone_sealed, channel, language, topic, subtopic, oblast, "
    "target_group, details, consent, urgent, safe_to_call, status, created_at, notify_sms, "
    "session_id, assigned_to, outcome, closed_at, sms_channel, transcript, contact, call_time";

namespace {

const statement sql_case_by_origin{std::string("SELECT ") + case_columns +
                                   " FROM cases WHERE origin_key = :origin_key"};
// Any clash (this event already stored, on this node or another, or the
// code taken) inserts nothing; the case of this event is then looked up.
const statement sql_insert_case{
    "INSERT INTO cases (reference, origin_key, phone, channel, language, topic, subtopic, "
    "oblast, target_group, details, consent, urgent, safe_to_call, status, created_at, "
    "notify_sms, phone_sealed, session_id, needs_hotline, sms_channel, transcript, contact, "
    "call_time, phone_ending) VALUES (:reference, :origin_key, :phone, :channel, :language, "
    ":topic, "
    ":subtopic, :oblast, :target_group, :details::bytea, :consent::integer, :urgent::integer, "
    ":safe_to_call::integer, :status, :created_at::bigint, :notify_sms::integer, "
    ":phone_sealed::bytea, :session_id, :needs_hotline::integer, :sms_channel, "
    ":transcript::bytea, :contact, :call_time, :phone_ending) ON CONFLICT DO NOTHING RETURNING id"};
const statement sql_case_by_reference{std::string("SELECT ") + case_columns +
                                      " FROM cases WHERE reference = :reference"};
const statement sql_case_by_id{std::string("SELECT ") + case_columns +
                               " FROM cases WHERE id = :id::bigint"};
const statement sql_cases_by_phone_ending{
    std::string("SELECT ") + case_columns +
    " FROM cases WHERE phone_ending = :phone_ending ORDER BY id DESC LIMIT :limit::bigint"};
const statement sql_count_cases{"SELECT count(*) AS n FROM cases"};
const statement sql_unrouted_cases{
    std::string("SELECT ") + case_columns +
    " FROM cases WHERE NOT EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id) "
    "ORDER BY id LIMIT :limit::bigint"};
const statement sql_case_session{
    std::string("SELECT ") + session_columns +
    " FROM sessions WHERE id = (SELECT session_id FROM cases WHERE id = :case_id::bigint AND "
    "session_id <> '')"};

}  // namespace

case_record read_case(const database& db, const pqxx::row& row) {
    case_record c;
    c.id = row["id"].as<long long>();
    c.reference = row["reference"].as<std::string>();
    c.origin_key = row["origin_key"].as<std::string>();
    c.phone = db.unseal(row["phone_sealed"]);
    c.channel = row["channel"].as<std::string>();
    c.language = row["language"].as<std::string>();
    c.topic = row["topic"].as<std::string>();
    c.subtopic = row["subtopic"].as<std::string>();
    c.oblast = row["oblast"].as<std::string>();
    c.target_group = row["target_group"].as<std::string>();
    c.details = db.unseal(row["details"]);
    c.consent = row["consent"].as<int>() != 0;
    c.urgent = row["urgent"].as<int>() != 0;
    if (!row["safe_to_call"].is_null()) c.safe_to_call = row["safe_to_call"].as<int>() != 0;
    c.status = stored_case_status(row["status"].as<std::string>());
    c.created_at = row["created_at"].as<long long>();
    c.notify_sms = row["notify_sms"].as<int>() != 0;
    c.session_id = row["session_id"].as<std::string>();
    c.assigned_to = row["assigned_to"].as<std::string>();
    c.outcome = db.unseal(row["outcome"]);
    c.closed_at = row["closed_at"].as<long long>();
    c.sms_channel = row["sms_channel"].as<std::string>();
    c.transcript = db.unseal(row["transcript"]);
    c.contact = row["contact"].as<std::string>();
    c.call_time = row["call_time"].as<std::string>();
    return c;
}

namespace {

// Inside a write: inserts the case; its id, or nothing when the event is
// already stored or the reference taken. `session`: session_lookup(db, c).
std::optional<long long> put_case(database& db, unit& u, const new_case& c,
                                  const std::string& reference, long long now,
                                  const std::string& session) {
    auto inserted =
        u.exec(sql_insert_case, params()
                                    .set(":reference", reference)
                                    .set(":origin_key", c.origin_key)
                                    .set(":phone", db.lookup_hash(c.phone))
                                    .set(":channel", c.channel)
                                    .set(":language", c.language)
                                    .set(":topic", c.topic)
                                    .set(":subtopic", c.subtopic)
                                    .set(":oblast", c.oblast)
                                    .set(":target_group", c.target_group)
                                    .set(":details", db.sealed(c.details))
                                    .set(":consent", c.consent)
                                    .set(":urgent", c.urgent)
                                    .set(":safe_to_call", c.safe_to_call)
                                    .set(":status", c.status)
                                    .set(":created_at", now)
                                    .set(":notify_sms", c.notify_sms)
                                    .set(":phone_sealed", db.sealed(c.phone))
                                    .set(":session_id", session)
                                    .set(":needs_hotline", c.needs_hotline)
                                    .set(":sms_channel", c.sms_channel)
                                    .set(":transcript", db.sealed(c.transcript))
                                    .set(":contact", c.contact)
                                    .set(":call_time", c.call_time)
                                    .set(":phone_ending", db.number_ending_hash(c.phone)));
    if (inserted.empty()) return std::nullopt;
    return inserted[0]["id"].as<long long>();
}

}  // namespace

std::optional<created_case> pg_cases::create_case_with(const new_case& c,
                                                       const std::string& reference, long long now,
                                                       const written_with_case& with) {
    // Committed and on the server's disk before this returns.
    return db_.write(
        __func__,
        [&](unit& u) -> std::optional<created_case> {
            std::string session = session_lookup(db_, c);
            if (auto id = put_case(db_, u, c, reference, now, session)) {
                created_case made{as_inserted(c, *id, reference, now, std::move(session)), true};
                if (with.referral) {
                    first_referral routed = *with.referral;
                    routed.referral.case_id = *id;
                    put_referral(db_, u, routed);
                }
                if (with.session) put_session(db_, u, *with.session);
                u.commit();
                return made;
            }
            auto r = u.exec(sql_case_by_origin, params().set(":origin_key", c.origin_key));
            if (r.empty()) return std::nullopt;  // the reference was taken: draw another
            u.commit();
            return created_case{read_case(db_, r[0]), false};  // a retry: stored before
        },
        /*durable=*/true);
}

std::optional<case_record> pg_cases::find_case(const std::string& reference) {
    return db_.read(__func__, [&](unit& u) -> std::optional<case_record> {
        auto r = u.exec(sql_case_by_reference, params().set(":reference", reference));
        if (r.empty()) return std::nullopt;
        return read_case(db_, r[0]);
    });
}

std::optional<case_record> pg_cases::find_case_by_id(long long id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<case_record> {
        auto r = u.exec(sql_case_by_id, params().set(":id", id));
        if (r.empty()) return std::nullopt;
        return read_case(db_, r[0]);
    });
}

std::vector<case_record> pg_cases::find_cases_by_number_ending(const std::string& digits,
                                                               std::size_t limit) {
    const std::string ending = db_.number_ending_hash(digits);
    if (ending.empty()) return {};
    return db_.read(__func__, [&](unit& u) {
        std::vector<case_record> out;
        for (const auto& row : u.exec(sql_cases_by_phone_ending,
                                      params().set(":phone_ending", ending).set(":limit", limit)))
            out.push_back(read_case(db_, row));
        return out;
    });
}

std::size_t pg_cases::count_cases() {
    return db_.read(__func__,
                    [&](unit& u) { return u.exec(sql_count_cases)[0]["n"].as<std::size_t>(); });
}

std::vector<case_record> pg_cases::unrouted_cases(std::size_t limit) {
    return db_.read(__func__, [&](unit& u) {
        std::vector<case_record> out;
        for (const auto& row : u.exec(sql_unrouted_cases, params().set(":limit", limit)))
            out.push_back(read_case(db_, row));
        return out;
    });
}

std::optional<session_record> pg_cases::case_session(long long case_id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<session_record> {
        auto r = u.exec(sql_case_session, params().set(":case_id", case_id));
        if (r.empty()) return std::nullopt;
        return read_session(db_, r[0]);
    });
}

}  // namespace gw::store::postgres

// What aggregators deliver: her messages (each recorded once cluster-wide,
// by the aggregator's id), delivery reports (kept even when they overtake
// the send's answer) and her "do not SMS" flag.
#include "store/postgres/aggregates.hpp"

namespace gw::store::postgres {
namespace {

const statement sql_lock_provider_id{
    "SELECT pg_advisory_xact_lock(hashtext(:channel::text || ':' || :provider_id::text))"};
const statement sql_find_inbound{
    "SELECT aggregator, message_id, phone, reply, received_at FROM inbound_messages "
    "WHERE aggregator = :aggregator AND message_id = :message_id"};
const statement sql_put_inbound{
    "INSERT INTO inbound_messages (aggregator, message_id, phone, reply, received_at) "
    "VALUES (:aggregator, :message_id, :phone::bytea, :reply, :received_at::bigint) "
    "ON CONFLICT DO NOTHING"};
const statement sql_get_no_sms{"SELECT no_sms FROM subscribers WHERE phone = :phone"};
const statement sql_put_no_sms{
    "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) VALUES (:phone, "
    ":no_sms::integer, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint) "
    "ON CONFLICT (phone) DO UPDATE SET no_sms = excluded.no_sms, "
    "updated_at = excluded.updated_at"};
const statement sql_outbox_by_provider{
    "SELECT id FROM outbox WHERE channel = :channel AND provider_id = :provider_id AND "
    "provider_id <> ''"};
const statement sql_put_report{
    "INSERT INTO delivery_reports (outbox_id, channel, provider_id, status, detail, "
    "received_at) VALUES (:outbox_id::bigint, :channel, :provider_id, :status, :detail, "
    ":received_at::bigint)"};
const statement sql_set_outbox_reported{
    "UPDATE outbox SET status = :status, updated_at = :now::bigint WHERE id = :id::bigint AND "
    "status IN ('sent', 'delivered', 'failed')"};
const statement sql_opt_out_recipient{
    "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) SELECT recipient, 1, "
    "extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint FROM outbox "
    "WHERE channel = :channel AND provider_id = :provider_id AND provider_id <> '' AND "
    "recipient <> '' LIMIT 1 "
    "ON CONFLICT (phone) DO UPDATE SET no_sms = 1, updated_at = excluded.updated_at"};

}  // namespace

void lock_provider_id(unit& u, const std::string& channel, const std::string& provider_id) {
    u.exec(sql_lock_provider_id,
           params().set(":channel", channel).set(":provider_id", provider_id));
}

void set_reported_status(unit& u, long long outbox_id, message_status status, long long now) {
    u.exec(sql_set_outbox_reported,
           params().set(":id", outbox_id).set(":status", status).set(":now", now));
}

std::optional<inbound_record> pg_inbound::find_inbound(const std::string& aggregator,
                                                       const std::string& message_id) {
    return db_.read(__func__, [&](unit& u) -> std::optional<inbound_record> {
        auto r = u.exec(sql_find_inbound,
                        params().set(":aggregator", aggregator).set(":message_id", message_id));
        if (r.empty()) return std::nullopt;
        return inbound_record{r[0]["aggregator"].as<std::string>(),
                              r[0]["message_id"].as<std::string>(), db_.unseal(r[0]["phone"]),
                              r[0]["reply"].as<std::string>(), r[0]["received_at"].as<long long>()};
    });
}

bool pg_inbound::commit_inbound(const inbound_record& in, const session_record* session,
                                const std::vector<outbound_message>& outbox) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_put_inbound, params()
                                             .set(":aggregator", in.aggregator)
                                             .set(":message_id", in.message_id)
                                             .set(":phone", db_.sealed(in.phone))
                                             .set(":reply", in.reply)
                                             .set(":received_at", in.received_at));
        if (r.affected_rows() == 0) return false;  // seen before, here or on another node
        if (session) put_session(db_, u, *session);
        for (const auto& m : outbox) put_outbound(db_, u, m);
        u.commit();
        return true;
    });
}

bool pg_inbound::no_sms(const std::string& phone) {
    return db_.read(__func__, [&](unit& u) {
        auto r = u.exec(sql_get_no_sms, params().set(":phone", db_.lookup_hash(phone)));
        return !r.empty() && r[0]["no_sms"].as<int>() != 0;
    });
}

void pg_inbound::set_no_sms(const std::string& phone, bool value) {
    db_.write(__func__, [&](unit& u) {
        u.exec(sql_put_no_sms,
               params().set(":phone", db_.lookup_hash(phone)).set(":no_sms", value));
        u.commit();
    });
}

bool pg_inbound::record_delivery_report(const std::string& channel, const std::string& provider_id,
                                        message_status status, const std::string& detail,
                                        long long now) {
    return db_.write(__func__, [&](unit& u) {
        lock_provider_id(u, channel, provider_id);
        auto found = u.exec(sql_outbox_by_provider,
                            params().set(":channel", channel).set(":provider_id", provider_id));
        std::optional<long long> id;
        if (!found.empty()) id = found[0]["id"].as<long long>();
        // Not (yet) known: kept without a message; mark_sent applies it
        // when the id arrives.
        params p;
        if (id)
            p.set(":outbox_id", *id);
        else
            p.null(":outbox_id");
        u.exec(sql_put_report, p.set(":channel", channel)
                                   .set(":provider_id", provider_id)
                                   .set(":status", status)
                                   .set(":detail", detail)
                                   .set(":received_at", now));
        if (id && is_final_report(status)) set_reported_status(u, *id, status, now);
        u.commit();
        return id.has_value();
    });
}

bool pg_inbound::opt_out_recipient_of(const std::string& channel, const std::string& provider_id) {
    return db_.write(__func__, [&](unit& u) {
        auto r = u.exec(sql_opt_out_recipient,
                        params().set(":channel", channel).set(":provider_id", provider_id));
        u.commit();
        return r.affected_rows() > 0;
    });
}

}  // namespace gw::store::postgres

// What aggregators deliver: her messages (each recorded once, by the
// aggregator's id), delivery reports (kept even when they overtake the
// send's answer) and her "do not SMS" flag.
#include "store/sqlite/aggregates.hpp"

namespace gw::store::sqlite {
namespace {

const std::string sql_find_inbound =
    "SELECT aggregator, message_id, phone, reply, received_at FROM inbound_messages "
    "WHERE aggregator = :aggregator AND message_id = :message_id";
const std::string sql_put_inbound =
    "INSERT INTO inbound_messages (aggregator, message_id, phone, reply, received_at) "
    "VALUES (:aggregator, :message_id, :phone, :reply, :received_at) ON CONFLICT DO NOTHING";
const std::string sql_get_no_sms = "SELECT no_sms FROM subscribers WHERE phone = :phone";
const std::string sql_put_no_sms =
    "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) "
    "VALUES (:phone, :no_sms, strftime('%s','now'), strftime('%s','now')) "
    "ON CONFLICT (phone) DO UPDATE SET no_sms = excluded.no_sms, "
    "updated_at = excluded.updated_at";
const std::string sql_outbox_by_provider =
    "SELECT id FROM outbox WHERE channel = :channel AND provider_id = :provider_id AND "
    "provider_id <> ''";
const std::string sql_put_report =
    "INSERT INTO delivery_reports (outbox_id, channel, provider_id, status, detail, "
    "received_at) VALUES (:outbox_id, :channel, :provider_id, :status, :detail, :received_at)";
const std::string sql_set_outbox_reported =
    "UPDATE outbox SET status = :status, updated_at = :now WHERE id = :id AND "
    "status IN ('sent', 'delivered', 'failed')";
const std::string sql_opt_out_recipient =
    "INSERT INTO subscribers (phone, no_sms, created_at, updated_at) SELECT recipient, 1, "
    "strftime('%s','now'), strftime('%s','now') FROM outbox WHERE channel = :channel AND "
    "provider_id = :provider_id AND provider_id <> '' AND recipient <> '' LIMIT 1 "
    "ON CONFLICT (phone) DO UPDATE SET no_sms = 1, updated_at = excluded.updated_at";

}  // namespace

void set_reported_status(database& db, long long outbox_id, message_status status, long long now) {
    auto& st = db.cached(sql_set_outbox_reported);
    bind_param(st, ":id", outbox_id);
    bind_param(st, ":status", status);
    bind_param(st, ":now", now);
    st.exec();
}

std::optional<inbound_record> sqlite_inbound::find_inbound(const std::string& aggregator,
                                                           const std::string& message_id) {
    return db_.read(__func__, [&](connection& c) -> std::optional<inbound_record> {
        auto& st = c.cached(sql_find_inbound);
        bind_param(st, ":aggregator", aggregator);
        bind_param(st, ":message_id", message_id);
        if (!st.executeStep()) return std::nullopt;
        return inbound_record{st.getColumn("aggregator").getString(),
                              st.getColumn("message_id").getString(),
                              db_.unseal(st.getColumn("phone")), st.getColumn("reply").getString(),
                              st.getColumn("received_at").getInt64()};
    });
}

bool sqlite_inbound::commit_inbound(const inbound_record& in, const session_record* session,
                                    const std::vector<outbound_message>& outbox) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_put_inbound);
        bind_param(st, ":aggregator", in.aggregator);
        bind_param(st, ":message_id", in.message_id);
        db_.bind_sealed(st, ":phone", in.phone);
        bind_param(st, ":reply", in.reply);
        bind_param(st, ":received_at", in.received_at);
        if (st.exec() == 0) return false;  // seen before: roll back
        if (session) put_session(db_, *session);
        for (const auto& m : outbox) put_outbound(db_, m);
        tx.commit();
        return true;
    });
}

bool sqlite_inbound::no_sms(const std::string& phone) {
    return db_.read(__func__, [&](connection& c) {
        auto& st = c.cached(sql_get_no_sms);
        bind_param(st, ":phone", db_.lookup_hash(phone));
        return st.executeStep() && st.getColumn("no_sms").getInt() != 0;
    });
}

void sqlite_inbound::set_no_sms(const std::string& phone, bool value) {
    db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_put_no_sms);
        bind_param(st, ":phone", db_.lookup_hash(phone));
        bind_param(st, ":no_sms", value);
        st.exec();
        tx.commit();
    });
}

bool sqlite_inbound::record_delivery_report(const std::string& channel,
                                            const std::string& provider_id, message_status status,
                                            const std::string& detail, long long now) {
    return db_.write(__func__, [&](unit_tx& tx) {
        std::optional<long long> id;
        {
            auto& find = db_.cached(sql_outbox_by_provider);
            bind_param(find, ":channel", channel);
            bind_param(find, ":provider_id", provider_id);
            if (find.executeStep()) id = find.getColumn("id").getInt64();
            find.reset();
        }
        // Not (yet) known: kept without a message; mark_sent applies it
        // when the id arrives.
        auto& put = db_.cached(sql_put_report);
        if (id)
            bind_param(put, ":outbox_id", *id);
        else
            put.bind(":outbox_id");
        bind_param(put, ":channel", channel);
        bind_param(put, ":provider_id", provider_id);
        bind_param(put, ":status", status);
        bind_param(put, ":detail", detail);
        bind_param(put, ":received_at", now);
        put.exec();
        if (id && is_final_report(status)) set_reported_status(db_, *id, status, now);
        tx.commit();
        return id.has_value();
    });
}

bool sqlite_inbound::opt_out_recipient_of(const std::string& channel,
                                          const std::string& provider_id) {
    return db_.write(__func__, [&](unit_tx& tx) {
        auto& st = db_.cached(sql_opt_out_recipient);
        bind_param(st, ":channel", channel);
        bind_param(st, ":provider_id", provider_id);
        const bool found = st.exec() > 0;
        tx.commit();
        return found;
    });
}

}  // namespace gw::store::sqlite

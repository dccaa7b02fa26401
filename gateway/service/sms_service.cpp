#include "service/sms_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/text.hpp"
#include "service/case_from_session.hpp"
#include "service/menu_actions.hpp"
#include "service/session_codec.hpp"

namespace gw::service {
namespace {

bool is_keyword(const std::string& folded, const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(),
                       [&](const std::string& w) { return fold_case(w) == folded; });
}

}  // namespace

sms_service::sms_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                         phone_normalizer phones, const clock_source& clock, sms_settings settings)
    : engine_(std::move(engine)),
      store_(store),
      phones_(std::move(phones)),
      clock_(clock),
      settings_(std::move(settings)),
      per_number_(settings_.per_number_limit, settings_.per_number_window_s),
      per_channel_(settings_.per_channel_limit, settings_.per_channel_window_s) {}

std::optional<std::string> sms_service::handle(const sms_in& in, bool reply_in_response) {
    std::lock_guard lock(mutex_);
    const long long now = to_unix_seconds(clock_.now());

    if (auto seen = store_.find_inbound(in.channel, in.message_id)) {
        ++counters_.duplicates;
        if (reply_in_response && !seen->reply.empty()) return seen->reply;
        return std::nullopt;
    }
    store::inbound_record record{in.channel, in.message_id, "", "", now};

    auto phone = phones_.to_e164(in.from);
    if (!phone) {
        ++counters_.bad_numbers;
        spdlog::warn("sms/{}: unusable sender {} ignored", in.channel, mask_phone(in.from));
        store_.commit_inbound(record, nullptr, {});
        return std::nullopt;
    }
    record.phone = *phone;
    // Both windows count the message, whichever refuses it.
    bool number_ok = true;
    if (settings_.shared_limits && settings_.per_number_limit > 0) {
        const long long window = now - now % std::max(1LL, settings_.per_number_window_s);
        try {
            number_ok = store_.count_event("sms-number:" + *phone, window) <=
                        static_cast<long long>(settings_.per_number_limit);
        } catch (const store::store_error&) {
            // Recording the message below meets the same trouble and says so.
        }
    } else {
        number_ok = per_number_.allow(*phone, now);
    }
    bool channel_ok = per_channel_.allow(in.channel, now);
    if (!number_ok || !channel_ok) {
        ++counters_.rate_limited;
        spdlog::warn("sms/{}: rate limit ({}) for {}, no reply", in.channel,
                     number_ok ? "channel" : "number", mask_phone(*phone));
        store_.commit_inbound(record, nullptr, {});
        return std::nullopt;
    }

    const std::string folded = fold_case(trim(in.text));
    if (is_keyword(folded, settings_.stop_keywords)) {
        ++counters_.stopped;
        store_.set_no_sms(*phone, true);
        spdlog::info("sms/{}: {} asked for no more SMS", in.channel, mask_phone(*phone));
        store_.commit_inbound(record, nullptr, {});
        return std::nullopt;
    }

    if (command_handler_) {
        if (auto command = command_handler_(*phone, std::string(trim(in.text)))) {
            if (!command->reply) {
                store_.commit_inbound(record, nullptr, {});
                return std::nullopt;
            }
            return finish(in, record, *phone, *command->reply, nullptr, reply_in_response,
                          "command_reply");
        }
    }

    store::session_record session;
    std::string reply = respond(in, *phone, session);
    ++counters_.processed;
    return finish(in, record, *phone, reply, &session, reply_in_response, "menu_reply");
}

// Records the message with its session and reply in one transaction.
std::optional<std::string> sms_service::finish(const sms_in& in, store::inbound_record& record,
                                               const std::string& phone, const std::string& reply,
                                               const store::session_record* session,
                                               bool reply_in_response, const std::string& purpose) {
    const long long now = record.received_at;
    const bool silent = store_.no_sms(phone);
    std::vector<store::outbound_message> outbox;
    if (!reply_in_response && !silent) {
        store::outbound_message m;
        m.channel = in.channel;
        m.recipient = phone;
        m.body = reply;
        m.purpose = purpose;
        m.next_attempt_at_ms = now * 1000;
        m.created_at = now;
        outbox.push_back(std::move(m));
    }
    if (reply_in_response && !silent) record.reply = reply;
    if (!store_.commit_inbound(record, session, outbox)) {
        ++counters_.duplicates;  // a concurrent delivery of the same message won
        return std::nullopt;
    }
    if (!outbox.empty() && on_queued_) on_queued_();
    if (reply_in_response && !silent) return reply;
    return std::nullopt;
}

std::string sms_service::respond(const sms_in& in, const std::string& phone,
                                 store::session_record& rec) {
    const auto engine_ = engine();  // one menu for the whole message, even across a reload
    const long long now = to_unix_seconds(clock_.now());
    const std::string key = "sms:" + phone;
    const std::string text(trim(in.text));
    const bool start_word = is_keyword(fold_case(text), settings_.start_keywords);
    if (start_word && store_.no_sms(phone)) store_.set_no_sms(phone, false);  // she asked again

    std::string known_language = store_.subscriber_language(phone).value_or("");
    menu::session_state state;
    bool live = false;
    rec = {key, phone, "sms", "", store::session_status::active, now, now};
    auto old = store_.find_session(key);
    const bool first_contact = !old && known_language.empty();
    if (!start_word) {
        if (old && old->status == store::session_status::active &&
            now - old->updated_at <= settings_.idle_timeout.count()) {
            try {
                state = decode_state(old->state).engine;
                rec.started_at = old->started_at;
                live = !state.finished;
            } catch (const std::exception&) {
            }
        }
    }

    menu::step st;
    if (!live) {
        // A keyword, a first message, or an old session: the menu from the top.
        st = engine_->start(state, known_language);
    } else if (text.size() > settings_.max_text_bytes || !is_valid_utf8(text)) {
        st.out = engine_->reject(state, "invalid_option");
    } else {
        st = engine_->input(state, text);
    }
    if (!state.language.empty() && state.language != known_language)
        store_.set_subscriber_language(phone, state.language);

    menu::reply out = st.out;
    if (st.action && (st.action->kind == "lookup_case" || st.action->kind == "send_info_sms")) {
        // In an SMS session "SMS me this" is the reply itself: no channel of its own.
        try {
            out = *run_status_action(store_, *engine_, state, *st.action, phone, {}, now, {});
        } catch (const store::store_error& e) {
            spdlog::error("sms/{}: {} failed: {}", in.channel, st.action->kind, e.what());
            out = engine_->fail_action(state);
        }
    } else if (st.action) {
        auto c = case_from_session(
            *st.action, state, "sms",
            "sms:" + in.channel + ":" + in.message_id + ":" + st.action->screen_id, phone,
            engine_->layout().source().default_language);
        c.session_id = key;
        c.sms_channel = in.channel;
        try {
            const store::case_record stored = store_case_(c, now, {}).record;
            spdlog::info("sms/{}: case {} stored (topic {}, urgent {}, phone {})", in.channel,
                         stored.reference, stored.topic, stored.urgent, mask_phone(phone));
            out = engine_->complete_action(state, stored.reference);
        } catch (const store::store_error& e) {
            spdlog::error("sms/{}: case NOT stored, told her to try later: {}", in.channel,
                          e.what());
            out = engine_->fail_action(state);
        }
    }
    rec.state = encode_state({state, {}});
    rec.status = out.end ? store::session_status::finished : store::session_status::active;
    if (first_contact) {
        // The first SMS to a number says that SMS stay on the phone, and how to stop them.
        const std::string& notice = engine_->ui(state, "sms_first_notice");
        if (!notice.empty()) return notice + "\n" + out.text;
    }
    return out.text;
}

}  // namespace gw::service

#include "service/outbox_worker.hpp"

#include "common/log.hpp"
#include "common/phone.hpp"

namespace gw::service {

outbox_worker::outbox_worker(store::store& store, http_transport& transport,
                             std::map<std::string, outbox_channel> channels,
                             const clock_source& clock, outbox_settings settings)
    : store_(store),
      transport_(transport),
      channels_(std::move(channels)),
      clock_(clock),
      settings_(settings) {
    // One lane per SMS channel; webhooks (and channels no longer
    // configured, whose messages die there) share the last one.
    store::channel_filter rest;
    for (const auto& [name, ch] : channels_) {
        if (name.rfind("webhook:", 0) == 0) continue;
        lanes_.push_back({{name}, {}});
        rest.except.push_back(name);
    }
    lanes_.push_back(std::move(rest));
}

outbox_worker::~outbox_worker() {
    stop();
}

void outbox_worker::start() {
    std::size_t requeued = store_.requeue_unfinished();
    if (requeued > 0)
        spdlog::warn("outbox: {} message(s) interrupted by a stop, queued again", requeued);
    woken_.assign(lanes_.size(), 0);
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        threads_.emplace_back([this, i] {
            const auto& lane = lanes_[i];
            for (;;) {
                try {
                    while (run_lane(lane) > 0) {
                        std::lock_guard lock(mutex_);
                        if (stopping_) break;
                    }
                } catch (const std::exception& e) {
                    spdlog::error("outbox: pass failed, will retry: {}", e.what());
                }
                std::unique_lock lock(mutex_);
                wakeup_.wait_for(lock, settings_.poll_interval,
                                 [this, i] { return stopping_ || woken_[i]; });
                woken_[i] = 0;
                if (stopping_) return;
            }
        });
    }
}

void outbox_worker::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wakeup_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void outbox_worker::wake() {
    {
        std::lock_guard lock(mutex_);
        for (auto& w : woken_) w = 1;
    }
    wakeup_.notify_all();
}

std::chrono::milliseconds outbox_worker::backoff(int attempts) {
    std::lock_guard lock(random_mutex_);  // lanes share the generator
    double delay = static_cast<double>(settings_.base_delay.count());
    for (int i = 1; i < attempts && delay < settings_.max_delay.count(); ++i) delay *= 2;
    delay = std::min(delay, static_cast<double>(settings_.max_delay.count()));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(static_cast<long long>(delay * jitter(random_)));
}

std::size_t outbox_worker::run_once() {
    return run_lane({});
}

std::size_t outbox_worker::run_lane(const store::channel_filter& lane) {
    auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
            .count();
    auto due = store_.claim_due_outbound(now_ms, settings_.batch, lane);
    for (const auto& m : due) attempt(m);
    return due.size();
}

void outbox_worker::attempt(const store::outbound_message& m) {
    const long long now = to_unix_seconds(clock_.now());
    const int attempts = m.attempts + 1;
    auto ch = channels_.find(m.channel);
    if (ch == channels_.end() || (ch->second.settings.send_url.empty() && !ch->second.send)) {
        store_.mark_dead(m.id, attempts, "no outbound API configured for " + m.channel, now);
        spdlog::error("outbox: message {} dead: channel {} cannot send", m.id, m.channel);
        return;
    }
    if (store_.no_sms(m.recipient)) {
        store_.mark_dead(m.id, m.attempts, "recipient asked for no SMS", now);
        return;
    }
    domain::send_outcome out;
    if (ch->second.send) {
        out = ch->second.send(m, settings_.request_timeout);
    } else {
        const auto& adapter = *ch->second.adapter;
        transport_result r =
            transport_.send(adapter.build_send(m, ch->second.settings), settings_.request_timeout);
        out = r.status == 0 ? domain::send_outcome{domain::send_outcome::retry, "",
                                                   m.channel + ": " + r.error}
                            : adapter.read_send_response(r.status, r.body, m);
    }
    switch (out.kind) {
        case domain::send_outcome::sent:
            store_.mark_sent(m.id, out.provider_id, now);
            spdlog::info("outbox: message {} sent via {} to {}", m.id, m.channel,
                         mask_phone(m.recipient));
            return;
        case domain::send_outcome::retry:
            if (attempts < settings_.max_attempts) {
                auto delay = backoff(attempts);
                auto next = std::chrono::duration_cast<std::chrono::milliseconds>(
                                clock_.now().time_since_epoch())
                                .count() +
                            delay.count();
                store_.mark_retry(m.id, attempts, next, out.error, now);
                // An aggregator outage fails every message at every attempt:
                // warn at attempts 1, 2, 4, 8, ... and keep the rest for debug.
                const auto level =
                    (attempts & (attempts - 1)) == 0 ? spdlog::level::warn : spdlog::level::debug;
                spdlog::log(level, "outbox: message {} attempt {} failed ({}), retry in {} ms",
                            m.id, attempts, out.error, delay.count());
                return;
            }
            [[fallthrough]];
        case domain::send_outcome::reject:
            if (out.recipient_opted_out) {
                // As if she had sent STOP to us: nothing more goes to her
                // (other queued messages die unsent) until she writes again.
                store_.set_no_sms(m.recipient, true);
                spdlog::warn("outbox: {} opted out at {}: no more SMS to that number",
                             mask_phone(m.recipient), m.channel);
            }
            store_.mark_dead(m.id, attempts, out.error, now);
            spdlog::error("outbox: message {} dead after {} attempt(s): {}", m.id, attempts,
                          out.error);
            return;
    }
}

}  // namespace gw::service

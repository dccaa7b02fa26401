#pragma once
// One inbound SMS, aggregator-neutral: processed once per aggregator
// message id, rate-limited per number and per channel, walked through the
// same menus as USSD (laid out for SMS), with the reply either returned
// for the HTTP response or queued in the outbox in the same transaction
// that records the message. Keywords start the menu or stop all SMS.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/phone.hpp"
#include "menu/engine.hpp"
#include "service/case_from_session.hpp"
#include "service/rate_limiter.hpp"
#include "service/sms_command.hpp"
#include "store/store.hpp"

namespace gw::service {

struct sms_settings {
    std::chrono::seconds idle_timeout{24 * 3600};
    std::vector<std::string> start_keywords{"help", "жардам", "помощь", "komek", "pomosh"};
    std::vector<std::string> stop_keywords{"stop", "стоп", "токтот"};
    std::size_t max_text_bytes = 1600;
    std::size_t per_number_limit = 30;  // messages per window, 0 = none
    long long per_number_window_s = 3600;
    std::size_t per_channel_limit = 600;
    long long per_channel_window_s = 60;
    // Several nodes share the store: her messages are counted there, so
    // the per-number limit holds across nodes (windows aligned to the clock).
    bool shared_limits = false;
};

struct sms_in {
    std::string channel;  // adapter name
    std::string message_id;
    std::string from;
    std::string text;
};

struct sms_counters {
    std::atomic<std::size_t> processed{0}, duplicates{0}, rate_limited{0}, bad_numbers{0},
        stopped{0};
};

class sms_service {
  public:
    sms_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                phone_normalizer phones, const clock_source& clock, sms_settings settings);

    // Returns the reply to put in the HTTP response when `reply_in_response`;
    // otherwise the reply is queued and nullopt returned. Throws store_error
    // when nothing could be recorded (the aggregator should retry).
    std::optional<std::string> handle(const sms_in& in, bool reply_in_response);

    // Commands that are not menu answers (a partner's "ACCEPT R-..."): the
    // handler answers what it understood, nothing for a menu answer.
    using command_handler = std::function<std::optional<command_answer>(const std::string& phone,
                                                                        const std::string& text)>;
    void on_command(command_handler f) { command_handler_ = std::move(f); }

    // How her cases are stored (the gateway routes them in the same
    // write); store_cases_alone until set.
    void store_cases_with(case_writer f) { store_case_ = std::move(f); }

    // Called after messages were queued (wakes the outbox worker).
    void on_queued(std::function<void()> f) { on_queued_ = std::move(f); }
    const sms_counters& counters() const { return counters_; }
    // Swaps in a new menu (reload); sessions go on where their screen still exists.
    void set_engine(std::shared_ptr<const menu::engine> engine) {
        std::lock_guard lock(engine_mutex_);
        engine_ = std::move(engine);
    }

  private:
    std::string respond(const sms_in& in, const std::string& phone, store::session_record& rec);
    std::optional<std::string> finish(const sms_in& in, store::inbound_record& record,
                                      const std::string& phone, const std::string& reply,
                                      const store::session_record* session, bool reply_in_response,
                                      const std::string& purpose);

    std::shared_ptr<const menu::engine> engine() const {
        std::lock_guard lock(engine_mutex_);
        return engine_;
    }

    mutable std::mutex engine_mutex_;
    std::shared_ptr<const menu::engine> engine_;
    store::store& store_;
    phone_normalizer phones_;
    const clock_source& clock_;
    sms_settings settings_;
    std::mutex mutex_;
    rate_limiter per_number_, per_channel_;
    sms_counters counters_;
    std::function<void()> on_queued_;
    command_handler command_handler_;
    case_writer store_case_ = store_cases_alone(store_);  // after store_
};

}  // namespace gw::service

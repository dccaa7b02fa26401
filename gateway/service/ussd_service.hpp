#pragma once
// One USSD hop, aggregator-neutral: finds or creates the session, works
// out the new inputs from the cumulative `text`, drives the menu engine,
// performs its actions against the store, and answers with a screen.
// Sessions live in memory; the first hop is written through and later
// ones behind, each record holding a state with the inputs that led to
// it, so a restart (or another node) replays what the record missed.
// A session belongs to (aggregator, session id, normalised number).
// Thread-safe.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.hpp"
#include "common/phone.hpp"
#include "menu/engine.hpp"
#include "service/menu_actions.hpp"
#include "store/store.hpp"

namespace gw::service {

struct ussd_request {
    std::string aggregator;  // adapter name: keeps session ids of aggregators apart
    std::string session_id;
    std::string phone;  // as received
    std::string service_code;
    std::string network_code;
    std::string text;  // all inputs so far joined by '*' (stepwise: this hop's input)
    // SMPP gateways send each answer alone, not the inputs so far: `text`
    // is then this hop's input only (the first hop still carries what was
    // dialled after the code). Such sessions are written through at every
    // hop, since no later hop could tell what a restored state missed.
    bool stepwise = false;
    // The caller makes the state durable (flush_sessions()) before it
    // answers her, for a whole batch of hops at once: nothing is written
    // here, whatever the hop. A failed flush is answered with
    // store_failure_reply() for each hop of the batch.
    bool caller_flushes = false;
};

struct ussd_reply {
    std::string text;
    bool end = false;
};

struct ussd_settings {
    std::chrono::seconds idle_timeout{180};
    std::chrono::seconds resume_window{300};
    std::size_t max_input_bytes = 480;  // longer input is refused as invalid
    // Session state is written behind, at most this long after a hop, in
    // one transaction for all sessions that moved (0: at every hop). A crash
    // loses at most this much session progress, never a case.
    std::chrono::milliseconds session_flush{0};
    std::size_t max_inputs = 64;  // a session with more inputs than this is refused
    info_sms_settings info_sms;   // "SMS me this" from an info screen
};

class ussd_service {
  public:
    ussd_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                 phone_normalizer phones, const clock_source& clock, ussd_settings settings);
    ~ussd_service();

    ussd_reply handle(const ussd_request& req);

    // Forgets sessions idle longer than the idle timeout (marks them
    // abandoned in the store, where they stay resumable). Returns how many.
    // Called with each case stored (for routing); must not throw.
    void on_case_created(std::function<void(const store::case_record&)> f) {
        on_case_created_ = std::move(f);
    }
    // Called when an action queued an SMS (wakes the outbox).
    void on_queued(std::function<void()> f) {
        std::lock_guard lock(mutex_);
        on_queued_ = std::move(f);
    }

    std::size_t expire_idle_sessions();
    // The network ended the dialogue (SMPP release): the session is over
    // for now and stays resumable like one she hung up on.
    void release(const std::string& aggregator, const std::string& session_id);
    std::size_t active_sessions() const;
    // Writes session state still waiting for the write-behind batch.
    void flush_sessions();
    // After a failed flush_sessions() for hops with caller_flushes: the
    // session is dropped and she is told to try later, in her language.
    ussd_reply store_failure_reply(const std::string& aggregator, const std::string& session_id);

    // Swaps in a new menu (reload); live sessions continue where possible.
    void set_engine(std::shared_ptr<const menu::engine> engine);

  private:
    struct live_session;

    ussd_reply hop(const ussd_request& req);
    ussd_reply start(live_session& s, const std::string& first_input);
    ussd_reply answer_resume_offer(live_session& s, const std::string& input);
    ussd_reply run_input(live_session& s, const std::string& input);
    ussd_reply perform(live_session& s, const menu::action_request& action);
    ussd_reply bad_number() const;
    ussd_reply in_all_languages(const std::string& ui_key) const;
    ussd_reply refuse_foreign_number(const ussd_request& req) const;
    ussd_reply resume_offer(const live_session& s, const std::string& error) const;
    void persist(live_session& s, bool finished, bool must_store = false, bool deferred = false);
    std::size_t expire_locked(long long now);
    void flush_locked();

    std::shared_ptr<const menu::engine> engine_;
    store::store& store_;
    phone_normalizer phones_;
    const clock_source& clock_;
    ussd_settings settings_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<live_session>> sessions_;
    long long last_sweep_ = 0;
    std::map<std::string, store::session_record> unsaved_;  // write-behind, by session id
    long long last_flush_ms_ = 0;
    std::function<void(const store::case_record&)> on_case_created_;
    std::function<void()> on_queued_;
};

}  // namespace gw::service

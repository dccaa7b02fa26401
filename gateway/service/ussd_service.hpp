#pragma once
// One USSD hop, aggregator-neutral: finds or creates the session, works
// out the new inputs from the cumulative `text`, drives the menu engine,
// performs its actions against the store, and answers with a screen.
// Sessions live in memory and are written behind, each record holding a
// state with the inputs that led to it, so a restart (or another node)
// replays what the record missed; a first hop that could not be replayed
// from nothing (a resume offer, an action) is written through.
// A session belongs to (aggregator, session id, normalised number).
//
// Thread model: hops of different sessions run at once, on whatever
// thread calls handle() (a worker) or answer_from_memory() (an I/O
// thread: it only try_locks and never waits); hops of one session run one
// after another.
// Locks, always taken in this order (never the other way round):
//   1. a session's own mutex, held for the whole hop, store calls included
//      (the aggregator waits for this hop's screen anyway);
//   2. its shard's mutex (which sessions exist), held only to find, add or
//      drop an entry: never across a store call;
//   3. flush_mutex_ (one write-behind flush at a time, so an older state
//      never overwrites a newer one), then unsaved_mutex_ (the batch). A
//      session written through waits only for a batch that holds its own
//      older state, never for flush_mutex_.
// The sweep of idle sessions only try_locks a session: a session in a hop
// is not idle. The menu engine is swapped atomically; a hop keeps the
// engine it started with.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/phone.hpp"
#include "domain/ussd.hpp"
#include "menu/engine.hpp"
#include "service/case_from_session.hpp"
#include "service/menu_actions.hpp"
#include "store/store.hpp"

namespace gw::service {

// What a USSD hop is and answers (domain/ussd.hpp), shared with adapters.
using domain::ussd_reply;
using domain::ussd_request;

struct ussd_settings {
    std::chrono::seconds idle_timeout{180};
    std::chrono::seconds resume_window{300};
    std::size_t max_input_bytes = 480;  // longer input is refused as invalid
    // Session state is written behind, at most this long after a hop, in
    // one transaction for all sessions that moved (0: at every hop). A crash
    // loses at most this much session progress, never a case.
    std::chrono::milliseconds session_flush{0};
    std::size_t max_inputs = 64;  // a session with more inputs than this is refused
    // Several gateway nodes share the store (PostgreSQL): her hops may
    // alternate between nodes, so each hop reads her session from the
    // store and writes it through before answering (session_flush ignored).
    bool shared_store = false;
    info_sms_settings info_sms;  // "SMS me this" from an info screen
};

class ussd_service {
  public:
    ussd_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                 phone_normalizer phones, const clock_source& clock, ussd_settings settings);
    ~ussd_service();

    ussd_reply handle(const ussd_request& req);
    // The same hop when it can be answered without waiting for anything:
    // her session is in memory and free, and the step is a menu move (no
    // case, no SMS, no store read; its state goes into the write-behind
    // batch). Otherwise nothing, and nothing changed: call handle(). Never
    // blocks, so it may run on an I/O thread.
    std::optional<ussd_reply> answer_from_memory(const ussd_request& req);

    // How her cases are stored (the gateway routes them in the same
    // write); store_cases_alone until set. Set before the first hop.
    void store_cases_with(case_writer f) { store_case_ = std::move(f); }
    // Called when an action queued an SMS (wakes the outbox). May change
    // while hops run.
    void on_queued(std::function<void()> f) {
        std::lock_guard lock(callbacks_mutex_);
        on_queued_ = std::make_shared<const std::function<void()>>(std::move(f));
    }

    // Forgets sessions idle longer than the idle timeout (marks them
    // abandoned in the store, where they stay resumable). Returns how many.
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
    using engine_ptr = std::shared_ptr<const menu::engine>;
    // Which sessions live in memory: a slice of them by key, under its own lock.
    struct shard {
        mutable std::mutex mutex;  // also counted from const members
        std::unordered_map<std::string, std::shared_ptr<live_session>> sessions;
    };
    static constexpr std::size_t shard_count = 64;

    shard& shard_of(const std::string& key);
    // The session under `key`, added (not yet loaded) when absent.
    std::shared_ptr<live_session> hold(const std::string& key);
    std::shared_ptr<live_session> find_live(const std::string& key);
    // Drops it from memory (its own mutex held); a hop waiting for it looks again.
    void forget(live_session& s);
    engine_ptr current_engine() const;

    ussd_reply hop(const ussd_request& req, live_session& s);
    ussd_reply start(live_session& s, const std::string& first_input);
    ussd_reply answer_resume_offer(live_session& s, const std::string& input);
    ussd_reply run_input(live_session& s, const std::string& input);
    // Her language choice, once the state has moved to it.
    void note_language(live_session& s);
    ussd_reply perform(live_session& s, const menu::action_request& action);
    ussd_reply bad_number(const menu::engine& engine) const;
    ussd_reply in_all_languages(const menu::engine& engine, const std::string& ui_key) const;
    ussd_reply refuse_foreign_number(const menu::engine& engine, const ussd_request& req) const;
    ussd_reply resume_offer(const live_session& s, const std::string& error) const;
    // Writes her state through, or queues it for the write-behind batch
    // (deferred: the caller flushes). must_store: a write-through that
    // fails throws (she hears so); a batch that fails is only logged, the
    // store keeping an older state onto which a restart replays the rest.
    void persist(live_session& s, bool finished, bool must_store = false, bool deferred = false);
    store::session_record record_of(const live_session& s, bool finished) const;
    store::session_record record_of(const live_session& s, const menu::session_state& state,
                                    const ussd_reply& last_reply, bool finished) const;
    // Drops a queued older state of this session, waiting out a batch that
    // is writing one: what is written next is newer.
    void supersede_unsaved(const std::string& key);
    bool flush_due(long long now_ms);
    std::size_t expire(long long now);
    bool has_unsaved_for(const std::string& phone);
    // Writes one session's state now (a new session, a case), without
    // waiting for the write-behind batch nor holding up other sessions.
    void write_through(store::session_record rec);
    std::function<void()> queued() const;

    store::store& store_;
    phone_normalizer phones_;
    const clock_source& clock_;
    ussd_settings settings_;

    mutable std::mutex engine_mutex_;  // only to copy or swap the pointer
    engine_ptr engine_;
    std::array<shard, shard_count> shards_;
    std::atomic<long long> last_sweep_{0};

    std::mutex flush_mutex_;
    std::mutex unsaved_mutex_;
    std::map<std::string, store::session_record> unsaved_;  // write-behind, by session id
    std::set<std::string> flushing_;  // ids in the batch being written (under unsaved_mutex_)
    std::condition_variable flushed_;
    std::atomic<long long> last_flush_ms_{0};

    case_writer store_case_ = store_cases_alone(store_);  // after store_
    mutable std::mutex callbacks_mutex_;
    std::shared_ptr<const std::function<void()>> on_queued_;
};

}  // namespace gw::service

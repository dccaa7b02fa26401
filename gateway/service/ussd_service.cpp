#include "service/ussd_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/text.hpp"
#include "service/case_from_session.hpp"
#include "service/session_codec.hpp"

namespace gw::service {

struct ussd_service::live_session {
    std::mutex mutex;     // one hop at a time
    bool loaded = false;  // false: just added, not read from the store nor started
    bool gone = false;    // dropped from memory: a hop that waited for it looks again
    engine_ptr engine;    // the engine of the hop in progress
    std::string key;
    std::string raw_phone;  // as the aggregator sent it: skips normalising it again
    std::string phone;      // E.164
    menu::session_state state;
    std::string last_text;    // cumulative text of the last hop
    ussd_reply last_reply;    // answered again when a hop is retried
    std::string resume_from;  // session offered for resuming, while the offer is open
    std::string known_language;
    long long started_at = 0;
    long long updated_at = 0;
    // Written through at the next write: a case points at this session (its
    // transcript is needed now), or a restart could not replay it from nothing.
    bool write_now = false;
    bool restored = false;  // read back from the store, which may be hops behind her
    bool stepwise = false;  // inputs come one at a time (SMPP): written through
    // This state, after this text, was written in its case's transaction.
    std::optional<std::string> saved_with_case;
    // Her language choice, carried by every state written until one is
    // known to be stored (a write-through).
    std::string language_to_remember;
};

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

ussd_service::ussd_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                           phone_normalizer phones, const clock_source& clock,
                           ussd_settings settings)
    : store_(store),
      phones_(std::move(phones)),
      clock_(clock),
      settings_(settings),
      engine_(std::move(engine)) {}

ussd_service::~ussd_service() {
    try {
        flush_sessions();
    } catch (const std::exception& e) {
        spdlog::warn("ussd: session state not saved at shutdown: {}", e.what());
    }
}

void ussd_service::flush_sessions() {
    std::lock_guard flushing(flush_mutex_);
    std::vector<store::session_record> batch;
    {
        std::lock_guard lock(unsaved_mutex_);
        if (unsaved_.empty()) return;
        batch.reserve(unsaved_.size());
        for (auto& [id, rec] : unsaved_) {
            flushing_.insert(id);
            batch.push_back(std::move(rec));
        }
        unsaved_.clear();
    }
    // Written outside unsaved_mutex_ (hops go on queueing) but inside
    // flush_mutex_: the next batch, with any newer state, waits for this one.
    struct done {
        ussd_service& u;
        ~done() {
            std::lock_guard lock(u.unsaved_mutex_);
            u.flushing_.clear();
            u.flushed_.notify_all();
        }
    } mark_done{*this};
    store_.save_sessions(batch);
}

void ussd_service::supersede_unsaved(const std::string& key) {
    // Its older state, if queued, is superseded; if a batch is writing
    // that older state right now, the newer one goes after it.
    std::unique_lock lock(unsaved_mutex_);
    unsaved_.erase(key);
    flushed_.wait(lock, [&] { return !flushing_.count(key); });
}

void ussd_service::write_through(store::session_record rec) {
    supersede_unsaved(rec.id);
    // No service-wide lock here: write-throughs of many sessions share a commit.
    store_.save_session(rec);
}

bool ussd_service::has_unsaved_for(const std::string& phone) {
    std::lock_guard lock(unsaved_mutex_);
    for (const auto& [id, rec] : unsaved_)
        if (rec.phone == phone) return true;
    return false;
}

void ussd_service::set_engine(std::shared_ptr<const menu::engine> engine) {
    std::lock_guard lock(engine_mutex_);
    engine_ = std::move(engine);
}

ussd_service::engine_ptr ussd_service::current_engine() const {
    std::lock_guard lock(engine_mutex_);
    return engine_;
}

std::size_t ussd_service::active_sessions() const {
    std::size_t n = 0;
    for (const shard& sh : shards_) {
        std::lock_guard lock(sh.mutex);
        n += sh.sessions.size();
    }
    return n;
}

ussd_service::shard& ussd_service::shard_of(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % shard_count];
}

std::shared_ptr<ussd_service::live_session> ussd_service::hold(const std::string& key) {
    shard& sh = shard_of(key);
    std::lock_guard lock(sh.mutex);
    auto& slot = sh.sessions[key];
    if (!slot) {
        slot = std::make_shared<live_session>();
        slot->key = key;
    }
    return slot;
}

std::shared_ptr<ussd_service::live_session> ussd_service::find_live(const std::string& key) {
    shard& sh = shard_of(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.sessions.find(key);
    return it == sh.sessions.end() ? nullptr : it->second;
}

void ussd_service::forget(live_session& s) {
    shard& sh = shard_of(s.key);
    std::lock_guard lock(sh.mutex);
    if (auto it = sh.sessions.find(s.key); it != sh.sessions.end() && it->second.get() == &s)
        sh.sessions.erase(it);
    s.gone = true;
}

ussd_reply ussd_service::handle(const ussd_request& req) {
    const std::string key = req.aggregator + ":" + req.session_id;
    for (;;) {
        std::shared_ptr<live_session> s = hold(key);
        std::lock_guard session_lock(s->mutex);
        if (s->gone) continue;  // dropped while this hop waited: look again
        s->engine = current_engine();
        try {
            ussd_reply r = hop(req, *s);
            if (!s->loaded && !s->gone) forget(*s);  // answered without a session
            return r;
        } catch (const store::store_error& e) {
            spdlog::error("ussd: store failure, answering 'try again later': {}", e.what());
            menu::session_state state = s->loaded ? s->state : menu::session_state{};
            if (!s->gone) forget(*s);  // she was told the session ended
            return {s->engine->ui(state, "store_error"), true};
        }
    }
}

std::optional<ussd_reply> ussd_service::answer_from_memory(const ussd_request& req) {
    // Anything that might wait (a store call, a write-through, a flush that
    // is due, another hop of hers) goes to handle() on a worker.
    if (settings_.shared_store || settings_.session_flush.count() == 0 || req.stepwise ||
        req.caller_flushes)
        return std::nullopt;
    std::shared_ptr<live_session> s = find_live(req.aggregator + ":" + req.session_id);
    if (!s) return std::nullopt;
    std::unique_lock session_lock(s->mutex, std::try_to_lock);
    if (!session_lock || s->gone || !s->loaded || s->restored || s->write_now ||
        !s->resume_from.empty() || s->state.finished || req.phone != s->raw_phone)
        return std::nullopt;
    const auto now_point = clock_.now();
    const long long now = to_unix_seconds(now_point);
    const long long now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now_point.time_since_epoch()).count();
    if (now - s->updated_at > settings_.idle_timeout.count() || flush_due(now_ms))
        return std::nullopt;
    if (req.text == s->last_text) return s->last_reply;  // the aggregator retried this hop
    // Exactly one new input after the walk the session holds (as hop()
    // reads it); anything else (a late retry, a restart's replay) is
    // handle()'s to sort out.
    if (static_cast<std::size_t>(std::count(req.text.begin(), req.text.end(), '*')) >=
        settings_.max_inputs)
        return std::nullopt;
    std::string input;
    if (s->last_text.empty())
        input = req.text;
    else if (starts_with(req.text, s->last_text + "*"))
        input = req.text.substr(s->last_text.size() + 1);
    else
        return std::nullopt;
    if (input.size() > settings_.max_input_bytes || !is_valid_utf8(input)) return std::nullopt;

    engine_ptr engine = current_engine();
    menu::session_state next = s->state;
    menu::step st = engine->input(next, input);
    if (st.action) return std::nullopt;  // a case or an SMS: handle() runs the step again

    // From here on as handle() would have done it.
    s->engine = std::move(engine);
    s->state = std::move(next);
    note_language(*s);
    s->last_text = req.text;
    s->updated_at = now;
    s->last_reply = {st.out.text, st.out.end};
    {
        // Her language stays in language_to_remember: a newer state may
        // replace this one in the batch before it is written.
        std::lock_guard lock(unsaved_mutex_);
        unsaved_[s->key] = record_of(*s, st.out.end);
    }
    if (st.out.end) forget(*s);  // over: the store answers any retry
    return s->last_reply;
}

ussd_reply ussd_service::in_all_languages(const menu::engine& engine,
                                          const std::string& ui_key) const {
    // Her language is unknown (or not to be revealed): every language, in the menu's order.
    std::string text;
    for (const auto& lang : engine.layout().source().languages) {
        menu::session_state s;
        s.language = lang.code;
        if (!text.empty()) text += '\n';
        text += engine.ui(s, ui_key);
    }
    return {text, true};
}

ussd_reply ussd_service::bad_number(const menu::engine& engine) const {
    return in_all_languages(engine, "bad_number");
}

static std::vector<std::string> split_inputs(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        std::size_t star = text.find('*', pos);
        if (star == std::string::npos) {
            out.push_back(text.substr(pos));
            return out;
        }
        out.push_back(text.substr(pos, star - pos));
        pos = star + 1;
    }
}

ussd_reply ussd_service::hop(const ussd_request& req, live_session& s) {
    const menu::engine& engine = *s.engine;
    const long long now = to_unix_seconds(clock_.now());
    // No walk needs this many steps; refusing early keeps a hop's cost
    // bounded whatever `text` holds.
    if (static_cast<std::size_t>(std::count(req.text.begin(), req.text.end(), '*')) >=
        settings_.max_inputs) {
        spdlog::warn("ussd: session refused, more than {} inputs", settings_.max_inputs);
        return in_all_languages(engine, "session_expired");
    }
    // The same number as the last hop needs no second parse.
    const auto phone = s.loaded && req.phone == s.raw_phone ? std::optional<std::string>(s.phone)
                                                            : phones_.to_e164(req.phone);
    // Another node may have moved her session since this one last saw it.
    if (settings_.shared_store) s.loaded = false;

    if (!s.loaded) {
        // A state still waiting for the write-behind batch is the newest one.
        std::optional<store::session_record> rec;
        bool restored = false;
        {
            std::lock_guard lock(unsaved_mutex_);
            if (auto pending = unsaved_.find(s.key); pending != unsaved_.end())
                rec = pending->second;
        }
        if (!rec) {
            rec = store_.find_session(s.key);
            restored = true;
        }
        if (rec) {
            // A session belongs to the number that opened it: another number
            // with its id learns nothing, not even that it exists.
            if (!phone || *phone != rec->phone) return refuse_foreign_number(engine, req);
            if (rec->status != store::session_status::active) {
                menu::session_state st_engine;
                try {
                    stored_state st = decode_state(rec->state);
                    // The aggregator retried the final hop: the same END again.
                    if (rec->status == store::session_status::finished &&
                        st.fields["last_text"] == req.text)
                        return {st.fields["last_reply"], true};
                    st_engine = st.engine;
                } catch (const std::exception&) {
                }
                return {engine.ui(st_engine, "session_expired"), true};
            }
            s.phone = rec->phone;
            s.raw_phone = req.phone;
            s.started_at = rec->started_at;
            s.updated_at = rec->updated_at;
            s.restored = restored;
            try {
                stored_state st = decode_state(rec->state);
                s.state = std::move(st.engine);
                s.last_text = st.fields["last_text"];
                s.last_reply = {st.fields["last_reply"], st.fields["last_end"] == "1"};
                s.resume_from = st.fields["resume_from"];
                s.known_language = st.fields["known_language"];
            } catch (const std::exception& e) {
                spdlog::warn("ussd: unreadable stored session state, starting over: {}", e.what());
                store_.set_session_status(s.key, store::session_status::abandoned);
                return {engine.ui(menu::session_state{}, "session_expired"), true};
            }
            s.loaded = true;
        } else if (req.stepwise) {
            // An answer for a dialogue we do not hold: applying it to a new
            // session would answer a question she was never asked.
            spdlog::info("ussd: answer for an unknown dialogue ({}); ended", mask_phone(req.phone));
            return in_all_languages(engine, "session_expired");
        } else {
            if (!phone) {
                spdlog::warn("ussd: unusable phone number {} (session refused)",
                             mask_phone(req.phone));
                return bad_number(engine);
            }
            s.phone = *phone;
            s.raw_phone = req.phone;
            s.started_at = s.updated_at = now;
            s.stepwise = req.stepwise;
            s.loaded = true;
            ussd_reply r = start(s, req.text);
            s.last_text = req.text;
            s.last_reply = r;
            // Written behind like a menu move when a restart can replay this
            // hop from nothing: with no state stored, her next hop's text
            // starts a session afresh and applies its inputs in turn, which
            // is the walk she made (the menus are deterministic). Written
            // through otherwise, so that any later hop replays onto the
            // stored state, and if it cannot be stored she hears so: after
            // a resume offer (her "1" would be replayed as the menu's first
            // item instead of "start again"), an action, or an END (the
            // store answers its retry).
            const bool replayable = !r.end && s.resume_from.empty() && !s.write_now;
            s.write_now = !req.caller_flushes && !replayable;
            persist(s, r.end, /*must_store=*/true, req.caller_flushes);
            if (r.end) forget(s);  // over: the store answers any retry
            return r;
        }
    } else if (!phone || *phone != s.phone) {
        return refuse_foreign_number(engine, req);
    }

    if (now - s.updated_at > settings_.idle_timeout.count()) {
        ussd_reply expired{engine.ui(s.state, "session_expired"), true};
        forget(s);
        flush_sessions();  // a pending write must not revive it
        store_.set_session_status(s.key, store::session_status::abandoned);
        return expired;
    }
    if (s.state.finished) return {engine.ui(s.state, "session_expired"), true};
    if (req.stepwise) {
        // One answer, applied as it is ('*' included); the record keeps the
        // joined inputs so the state and its walk stay together.
        s.stepwise = true;
        s.restored = false;
        s.last_text = s.last_text.empty() ? req.text : s.last_text + "*" + req.text;
        s.updated_at = now;
        ussd_reply r =
            s.resume_from.empty() ? run_input(s, req.text) : answer_resume_offer(s, req.text);
        s.last_reply = r;
        s.write_now = !req.caller_flushes;
        persist(s, r.end, /*must_store=*/true, req.caller_flushes);
        if (r.end) forget(s);
        return r;
    }
    if (req.text == s.last_text) return s.last_reply;  // the aggregator retried this hop

    // The inputs her state has not seen yet. `text` holds every input so
    // far. A state kept in memory is never behind: the rest is this hop's
    // one input (free text may hold a '*'). A state read back from the
    // store may be several hops behind (written behind): each missing input
    // is then applied in turn, never the joined rest as one input (the
    // menus are deterministic, so this is the walk she made).
    auto new_inputs = [&](const std::string& rest) {
        return s.restored ? split_inputs(rest) : std::vector<std::string>{rest};
    };
    std::vector<std::string> inputs;
    if (s.last_text.empty())
        inputs = new_inputs(req.text);
    else if (starts_with(req.text, s.last_text + "*"))
        inputs = new_inputs(req.text.substr(s.last_text.size() + 1));
    else if (starts_with(s.last_text, req.text))
        return s.last_reply;  // a late retry of an earlier hop: where she is now
    else
        inputs = {req.text.substr(req.text.rfind('*') + 1)};  // npos + 1 == 0: whole text

    s.last_text = req.text;
    s.updated_at = now;
    s.restored = false;
    ussd_reply r = s.last_reply;
    for (const auto& input : inputs) {
        r = s.resume_from.empty() ? run_input(s, input) : answer_resume_offer(s, input);
        if (r.end) break;
    }
    s.last_reply = r;
    persist(s, r.end);
    if (r.end) forget(s);  // over: the store answers any retry
    long long last = last_sweep_.load();
    if (now - last >= 10 && last_sweep_.compare_exchange_strong(last, now)) expire(now);
    return r;
}

ussd_reply ussd_service::refuse_foreign_number(const menu::engine& engine,
                                               const ussd_request& req) const {
    spdlog::warn("ussd: session id reused by another number ({}); refused", mask_phone(req.phone));
    return in_all_languages(engine, "session_expired");
}

ussd_reply ussd_service::start(live_session& s, const std::string& first_input) {
    // Her previous session (and the language she chose in it) may still
    // wait in the write-behind batch.
    if (has_unsaved_for(s.phone)) flush_sessions();
    s.known_language = store_.subscriber_language(s.phone).value_or("");
    const menu::menu& m = s.engine->layout().source();

    if (first_input.empty()) {
        const long long since = s.started_at - settings_.resume_window.count();
        if (auto old = store_.find_resumable_session(s.phone, since, s.key)) {
            try {
                menu::session_state st = decode_state(old->state).engine;
                const menu::screen* sc = m.find(st.screen);
                // Never back into urgent, violence or trafficking screens:
                // whoever dials from her phone next may not be her.
                bool sensitive = sc && sc->sensitive;
                for (const auto& [id, page] : st.history)
                    if (const menu::screen* h = m.find(id); h && h->sensitive) sensitive = true;
                bool progressed = sc && sc->kind != menu::screen_kind::action && !st.finished &&
                                  !sensitive && st.screen != m.start && st.screen != m.home;
                if (progressed) {
                    s.resume_from = old->id;
                    s.state.language = st.language;
                    return resume_offer(s, "");
                }
            } catch (const std::exception&) {
                // An unreadable old session is simply not offered.
            }
        }
    }

    menu::step first = s.engine->start(s.state, s.known_language);
    if (first.action) {
        s.write_now = true;  // what the action did is not replayed from nothing
        return perform(s, *first.action);
    }
    ussd_reply r{first.out.text, first.out.end};
    // Digits dialled with the code (*123*1*2#) arrive as inputs already.
    if (!first_input.empty()) {
        std::size_t pos = 0;
        while (pos <= first_input.size() && !r.end) {
            std::size_t star = first_input.find('*', pos);
            if (star == std::string::npos) star = first_input.size();
            r = run_input(s, first_input.substr(pos, star - pos));
            pos = star + 1;
        }
    }
    return r;
}

ussd_reply ussd_service::resume_offer(const live_session& s, const std::string& error) const {
    const auto& ui = [&](const char* k) -> const std::string& { return s.engine->ui(s.state, k); };
    // Starting again comes first: the safe answer for whoever holds her phone.
    std::string choices = "1 " + ui("resume_restart") + "\n2 " + ui("resume_continue");
    std::string head = error.empty() ? ui("resume_prompt") : error + "\n" + ui("resume_prompt");
    std::string text = head + "\n" + choices;
    if (!s.engine->layout().fits(text))
        text = (error.empty() ? std::string{} : error + "\n") + choices;
    return {text, false};
}

ussd_reply ussd_service::answer_resume_offer(live_session& s, const std::string& input) {
    s.saved_with_case.reset();
    std::string in(trim(input));
    if (in == "2") {
        auto old = store_.find_session(s.resume_from);
        store_.set_session_status(s.resume_from, store::session_status::resumed);
        s.resume_from.clear();
        if (old) {
            try {
                stored_state st = decode_state(old->state);
                s.state = std::move(st.engine);
                menu::reply r = s.engine->render(s.state);
                return {r.text, r.end};
            } catch (const std::exception&) {
            }
        }
        menu::step first = s.engine->start(s.state, s.known_language);
        return {first.out.text, first.out.end};
    }
    if (in == "1") {
        store_.set_session_status(s.resume_from, store::session_status::closed);
        s.resume_from.clear();
        menu::step first = s.engine->start(s.state, s.known_language);
        return {first.out.text, first.out.end};
    }
    return resume_offer(s, s.engine->ui(s.state, in.empty() ? "empty_input" : "invalid_option"));
}

void ussd_service::note_language(live_session& s) {
    if (!s.state.language.empty() && s.state.language != s.known_language) {
        // Remembered with the session's next write, not in a write of its own.
        s.language_to_remember = s.state.language;
        s.known_language = s.state.language;
    }
}

ussd_reply ussd_service::run_input(live_session& s, const std::string& input) {
    s.saved_with_case.reset();
    menu::step st;
    if (input.size() > settings_.max_input_bytes || !is_valid_utf8(input))
        st.out = s.engine->reject(s.state, "invalid_option");
    else
        st = s.engine->input(s.state, input);
    note_language(s);
    if (st.action) return perform(s, *st.action);
    return {st.out.text, st.out.end};
}

ussd_reply ussd_service::perform(live_session& s, const menu::action_request& action) {
    try {
        if (auto r = run_status_action(store_, *s.engine, s.state, action, s.phone,
                                       settings_.info_sms, to_unix_seconds(clock_.now()), queued()))
            return {r->text, r->end};
    } catch (const store::store_error& e) {
        spdlog::error("ussd: {} failed, told her to try later: {}", action.kind, e.what());
        menu::reply r = s.engine->fail_action(s.state);
        return {r.text, r.end};
    }
    store::new_case c = case_from_session(action, s.state, "ussd", s.key + ":" + action.screen_id,
                                          s.phone, s.engine->layout().source().default_language);
    c.session_id = s.key;
    // Her session after the case is written in the case's own transaction:
    // her END waits for one commit. Made for each code drawn (it quotes it).
    menu::session_state state_after;
    menu::reply reply_after;
    auto session_after = [&](const std::string& reference) {
        state_after = s.state;
        reply_after = s.engine->complete_action(state_after, reference);
        return record_of(s, state_after, {reply_after.text, reply_after.end}, reply_after.end);
    };
    try {
        const long long now = to_unix_seconds(clock_.now());
        supersede_unsaved(s.key);
        const store::created_case made = store_case_(c, now, session_after);
        const store::case_record& rec = made.record;
        spdlog::info("ussd: case {} stored (topic {}, oblast {}, urgent {}, phone {})",
                     rec.reference, rec.topic, rec.oblast.empty() ? "-" : rec.oblast, rec.urgent,
                     mask_phone(s.phone));
        if (made.written_now) {
            s.state = std::move(state_after);
            s.saved_with_case = s.last_text;
            s.language_to_remember.clear();  // stored with it
            return {reply_after.text, reply_after.end};
        }
        // A retry of a case stored before: her session is written after it.
        s.write_now = true;
        menu::reply r = s.engine->complete_action(s.state, rec.reference);
        return {r.text, r.end};
    } catch (const store::store_error& e) {
        spdlog::error("ussd: case NOT stored, told her to try later: {}", e.what());
        menu::reply r = s.engine->fail_action(s.state);
        return {r.text, r.end};
    }
}

store::session_record ussd_service::record_of(const live_session& s, bool finished) const {
    return record_of(s, s.state, s.last_reply, finished);
}

store::session_record ussd_service::record_of(const live_session& s,
                                              const menu::session_state& state,
                                              const ussd_reply& last_reply, bool finished) const {
    stored_state st{state,
                    {{"last_text", s.last_text},
                     {"last_reply", last_reply.text},
                     {"last_end", last_reply.end ? "1" : "0"},
                     {"resume_from", s.resume_from},
                     {"known_language", s.known_language}}};
    return store::session_record{
        s.key,
        s.phone,
        "ussd",
        encode_state(st),
        finished ? store::session_status::finished : store::session_status::active,
        s.started_at,
        s.updated_at,
        s.language_to_remember};
}

// The write-behind batch is due: its interval has passed since the last
// flush, or it has grown large.
bool ussd_service::flush_due(long long now_ms) {
    if (now_ms - last_flush_ms_.load() >= settings_.session_flush.count()) return true;
    std::lock_guard lock(unsaved_mutex_);
    return unsaved_.size() >= 1024;
}

void ussd_service::persist(live_session& s, bool finished, bool must_store, bool deferred) {
    if (s.saved_with_case == s.last_text) {
        s.saved_with_case.reset();
        return;  // this very state was written with her case
    }
    s.saved_with_case.reset();
    store::session_record rec = record_of(s, finished);
    if (deferred) {
        std::lock_guard lock(unsaved_mutex_);
        unsaved_[rec.id] = std::move(rec);  // the caller flushes before answering
        s.language_to_remember.clear();     // or drops the session when it cannot
        return;
    }
    bool through = false;
    try {
        const long long now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                .count();
        if (settings_.session_flush.count() == 0 || s.write_now || settings_.shared_store) {
            through = true;
            s.write_now = false;
            long long never = 0;  // the write-behind interval starts with the first write
            last_flush_ms_.compare_exchange_strong(never, now_ms);
            write_through(std::move(rec));
            s.language_to_remember.clear();  // stored with it
            return;
        }
        {
            std::lock_guard lock(unsaved_mutex_);
            unsaved_[rec.id] = std::move(rec);
        }
        if (flush_due(now_ms)) {
            last_flush_ms_ = now_ms;
            flush_sessions();
        }
    } catch (const store::store_error& e) {
        if (must_store && through) throw;
        // The session goes on from memory; the store keeps an older state
        // with its inputs, onto which a restart replays the rest.
        spdlog::warn("ussd: session state not saved: {}", e.what());
    }
}

ussd_reply ussd_service::store_failure_reply(const std::string& aggregator,
                                             const std::string& session_id) {
    const std::string key = aggregator + ":" + session_id;
    menu::session_state state;
    if (auto s = find_live(key)) {
        std::lock_guard session_lock(s->mutex);
        if (!s->gone) {
            state = s->state;
            forget(*s);  // she is told the session ended
        }
    }
    {
        std::lock_guard lock(unsaved_mutex_);
        unsaved_.erase(key);
    }
    return {current_engine()->ui(state, "store_error"), true};
}

void ussd_service::release(const std::string& aggregator, const std::string& session_id) {
    const std::string key = aggregator + ":" + session_id;
    auto s = find_live(key);
    if (!s) return;
    std::lock_guard session_lock(s->mutex);
    if (s->gone) return;
    forget(*s);
    flush_sessions();  // a pending write must not revive it
    store_.set_session_status(key, store::session_status::abandoned);
}

std::size_t ussd_service::expire_idle_sessions() {
    return expire(to_unix_seconds(clock_.now()));
}

std::size_t ussd_service::expire(long long now) {
    const long long cutoff = now - settings_.idle_timeout.count();
    std::size_t n = 0;
    for (shard& sh : shards_) {
        std::lock_guard lock(sh.mutex);
        for (auto it = sh.sessions.begin(); it != sh.sessions.end();) {
            std::shared_ptr<live_session> s = it->second;  // outlives the lock below
            // A session in a hop (its mutex taken) is not idle.
            std::unique_lock session_lock(s->mutex, std::try_to_lock);
            if (session_lock && s->loaded && s->updated_at < cutoff) {
                s->gone = true;
                it = sh.sessions.erase(it);
                ++n;
            } else {
                ++it;
            }
        }
    }
    if (n > 0) {
        flush_sessions();  // pending writes first, or they would revive what is abandoned
        store_.abandon_idle_sessions(cutoff);
    }
    return n;
}

std::function<void()> ussd_service::queued() const {
    std::lock_guard lock(callbacks_mutex_);
    return on_queued_ ? *on_queued_ : std::function<void()>{};
}

}  // namespace gw::service

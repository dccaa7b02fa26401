#include "service/ussd_service.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/text.hpp"
#include "service/case_from_session.hpp"
#include "service/session_codec.hpp"

namespace gw::service {

struct ussd_service::live_session {
    std::string key;
    std::string phone;  // E.164
    menu::session_state state;
    std::string last_text;    // cumulative text of the last hop
    ussd_reply last_reply;    // answered again when a hop is retried
    std::string resume_from;  // session offered for resuming, while the offer is open
    std::string known_language;
    long long started_at = 0;
    long long updated_at = 0;
    bool write_now = false;  // a case points at this session: its transcript is needed now
    bool restored = false;   // read back from the store, which may be hops behind her
    bool stepwise = false;   // inputs come one at a time (SMPP): written through
};

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

ussd_service::ussd_service(std::shared_ptr<const menu::engine> engine, store::store& store,
                           phone_normalizer phones, const clock_source& clock,
                           ussd_settings settings)
    : engine_(std::move(engine)),
      store_(store),
      phones_(std::move(phones)),
      clock_(clock),
      settings_(settings) {}

ussd_service::~ussd_service() {
    try {
        flush_sessions();
    } catch (const std::exception& e) {
        spdlog::warn("ussd: session state not saved at shutdown: {}", e.what());
    }
}

void ussd_service::flush_sessions() {
    std::lock_guard lock(mutex_);
    flush_locked();
}

void ussd_service::flush_locked() {
    if (unsaved_.empty()) return;
    std::vector<store::session_record> batch;
    batch.reserve(unsaved_.size());
    for (auto& [id, rec] : unsaved_) batch.push_back(std::move(rec));
    unsaved_.clear();
    store_.save_sessions(batch);
}

void ussd_service::set_engine(std::shared_ptr<const menu::engine> engine) {
    std::lock_guard lock(mutex_);
    engine_ = std::move(engine);
}

std::size_t ussd_service::active_sessions() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

ussd_reply ussd_service::handle(const ussd_request& req) {
    std::lock_guard lock(mutex_);
    try {
        return hop(req);
    } catch (const store::store_error& e) {
        spdlog::error("ussd: store failure, answering 'try again later': {}", e.what());
        auto it = sessions_.find(req.aggregator + ":" + req.session_id);
        menu::session_state s;
        if (it != sessions_.end()) {
            s = it->second->state;
            sessions_.erase(it);  // she was told the session ended
        }
        return {engine_->ui(s, "store_error"), true};
    }
}

ussd_reply ussd_service::in_all_languages(const std::string& ui_key) const {
    // Her language is unknown (or not to be revealed): every language, in the menu's order.
    std::string text;
    for (const auto& lang : engine_->layout().source().languages) {
        menu::session_state s;
        s.language = lang.code;
        if (!text.empty()) text += '\n';
        text += engine_->ui(s, ui_key);
    }
    return {text, true};
}

ussd_reply ussd_service::bad_number() const {
    return in_all_languages("bad_number");
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

ussd_reply ussd_service::hop(const ussd_request& req) {
    const long long now = to_unix_seconds(clock_.now());
    const std::string key = req.aggregator + ":" + req.session_id;
    // No walk needs this many steps; refusing early keeps a hop's cost
    // bounded whatever `text` holds.
    if (static_cast<std::size_t>(std::count(req.text.begin(), req.text.end(), '*')) >=
        settings_.max_inputs) {
        spdlog::warn("ussd: session refused, more than {} inputs", settings_.max_inputs);
        return in_all_languages("session_expired");
    }
    const auto phone = phones_.to_e164(req.phone);

    auto it = sessions_.find(key);
    if (it == sessions_.end()) {
        // A state still waiting for the write-behind batch is the newest one.
        std::optional<store::session_record> rec;
        bool restored = false;
        if (auto pending = unsaved_.find(key); pending != unsaved_.end()) {
            rec = pending->second;
        } else {
            rec = store_.find_session(key);
            restored = true;
        }
        if (rec) {
            // A session belongs to the number that opened it: another number
            // with its id learns nothing, not even that it exists.
            if (!phone || *phone != rec->phone) return refuse_foreign_number(req);
            if (rec->status != "active") {
                menu::session_state s;
                try {
                    stored_state st = decode_state(rec->state);
                    // The aggregator retried the final hop: the same END again.
                    if (rec->status == "finished" && st.fields["last_text"] == req.text)
                        return {st.fields["last_reply"], true};
                    s = st.engine;
                } catch (const std::exception&) {
                }
                return {engine_->ui(s, "session_expired"), true};
            }
            auto s = std::make_unique<live_session>();
            s->key = key;
            s->phone = rec->phone;
            s->started_at = rec->started_at;
            s->updated_at = rec->updated_at;
            s->restored = restored;
            try {
                stored_state st = decode_state(rec->state);
                s->state = std::move(st.engine);
                s->last_text = st.fields["last_text"];
                s->last_reply = {st.fields["last_reply"], st.fields["last_end"] == "1"};
                s->resume_from = st.fields["resume_from"];
                s->known_language = st.fields["known_language"];
            } catch (const std::exception& e) {
                spdlog::warn("ussd: unreadable stored session state, starting over: {}", e.what());
                store_.set_session_status(key, "abandoned");
                return {engine_->ui(s->state, "session_expired"), true};
            }
            it = sessions_.emplace(key, std::move(s)).first;
        }
    } else if (!phone || *phone != it->second->phone) {
        return refuse_foreign_number(req);
    }

    if (it == sessions_.end() && req.stepwise) {
        // An answer for a dialogue we do not hold: applying it to a new
        // session would answer a question she was never asked.
        spdlog::info("ussd: answer for an unknown dialogue ({}); ended", mask_phone(req.phone));
        return in_all_languages("session_expired");
    }
    if (it == sessions_.end()) {
        if (!phone) {
            spdlog::warn("ussd: unusable phone number {} (session refused)", mask_phone(req.phone));
            return bad_number();
        }
        auto s = std::make_unique<live_session>();
        s->key = key;
        s->phone = *phone;
        s->started_at = s->updated_at = now;
        s->stepwise = req.stepwise;
        live_session& live = *s;
        sessions_.emplace(key, std::move(s));
        ussd_reply r = start(live, req.text);
        live.last_text = req.text;
        live.last_reply = r;
        // Written through: from here on the store holds a state and the
        // inputs that led to it, so any later hop can be replayed onto it
        // (a restart, another node). If it cannot be stored, she hears so.
        live.write_now = !req.caller_flushes;
        persist(live, r.end, /*must_store=*/true, req.caller_flushes);
        if (r.end) sessions_.erase(key);  // over: the store answers any retry
        return r;
    }

    live_session& s = *it->second;
    if (now - s.updated_at > settings_.idle_timeout.count()) {
        ussd_reply expired{engine_->ui(s.state, "session_expired"), true};
        sessions_.erase(it);
        flush_locked();  // a pending write must not revive it
        store_.set_session_status(key, "abandoned");
        return expired;
    }
    if (s.state.finished) return {engine_->ui(s.state, "session_expired"), true};
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
        if (r.end) sessions_.erase(key);
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
    if (r.end) sessions_.erase(key);  // over: the store answers any retry
    if (now - last_sweep_ >= 10) {
        last_sweep_ = now;
        expire_locked(now);
    }
    return r;
}

ussd_reply ussd_service::refuse_foreign_number(const ussd_request& req) const {
    spdlog::warn("ussd: session id reused by another number ({}); refused", mask_phone(req.phone));
    return in_all_languages("session_expired");
}

ussd_reply ussd_service::start(live_session& s, const std::string& first_input) {
    s.known_language = store_.subscriber_language(s.phone).value_or("");
    const menu::menu& m = engine_->layout().source();

    if (first_input.empty()) {
        // Her previous session may still wait in the write-behind batch.
        for (const auto& [id, rec] : unsaved_)
            if (rec.phone == s.phone) {
                flush_locked();
                break;
            }
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

    menu::step first = engine_->start(s.state, s.known_language);
    if (first.action) return perform(s, *first.action);
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
    const auto& ui = [&](const char* k) -> const std::string& { return engine_->ui(s.state, k); };
    // Starting again comes first: the safe answer for whoever holds her phone.
    std::string choices = "1 " + ui("resume_restart") + "\n2 " + ui("resume_continue");
    std::string head = error.empty() ? ui("resume_prompt") : error + "\n" + ui("resume_prompt");
    std::string text = head + "\n" + choices;
    if (!engine_->layout().fits(text))
        text = (error.empty() ? std::string{} : error + "\n") + choices;
    return {text, false};
}

ussd_reply ussd_service::answer_resume_offer(live_session& s, const std::string& input) {
    std::string in(trim(input));
    if (in == "2") {
        auto old = store_.find_session(s.resume_from);
        store_.set_session_status(s.resume_from, "resumed");
        s.resume_from.clear();
        if (old) {
            try {
                stored_state st = decode_state(old->state);
                s.state = std::move(st.engine);
                menu::reply r = engine_->render(s.state);
                return {r.text, r.end};
            } catch (const std::exception&) {
            }
        }
        menu::step first = engine_->start(s.state, s.known_language);
        return {first.out.text, first.out.end};
    }
    if (in == "1") {
        store_.set_session_status(s.resume_from, "closed");
        s.resume_from.clear();
        menu::step first = engine_->start(s.state, s.known_language);
        return {first.out.text, first.out.end};
    }
    return resume_offer(s, engine_->ui(s.state, in.empty() ? "empty_input" : "invalid_option"));
}

ussd_reply ussd_service::run_input(live_session& s, const std::string& input) {
    menu::step st;
    if (input.size() > settings_.max_input_bytes || !is_valid_utf8(input))
        st.out = engine_->reject(s.state, "invalid_option");
    else
        st = engine_->input(s.state, input);
    if (!s.state.language.empty() && s.state.language != s.known_language) {
        store_.set_subscriber_language(s.phone, s.state.language);
        s.known_language = s.state.language;
    }
    if (st.action) return perform(s, *st.action);
    return {st.out.text, st.out.end};
}

ussd_reply ussd_service::perform(live_session& s, const menu::action_request& action) {
    try {
        if (auto r =
                run_status_action(store_, *engine_, s.state, action, s.phone, settings_.info_sms,
                                  to_unix_seconds(clock_.now()), on_queued_))
            return {r->text, r->end};
    } catch (const store::store_error& e) {
        spdlog::error("ussd: {} failed, told her to try later: {}", action.kind, e.what());
        menu::reply r = engine_->fail_action(s.state);
        return {r.text, r.end};
    }
    store::new_case c = case_from_session(action, s.state, "ussd", s.key + ":" + action.screen_id,
                                          s.phone, engine_->layout().source().default_language);
    c.session_id = s.key;
    s.write_now = true;
    try {
        store::case_record rec = store_.create_case(c, to_unix_seconds(clock_.now()));
        spdlog::info("ussd: case {} stored (topic {}, oblast {}, urgent {}, phone {})",
                     rec.reference, rec.topic, rec.oblast.empty() ? "-" : rec.oblast, rec.urgent,
                     mask_phone(s.phone));
        if (on_case_created_) on_case_created_(rec);
        menu::reply r = engine_->complete_action(s.state, rec.reference);
        return {r.text, r.end};
    } catch (const store::store_error& e) {
        spdlog::error("ussd: case NOT stored, told her to try later: {}", e.what());
        menu::reply r = engine_->fail_action(s.state);
        return {r.text, r.end};
    }
}

void ussd_service::persist(live_session& s, bool finished, bool must_store, bool deferred) {
    stored_state st{s.state,
                    {{"last_text", s.last_text},
                     {"last_reply", s.last_reply.text},
                     {"last_end", s.last_reply.end ? "1" : "0"},
                     {"resume_from", s.resume_from},
                     {"known_language", s.known_language}}};
    store::session_record rec{
        s.key,        s.phone,     "ussd", encode_state(st), finished ? "finished" : "active",
        s.started_at, s.updated_at};
    if (deferred) {
        unsaved_[rec.id] = std::move(rec);  // the caller flushes before answering
        return;
    }
    try {
        if (settings_.session_flush.count() == 0) {
            store_.save_session(rec);
            return;
        }
        unsaved_[rec.id] = std::move(rec);
        const long long now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                .count();
        if (s.write_now) {
            s.write_now = false;
            last_flush_ms_ = now_ms;
            flush_locked();
            return;
        }
        if (now_ms - last_flush_ms_ >= settings_.session_flush.count() || unsaved_.size() >= 1024) {
            last_flush_ms_ = now_ms;
            flush_locked();
        }
    } catch (const store::store_error& e) {
        if (must_store) throw;
        // The session goes on from memory; the store keeps an older state
        // with its inputs, onto which a restart replays the rest.
        spdlog::warn("ussd: session state not saved: {}", e.what());
    }
}

ussd_reply ussd_service::store_failure_reply(const std::string& aggregator,
                                             const std::string& session_id) {
    std::lock_guard lock(mutex_);
    const std::string key = aggregator + ":" + session_id;
    menu::session_state s;
    if (auto it = sessions_.find(key); it != sessions_.end()) {
        s = it->second->state;
        sessions_.erase(it);  // she is told the session ended
    }
    unsaved_.erase(key);
    return {engine_->ui(s, "store_error"), true};
}

void ussd_service::release(const std::string& aggregator, const std::string& session_id) {
    std::lock_guard lock(mutex_);
    const std::string key = aggregator + ":" + session_id;
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return;
    sessions_.erase(it);
    flush_locked();  // a pending write must not revive it
    store_.set_session_status(key, "abandoned");
}

std::size_t ussd_service::expire_idle_sessions() {
    std::lock_guard lock(mutex_);
    return expire_locked(to_unix_seconds(clock_.now()));
}

std::size_t ussd_service::expire_locked(long long now) {
    const long long cutoff = now - settings_.idle_timeout.count();
    std::size_t n = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (it->second->updated_at < cutoff) {
            it = sessions_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    if (n > 0) {
        flush_locked();  // pending writes first, or they would revive what is abandoned
        store_.abandon_idle_sessions(cutoff);
    }
    return n;
}

}  // namespace gw::service

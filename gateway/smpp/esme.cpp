#include "smpp/esme.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include "common/log.hpp"

namespace gw::smpp {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// A bind refused says why in words an operator's engineer recognises.
std::string bind_refusal(std::uint32_t st) {
    switch (st) {
        case status::invalid_password:
            return "bind refused: ESME_RINVPASWD (wrong password)";
        case status::invalid_system_id:
            return "bind refused: ESME_RINVSYSID (unknown system_id)";
        case status::bind_failed:
            return "bind refused: ESME_RBINDFAIL";
        default:
            return "bind refused: " + status_name(st);
    }
}

bool is_throttle(std::uint32_t st) {
    return st == status::throttled || st == status::message_queue_full;
}

}  // namespace

// ---------------------------------------------------------------------
// One connection with its bind (transceiver, transmitter or receiver).
// All members are touched on the SMPP thread only, except `state` (mutex).

struct esme::impl : std::enable_shared_from_this<esme::impl> {
    struct pending_request {
        std::uint32_t command = 0;
        clock::time_point deadline;
        std::function<void(const pdu*, const std::string& error)> done;
    };
    struct queued_submit {
        pdu p;
        clock::time_point deadline;
        std::function<void(const submit_result&)> done;
    };
    struct connection {
        std::uint32_t bind_command = cmd::bind_transceiver;
        std::unique_ptr<ssl::stream<tcp::socket>> stream;
        bool open = false;
        bool bound = false;
        std::uint64_t generation = 0;  // a new socket each time
        std::deque<std::string> writes;
        bool writing = false;
        std::map<std::uint32_t, pending_request> pending;
        std::uint32_t next_sequence = 1;
        std::size_t submits_in_flight = 0;
        std::string detail = "not started";
        std::unique_ptr<asio::steady_timer> wake;  // the run loop waits on it while bound
    };

    asio::io_context& io;
    link_settings settings;
    deliver_handler handler;
    ssl::context tls{ssl::context::tls_client};
    std::vector<std::unique_ptr<connection>> connections;  // [0] sends submits
    std::deque<queued_submit> queue;
    clock::time_point throttled_until{};
    std::chrono::milliseconds throttle_pause{0};
    bool stopping = false;
    asio::steady_timer sweep_timer;
    asio::steady_timer throttle_timer;  // pump() again when a throttling pause ends
    std::mt19937 random{std::random_device{}()};
    mutable std::mutex state_mutex;
    link_state snapshot;

    impl(asio::io_context& i, link_settings s, deliver_handler h)
        : io(i), settings(std::move(s)), handler(std::move(h)), sweep_timer(i), throttle_timer(i) {
        // The operator's certificate is checked (chain and host name): a
        // private CA is given by file, else the system's trusted ones.
        tls.set_default_verify_paths();
        if (!settings.tls_ca_file.empty()) {
            error_code ec;
            tls.load_verify_file(settings.tls_ca_file, ec);
            if (ec)  // every handshake then fails, and says so
                spdlog::error("smpp/{}: cannot read tls_ca_file {}: {}", settings.name,
                              settings.tls_ca_file, ec.message());
        }
        tls.set_verify_mode(ssl::verify_peer);
        if (settings.transceiver) {
            connections.push_back(std::make_unique<connection>());
        } else {
            connections.push_back(std::make_unique<connection>());
            connections.back()->bind_command = cmd::bind_transmitter;
            connections.push_back(std::make_unique<connection>());
            connections.back()->bind_command = cmd::bind_receiver;
        }
        for (auto& c : connections) c->wake = std::make_unique<asio::steady_timer>(io);
    }

    std::string who(const connection& c) const {
        return "smpp/" + settings.name +
               (c.bind_command == cmd::bind_transceiver   ? ""
                : c.bind_command == cmd::bind_transmitter ? " (transmitter)"
                                                          : " (receiver)");
    }

    // ---- state for /healthz and /metrics
    template <class F>
    void update(F&& f) {
        std::lock_guard lock(state_mutex);
        f(snapshot);
    }
    void publish() {
        bool all_bound = true;
        std::string detail;
        for (const auto& c : connections) {
            all_bound = all_bound && c->bound;
            if (!detail.empty()) detail += "; ";
            detail += c->detail;
        }
        update([&](link_state& s) {
            s.bound = all_bound;
            s.detail = detail;
            s.queued = queue.size();
        });
    }

    // ---- writing
    void send(connection& c, const pdu& p) {
        std::string bytes;
        try {
            bytes = encode(p);
        } catch (const std::exception& e) {
            spdlog::error("{}: cannot encode {}: {}", who(c), command_name(p.command_id), e.what());
            return;
        }
        c.writes.push_back(std::move(bytes));
        if (!c.writing) asio::co_spawn(io, write_loop(c, c.generation), asio::detached);
    }

    awaitable<void> write_loop(connection& c, std::uint64_t generation) {
        auto self = shared_from_this();
        c.writing = true;
        while (!c.writes.empty() && c.open && c.generation == generation) {
            std::string bytes = std::move(c.writes.front());
            c.writes.pop_front();
            const error_code ec =
                co_await transfer(c, asio::const_buffer(bytes.data(), bytes.size()));
            if (ec) {
                if (c.generation == generation) close(c, "write failed: " + ec.message());
                break;
            }
        }
        if (c.generation == generation) c.writing = false;
    }

    std::uint32_t next_sequence(connection& c) {
        std::uint32_t s = c.next_sequence;
        c.next_sequence = c.next_sequence >= 0x7FFFFFFF ? 1 : c.next_sequence + 1;
        return s;
    }

    // Sends a request; `done` gets its response or an error (timeout, link lost).
    void request(connection& c, pdu p, clock::time_point deadline,
                 std::function<void(const pdu*, const std::string&)> done) {
        p.sequence = next_sequence(c);
        c.pending[p.sequence] = {p.command_id, deadline, std::move(done)};
        send(c, p);
    }

    // ---- closing
    void close(connection& c, const std::string& why) {
        if (!c.open) return;
        c.open = false;
        const bool was_bound = c.bound;
        c.bound = false;
        ++c.generation;
        error_code ignored;
        c.stream->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        c.stream->next_layer().close(ignored);
        c.writes.clear();
        c.writing = false;
        c.submits_in_flight = 0;
        auto pending = std::move(c.pending);
        c.pending.clear();
        for (auto& [seq, r] : pending)
            if (r.done) r.done(nullptr, "link lost: " + why);
        if (was_bound) {
            spdlog::warn("{}: link lost: {}", who(c), why);
            update([](link_state& s) { ++s.link_losses; });
        }
        c.wake->cancel();
        if (c.detail == "bound" || c.detail == "connecting") c.detail = "link down: " + why;
        publish();
    }

    // Reads the whole buffer, or writes the whole of it, over TLS or plain
    // TCP as the link is configured.
    awaitable<error_code> transfer(connection& c, asio::mutable_buffer into) {
        error_code ec;
        if (settings.tls)
            co_await asio::async_read(*c.stream, into, asio::redirect_error(use_awaitable, ec));
        else
            co_await asio::async_read(c.stream->next_layer(), into,
                                      asio::redirect_error(use_awaitable, ec));
        co_return ec;
    }
    awaitable<error_code> transfer(connection& c, asio::const_buffer from) {
        error_code ec;
        if (settings.tls)
            co_await asio::async_write(*c.stream, from, asio::redirect_error(use_awaitable, ec));
        else
            co_await asio::async_write(c.stream->next_layer(), from,
                                       asio::redirect_error(use_awaitable, ec));
        co_return ec;
    }

    // ---- reading
    awaitable<void> read_loop(connection& c, std::uint64_t generation) {
        auto self = shared_from_this();
        std::array<unsigned char, header_size> header{};
        std::string body;
        while (c.open && c.generation == generation) {
            error_code ec = co_await transfer(c, asio::buffer(header));
            if (ec || c.generation != generation) {
                if (c.generation == generation) close(c, ec ? ec.message() : "closed");
                co_return;
            }
            const std::uint32_t length = peek_length(header.data());
            if (length < header_size || length > max_pdu_size) {
                // No way to find the next PDU in the stream: start afresh.
                spdlog::warn("{}: PDU of impossible length {} received; reconnecting", who(c),
                             length);
                close(c, "bad PDU length");
                co_return;
            }
            body.assign(reinterpret_cast<const char*>(header.data()), header.size());
            body.resize(length);
            if (length > header_size) {
                ec = co_await transfer(
                    c, asio::buffer(body.data() + header_size, length - header_size));
                if (ec || c.generation != generation) {
                    if (c.generation == generation) close(c, ec ? ec.message() : "closed");
                    co_return;
                }
            }
            dispatch(c, body);
        }
    }

    void nack(connection& c, std::uint32_t sequence, std::uint32_t st) {
        pdu n;
        n.command_id = cmd::generic_nack;
        n.command_status = st;
        n.sequence = sequence;
        send(c, n);
        update([](link_state& s) { ++s.nacks_sent; });
    }

    void dispatch(connection& c, const std::string& bytes) {
        auto decoded = decode(bytes);
        const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data());
        const std::uint32_t id = peek_length(raw + 4);
        const std::uint32_t sequence = peek_length(raw + 12);
        if (!decoded) {
            spdlog::warn("{}: {} refused: {}", who(c), command_name(id), decoded.error());
            if (!cmd::is_response(id)) nack(c, sequence, status::invalid_command_length);
            return;
        }
        const pdu& p = *decoded;
        if (cmd::is_response(p.command_id)) {
            auto it = c.pending.find(p.sequence);
            if (it == c.pending.end()) {
                spdlog::debug("{}: {} for no request of ours", who(c), command_name(p.command_id));
                return;
            }
            // A generic_nack answers whatever request had this sequence.
            if (p.command_id != cmd::generic_nack &&
                p.command_id != (it->second.command | 0x80000000u)) {
                spdlog::warn("{}: {} answers a {}; ignored", who(c), command_name(p.command_id),
                             command_name(it->second.command));
                return;
            }
            auto done = std::move(it->second.done);
            c.pending.erase(it);
            if (done) done(&p, {});
            return;
        }
        pdu resp;
        resp.sequence = p.sequence;
        switch (p.command_id) {
            case cmd::enquire_link:
                resp.command_id = cmd::enquire_link_resp;
                send(c, resp);
                return;
            case cmd::unbind:
                resp.command_id = cmd::unbind_resp;
                send(c, resp);
                spdlog::warn("{}: the SMSC unbound", who(c));
                // Closed once the answer is written; then we bind again.
                asio::post(io, [self = shared_from_this(), &c, g = c.generation] {
                    if (c.generation == g) self->close(c, "unbound by the SMSC");
                });
                return;
            case cmd::deliver_sm: {
                if (!c.bound) {
                    resp.command_id = cmd::deliver_sm_resp;
                    resp.command_status = status::incorrect_bind_status;
                    send(c, resp);
                    return;
                }
                resp.command_id = cmd::deliver_sm_resp;
                try {
                    resp.command_status = handler ? handler(p) : status::system_error;
                } catch (const std::exception& e) {
                    spdlog::error("{}: deliver_sm not handled, the SMSC will retry: {}", who(c),
                                  e.what());
                    resp.command_status = status::temporary_app_error;
                }
                update([](link_state& s) { ++s.delivered; });
                send(c, resp);
                return;
            }
            default:
                spdlog::info("{}: {} not supported, answered generic_nack", who(c),
                             command_name(p.command_id));
                nack(c, p.sequence, status::invalid_command_id);
                return;
        }
    }

    // ---- connecting, binding, keeping alive
    awaitable<void> run(connection& c) {
        auto self = shared_from_this();
        std::chrono::milliseconds backoff = settings.reconnect_min;
        while (!stopping) {
            c.detail = "connecting";
            publish();
            const std::string failure = co_await connect_and_bind(c);
            if (c.bound) {
                backoff = settings.reconnect_min;
                co_await keep_alive(c);
            } else if (!failure.empty()) {
                c.detail = failure;
                publish();
            }
            close(c, stopping ? "stopping" : "reconnecting");
            if (stopping) break;
            // Jitter keeps several gateways from binding again in step.
            std::uniform_real_distribution<double> jitter(0.5, 1.0);
            auto wait = std::chrono::milliseconds(
                static_cast<long long>(static_cast<double>(backoff.count()) * jitter(random)));
            spdlog::info("{}: connecting again in {} ms", who(c), wait.count());
            error_code ec;
            c.wake->expires_after(wait);
            co_await c.wake->async_wait(asio::redirect_error(use_awaitable, ec));
            backoff = std::min(backoff * 2, settings.reconnect_max);
        }
        c.detail = "stopped";
        publish();
    }

    // Returns why the link is not bound ("" once bound or when stopping).
    awaitable<std::string> connect_and_bind(connection& c) {
        error_code ec;
        c.stream = std::make_unique<ssl::stream<tcp::socket>>(io, tls);
        auto resolver = std::make_shared<tcp::resolver>(io);
        auto finished = std::make_shared<bool>(false);
        asio::steady_timer deadline(io);
        deadline.expires_after(settings.response_timeout);
        auto* socket = &c.stream->next_layer();
        deadline.async_wait([resolver, finished, socket](error_code e) {
            if (e || *finished) return;
            resolver->cancel();
            error_code ignored;
            socket->close(ignored);
        });
        auto endpoints = co_await resolver->async_resolve(
            settings.host, std::to_string(settings.port), asio::redirect_error(use_awaitable, ec));
        if (!ec)
            co_await asio::async_connect(c.stream->next_layer(), endpoints,
                                         asio::redirect_error(use_awaitable, ec));
        if (!ec && settings.tls) {
            SSL_set_tlsext_host_name(c.stream->native_handle(), settings.host.c_str());
            c.stream->set_verify_callback(ssl::host_name_verification(settings.host));
            co_await c.stream->async_handshake(ssl::stream_base::client,
                                               asio::redirect_error(use_awaitable, ec));
        }
        *finished = true;
        deadline.cancel();
        if (stopping) co_return std::string{};
        if (ec) {
            spdlog::warn("{}: cannot connect to {}:{}: {}", who(c), settings.host, settings.port,
                         ec.message());
            co_return "cannot connect: " + ec.message();
        }
        // Screens are small PDUs the operator's timer waits for: no Nagle delay.
        c.stream->next_layer().set_option(tcp::no_delay(true), ec);
        c.open = true;
        ++c.generation;
        c.next_sequence = 1;
        asio::co_spawn(io, read_loop(c, c.generation), asio::detached);

        pdu bind;
        bind.command_id = c.bind_command;
        bind.system_id = settings.system_id;
        bind.password = settings.password;
        bind.system_type = settings.system_type;
        auto [answer, error] = co_await ask(c, bind, settings.response_timeout);
        if (!answer) {
            spdlog::warn("{}: no answer to {}: {}", who(c), command_name(c.bind_command), error);
            co_return "no answer to bind: " + error;
        }
        if (answer->command_status != status::ok) {
            // The one line an operator needs: which link, what the SMSC said.
            const std::string why = bind_refusal(answer->command_status);
            spdlog::error(
                "{}: {} (system_id {}); check the password and system_id given by "
                "the operator",
                who(c), why, settings.system_id);
            co_return why;
        }
        c.bound = true;
        c.detail = "bound";
        update([](link_state& s) { ++s.binds; });
        spdlog::info("{}: bound to {}:{} as {} ({})", who(c), settings.host, settings.port,
                     settings.system_id, answer->system_id);
        publish();
        pump();
        co_return std::string{};
    }

    // While bound: enquire_link every interval; a link that does not
    // answer is closed (and bound again).
    awaitable<void> keep_alive(connection& c) {
        const auto generation = c.generation;
        while (c.open && c.generation == generation && !stopping) {
            error_code ec;
            c.wake->expires_after(settings.enquire_link_interval);
            co_await c.wake->async_wait(asio::redirect_error(use_awaitable, ec));
            if (!c.open || c.generation != generation || stopping) break;
            pdu ping;
            ping.command_id = cmd::enquire_link;
            request(c, ping, clock::now() + settings.response_timeout,
                    [this, &c, generation](const pdu* p, const std::string& e) {
                        if (!p && c.generation == generation)
                            close(c, "no answer to enquire_link: " + e);
                    });
        }
        if (stopping && c.open && c.bound) co_await unbind(c);
    }

    awaitable<void> unbind(connection& c) {
        pdu u;
        u.command_id = cmd::unbind;
        co_await ask(c, u, std::chrono::seconds(1));
        spdlog::info("{}: unbound", who(c));
    }

    // Sends a request and waits for its answer, or for `timeout`. The
    // shared state outlives this frame: a late answer finds it.
    struct answer_state {
        explicit answer_state(asio::io_context& io) : timer(io) {}
        asio::steady_timer timer;
        std::optional<pdu> answer;
        std::string error;
        bool done = false;
    };
    awaitable<std::pair<std::optional<pdu>, std::string>> ask(connection& c, pdu p,
                                                              std::chrono::milliseconds timeout) {
        auto st = std::make_shared<answer_state>(io);
        st->timer.expires_after(timeout + std::chrono::milliseconds(100));
        request(c, std::move(p), clock::now() + timeout, [st](const pdu* r, const std::string& e) {
            if (r) st->answer = *r;
            st->error = e;
            st->done = true;
            st->timer.cancel();
        });
        if (!st->done) {
            error_code ec;
            co_await st->timer.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        if (!st->done) st->error = "no answer in time";
        co_return std::make_pair(st->answer, st->error);
    }

    // ---- submits
    connection& sender() { return *connections.front(); }

    void pump() {
        connection& c = sender();
        const auto now = clock::now();
        while (!queue.empty() && c.bound && c.submits_in_flight < settings.window &&
               now >= throttled_until) {
            queued_submit q = std::move(queue.front());
            queue.pop_front();
            if (now >= q.deadline) {
                fail(q, "timed out waiting to be sent");
                continue;
            }
            ++c.submits_in_flight;
            auto shared = std::make_shared<queued_submit>(std::move(q));
            request(c, shared->p, shared->deadline,
                    [this, &c, shared, g = c.generation](const pdu* p, const std::string& e) {
                        if (c.generation == g && c.submits_in_flight > 0) --c.submits_in_flight;
                        on_submit_answer(*shared, p, e);
                        pump();
                    });
        }
        publish();
    }

    void on_submit_answer(queued_submit& q, const pdu* p, const std::string& error) {
        if (p && is_throttle(p->command_status)) {
            // Slow down: nothing more is sent until the pause is over; this
            // one goes first again when it is.
            throttle_pause = throttle_pause.count() == 0
                                 ? settings.throttle_pause
                                 : std::min(throttle_pause * 2, std::chrono::milliseconds(30000));
            throttled_until = clock::now() + throttle_pause;
            update([](link_state& s) { ++s.throttled; });
            spdlog::warn("smpp/{}: SMSC says {}; pausing submits for {} ms", settings.name,
                         status_name(p->command_status), throttle_pause.count());
            if (clock::now() + throttle_pause < q.deadline) {
                queue.push_front(std::move(q));
                throttle_timer.expires_after(throttle_pause);
                throttle_timer.async_wait([self = shared_from_this()](error_code ec) {
                    if (!ec) self->pump();
                });
                return;
            }
            submit_result r{p->command_status, {}, {}};
            update([](link_state& s) { ++s.submit_failures; });
            q.done(r);
            return;
        }
        if (!p) {
            fail(q, error);
            return;
        }
        if (p->command_status == status::ok) throttle_pause = std::chrono::milliseconds(0);
        submit_result r{p->command_status, p->message_id, {}};
        update([&](link_state& s) {
            ++s.submitted;
            if (p->command_status != status::ok) ++s.submit_failures;
        });
        q.done(r);
    }

    void fail(queued_submit& q, const std::string& why) {
        update([](link_state& s) { ++s.submit_failures; });
        submit_result r;
        r.error = why;
        if (q.done) q.done(r);
    }

    // Every 250 ms: requests past their deadline fail, queued submits too.
    void sweep() {
        sweep_timer.expires_after(std::chrono::milliseconds(250));
        sweep_timer.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || self->stopping) return;
            const auto now = clock::now();
            for (auto& c : self->connections) {
                std::vector<std::function<void(const pdu*, const std::string&)>> expired;
                for (auto it = c->pending.begin(); it != c->pending.end();) {
                    if (now >= it->second.deadline) {
                        expired.push_back(std::move(it->second.done));
                        it = c->pending.erase(it);
                    } else {
                        ++it;
                    }
                }
                for (auto& done : expired)
                    if (done) done(nullptr, "no answer in time");
            }
            for (auto it = self->queue.begin(); it != self->queue.end();) {
                if (now >= it->deadline) {
                    queued_submit q = std::move(*it);
                    it = self->queue.erase(it);
                    self->fail(q, self->sender().bound ? "timed out waiting to be sent"
                                                       : "not bound: " + self->sender().detail);
                } else {
                    ++it;
                }
            }
            self->pump();
            self->sweep();
        });
    }

    void begin() {
        for (auto& c : connections) asio::co_spawn(io, run(*c), asio::detached);
        sweep();
    }

    void end() {
        stopping = true;
        sweep_timer.cancel();
        throttle_timer.cancel();
        for (auto& c : connections) {
            if (c->bound) {
                c->wake->cancel();  // keep_alive unbinds, then run() closes
            } else {
                c->wake->cancel();
                close(*c, "stopping");
                c->detail = "stopped";
            }
        }
        while (!queue.empty()) {
            queued_submit q = std::move(queue.front());
            queue.pop_front();
            fail(q, "stopped");
        }
        publish();
    }
};

esme::esme(asio::io_context& io, link_settings settings, deliver_handler handler)
    : impl_(std::make_shared<impl>(io, std::move(settings), std::move(handler))) {}

esme::~esme() = default;

void esme::start() {
    asio::post(impl_->io, [i = impl_] { i->begin(); });
}

void esme::stop() {
    asio::post(impl_->io, [i = impl_] { i->end(); });
}

void esme::submit(pdu p, clock::time_point deadline,
                  std::function<void(const submit_result&)> done) {
    // Posted even on the SMPP thread: a deliver_sm's response goes out
    // before the submit_sm that answers it.
    asio::post(impl_->io,
               [i = impl_, p = std::move(p), deadline, done = std::move(done)]() mutable {
                   if (i->stopping) {
                       submit_result r;
                       r.error = "stopped";
                       done(r);
                       return;
                   }
                   i->queue.push_back({std::move(p), deadline, std::move(done)});
                   i->pump();
               });
}

link_state esme::state() const {
    std::lock_guard lock(impl_->state_mutex);
    return impl_->snapshot;
}

const link_settings& esme::settings() const {
    return impl_->settings;
}

}  // namespace gw::smpp

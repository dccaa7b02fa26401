#include "server/http_server.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.hpp"

namespace gw::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// One live connection, visible to stop() so idle ones can be closed.
struct connection {
    explicit connection(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    bool idle = true;  // waiting for the next request (touched on the strand only)
};

// Whether a path prefix from server.body_limits covers `path`.
bool prefix_covers(std::string_view prefix, std::string_view path) {
    if (prefix.empty() || path.substr(0, prefix.size()) != prefix) return false;
    return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

bool iequals_trimmed(beast::string_view value, beast::string_view word) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return beast::iequals(value, word);
}

// RFC 9112 §6.1 and §6.3: the one transfer coding accepted is a lone
// "chunked", never with Content-Length and never in HTTP/1.0. Beast treats
// any other coding as "no body" and would read the body as the next
// request; a proxy in front may frame it differently. Such a gap is how
// requests are smuggled, so these are refused, not guessed at.
// Returns why the framing is refused, or nullptr when it is sound.
const char* framing_problem(const bhttp::request_header<>& h) {
    auto codings = h.equal_range(bhttp::field::transfer_encoding);
    if (codings.first == codings.second) return nullptr;
    if (h.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    if (std::next(codings.first) != codings.second) return "repeated Transfer-Encoding";
    if (!iequals_trimmed(codings.first->value(), "chunked"))
        return "unsupported Transfer-Encoding (only chunked)";
    if (h.count(bhttp::field::content_length)) return "both Transfer-Encoding and Content-Length";
    return nullptr;
}

http::request to_plain(bhttp::request<bhttp::string_body>&& r, const std::string& remote) {
    http::request out;
    out.method = std::string(r.method_string());
    out.target = std::string(r.target());
    for (const auto& f : r)
        out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(r.body());
    out.remote_address = remote;
    http::split_target(out);
    return out;
}

}  // namespace

class http_server::impl {
public:
    impl(server_options o, request_handler h)
        : options(std::move(o)),
          handler(std::move(h)),
          ioc(options.io_threads),
          workers(1),
          acceptor(ioc),
          signals(ioc),
          hangup(ioc),
          drain_timer(ioc) {}

    server_options options;
    request_handler handler;
    asio::io_context ioc;
    asio::thread_pool workers;  // one thread: the store has one writer
    tcp::acceptor acceptor;
    asio::signal_set signals;
    asio::signal_set hangup;
    std::function<void()> reload;
    std::function<void(const std::string&, int, double)> observer;

    void await_hangup() {
        hangup.async_wait([this](beast::error_code ec, int) {
            if (ec) return;
            spdlog::info("http: SIGHUP received, reloading");
            try {
                reload();
            } catch (const std::exception& e) {
                spdlog::error("reload failed: {}", e.what());
            }
            await_hangup();
        });
    }
    asio::steady_timer drain_timer;
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    std::mutex connections_mutex;
    std::list<std::shared_ptr<connection>> connections;
    std::atomic<bool> joined{false};

    // The body limit for a path: the longest server.body_limits prefix
    // that covers it, else body_limit.
    std::size_t body_limit_for(std::string_view path) const {
        std::size_t limit = options.body_limit, matched = 0;
        for (const auto& [prefix, l] : options.body_limits)
            if (prefix.size() > matched && prefix_covers(prefix, path)) {
                matched = prefix.size();
                limit = l;
            }
        return limit;
    }
    std::size_t largest_body_limit() const {
        std::size_t limit = options.body_limit;
        for (const auto& [prefix, l] : options.body_limits) limit = std::max(limit, l);
        return limit;
    }

    // One handler call handed to the worker thread. The coroutine waits on
    // `done`, a timer on its own strand that the worker cancels when the
    // response is ready (Boost 1.74 has no channels or as_tuple).
    struct handler_call {
        explicit handler_call(asio::any_io_executor ex) : done(ex) {
            done.expires_at(asio::steady_timer::time_point::max());
        }
        asio::steady_timer done;
        http::request request;
        http::response response;
        std::exception_ptr error;
    };

    // Runs the handler on the worker thread and resumes on the connection's strand.
    awaitable<http::response> run_handler(http::request req) {
        auto call = std::make_shared<handler_call>(co_await asio::this_coro::executor);
        call->request = std::move(req);
        asio::post(workers, [this, call] {
            try {
                call->response = handler(call->request);
            } catch (...) {
                call->error = std::current_exception();
            }
            asio::post(call->done.get_executor(), [call] { call->done.cancel(); });
        });
        beast::error_code ec;
        co_await call->done.async_wait(asio::redirect_error(use_awaitable, ec));
        if (call->error) std::rethrow_exception(call->error);
        co_return std::move(call->response);
    }

    awaitable<void> write_response(connection& c, const bhttp::request_header<>& head,
                                   http::response res, bool keep_alive) {
        bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status),
                                                head.version()};
        out.set(bhttp::field::server, "hotline-gateway");
        out.set(bhttp::field::content_type, res.content_type);
        for (auto& [k, v] : res.headers) out.set(k, v);
        out.keep_alive(keep_alive);
        if (head.method() != bhttp::verb::head) out.body() = std::move(res.body);
        out.prepare_payload();
        beast::error_code ec;
        c.stream.expires_after(options.write_timeout);
        co_await bhttp::async_write(c.stream, out, asio::redirect_error(use_awaitable, ec));
        if (ec) throw beast::system_error(ec);
    }

    // Refuses a request with `status` and closes the connection. What the
    // client is still sending is read and dropped for a moment first: closing
    // with unread data sends a reset, which can destroy the answer before
    // the client has read it.
    awaitable<void> refuse_request(connection& c, const bhttp::request_header<>& head, int status,
                                   const std::string& reason, const std::string& detail) {
        spdlog::info("http: {} from client: {}", status, detail);
        co_await write_response(c, head, http::error_response(status, reason), false);
        beast::error_code ec;
        c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        c.stream.expires_after(std::chrono::seconds(1));
        std::array<char, 4096> sink;
        for (std::size_t dropped = 0; dropped < 256 * 1024;) {
            dropped += co_await c.stream.async_read_some(asio::buffer(sink),
                                                         asio::redirect_error(use_awaitable, ec));
            if (ec) break;
        }
    }

    static bool quiet_end(const beast::error_code& ec) {
        return ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
               ec == beast::error::timeout || ec == asio::error::connection_reset ||
               ec == asio::error::eof || ec == bhttp::error::partial_message;
    }

    static std::pair<int, std::string> status_for(const beast::error_code& ec) {
        if (ec == bhttp::error::body_limit) return {413, "request body too large"};
        if (ec == bhttp::error::header_limit) return {431, "request header fields too large"};
        return {400, "malformed HTTP request"};
    }

    awaitable<void> session(std::shared_ptr<connection> c) {
        std::string remote;
        {
            beast::error_code ec;
            auto ep = c->stream.socket().remote_endpoint(ec);
            if (!ec) remote = ep.address().to_string();
        }
        beast::flat_buffer buffer;
        const std::size_t largest_limit = largest_body_limit();
        try {
            for (;;) {
                if (stopping) break;
                // The header first: framing and the route's body limit are
                // decided before a byte of the body is read.
                bhttp::request_parser<bhttp::empty_body> head_parser;
                head_parser.body_limit(largest_limit);  // the route's limit is checked below
                head_parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
                beast::error_code ec;
                c->idle = true;
                // One deadline for the whole request, header and body.
                c->stream.expires_after(options.read_timeout);
                co_await bhttp::async_read_header(c->stream, buffer, head_parser,
                                                  asio::redirect_error(use_awaitable, ec));
                c->idle = false;
                if (quiet_end(ec)) break;
                if (ec) {
                    auto [status, reason] = status_for(ec);
                    co_await refuse_request(*c, head_parser.get().base(), status, reason,
                                            ec.message());
                    break;
                }
                const bhttp::request_header<>& header = head_parser.get().base();
                if (const char* problem = framing_problem(header)) {
                    co_await refuse_request(*c, header, 400, problem, problem);
                    break;
                }
                const std::string_view target(header.target().data(), header.target().size());
                const std::size_t limit = body_limit_for(target.substr(0, target.find('?')));
                if (const auto length = head_parser.content_length(); length && *length > limit) {
                    co_await refuse_request(*c, header, 413, "request body too large",
                                            "Content-Length over the body limit for the path");
                    break;
                }
                // A client that waits for leave to send the body (curl does
                // above 1 kB) gets it now rather than after its own timeout.
                if (!head_parser.is_done() && header.version() >= 11 &&
                    iequals_trimmed(header[bhttp::field::expect], "100-continue")) {
                    static const std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
                    co_await asio::async_write(c->stream, asio::buffer(go_on),
                                               asio::redirect_error(use_awaitable, ec));
                    if (ec) break;
                }
                bhttp::request_parser<bhttp::string_body> parser(std::move(head_parser));
                parser.body_limit(limit);
                if (!parser.is_done()) {
                    co_await bhttp::async_read(c->stream, buffer, parser,
                                               asio::redirect_error(use_awaitable, ec));
                    if (quiet_end(ec)) break;
                    if (ec) {
                        auto [status, reason] = status_for(ec);
                        co_await refuse_request(*c, parser.get().base(), status, reason,
                                                ec.message());
                        break;
                    }
                }
                auto started = std::chrono::steady_clock::now();
                bhttp::request<bhttp::string_body> req = parser.release();
                const bool keep_alive = req.keep_alive();
                bhttp::request_header<> head = req.base();
                http::request plain = to_plain(std::move(req), remote);
                const std::string path = plain.path;
                http::response res;
                try {
                    res = co_await run_handler(std::move(plain));
                } catch (const std::exception& e) {
                    // Details stay in the log, never in the response.
                    spdlog::error("http: handler failed on {}: {}", path, e.what());
                    res = http::error_response(500, "internal error");
                }
                const int status = res.status;
                co_await write_response(*c, head, std::move(res), keep_alive && !stopping);
                auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
                if (observer) observer(path, status, micros / 1e6);
                spdlog::debug("http: {} {} {} {}us", std::string(head.method_string()), path,
                              status, micros);
                if (!keep_alive) break;
            }
        } catch (const std::exception& e) {
            spdlog::debug("http: connection ended: {}", e.what());
        }
        beast::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        c->stream.close();
        forget(c);
    }

    void forget(const std::shared_ptr<connection>& c) {
        std::lock_guard lock(connections_mutex);
        connections.remove(c);
        if (stopping && connections.empty()) drain_timer.cancel();
    }

    awaitable<void> refuse(tcp::socket socket) {
        // Over the connection limit: a short answer, then close.
        static const std::string busy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 14\r\nConnection: close\r\n"
            "Retry-After: 1\r\n\r\ntoo many conns";
        beast::tcp_stream stream(std::move(socket));
        stream.expires_after(std::chrono::seconds(2));
        beast::error_code ec;
        co_await asio::async_write(stream, asio::buffer(busy),
                                   asio::redirect_error(use_awaitable, ec));
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    awaitable<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(asio::make_strand(ioc));
            co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
                spdlog::warn("http: accept failed: {}", ec.message());
                continue;
            }
            auto executor = socket.get_executor();
            std::shared_ptr<connection> c;
            {
                std::lock_guard lock(connections_mutex);
                if (connections.size() >= options.max_connections) {
                    asio::co_spawn(executor, refuse(std::move(socket)), asio::detached);
                    continue;
                }
                c = std::make_shared<connection>(std::move(socket));
                connections.push_back(c);
            }
            asio::co_spawn(executor, session(c), asio::detached);
        }
    }

    void begin_stop() {
        if (stopping.exchange(true)) return;
        asio::post(ioc, [this] {
            spdlog::info("http: stopping: no new connections, draining in-flight requests");
            beast::error_code ec;
            acceptor.close(ec);
            signals.cancel(ec);
            hangup.cancel(ec);
            std::lock_guard lock(connections_mutex);
            if (connections.empty()) return;
            for (auto& c : connections) {
                asio::post(c->stream.get_executor(), [c] {
                    if (c->idle) c->stream.cancel();
                });
            }
            drain_timer.expires_after(options.drain_timeout);
            drain_timer.async_wait([this](beast::error_code ec) {
                if (ec) return;  // drained in time
                spdlog::warn("http: drain timeout, closing remaining connections");
                ioc.stop();
            });
        });
    }
};

http_server::http_server(server_options options, request_handler handler)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handler))) {}

http_server::~http_server() {
    stop();
    wait();
}

unsigned short http_server::start() {
    auto& i = *impl_;
    tcp::endpoint ep(asio::ip::make_address(i.options.address), i.options.port);
    i.acceptor.open(ep.protocol());
    i.acceptor.set_option(asio::socket_base::reuse_address(true));
    i.acceptor.bind(ep);
    i.acceptor.listen(asio::socket_base::max_listen_connections);
    unsigned short port = i.acceptor.local_endpoint().port();
    asio::co_spawn(i.ioc, i.accept_loop(), asio::detached);
    for (int t = 0; t < i.options.io_threads; ++t) i.threads.emplace_back([&i] { i.ioc.run(); });
    spdlog::info("http: listening on {}:{}", i.options.address, port);
    return port;
}

void http_server::stop_on_signals() {
    auto& i = *impl_;
    i.signals.add(SIGINT);
    i.signals.add(SIGTERM);
    i.signals.async_wait([this](beast::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("http: signal {} received", sig);
        impl_->begin_stop();
    });
}

void http_server::on_response(std::function<void(const std::string&, int, double)> observer) {
    impl_->observer = std::move(observer);
}

void http_server::reload_on_sighup(std::function<void()> reload) {
    auto& i = *impl_;
    i.reload = std::move(reload);
    i.hangup.add(SIGHUP);
    i.await_hangup();
}

void http_server::stop() {
    if (impl_->threads.empty()) return;
    impl_->begin_stop();
}

void http_server::wait() {
    auto& i = *impl_;
    if (i.joined.exchange(true)) return;
    for (auto& t : i.threads) t.join();
    i.workers.join();
}

}  // namespace gw::server

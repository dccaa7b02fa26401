#include "server/http_server.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <optional>
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

using clock = std::chrono::steady_clock;

// Handlers spend most of their time waiting for the store's group commit,
// not computing: more of them waiting means more hops carried by one
// commit (measured: 2 threads ~3.5k hops/s, 64 ~5k on 2 cores).
std::size_t handler_thread_count(int configured) {
    if (configured > 0) return static_cast<std::size_t>(configured);
    return std::clamp<std::size_t>(16 * std::thread::hardware_concurrency(), 32, 64);
}

// Descriptors kept for the rest of the process besides the connections:
// the store, outbound HTTP, files served, sockets being refused, the log.
constexpr std::size_t descriptor_reserve = 64;
// Fewer connections than this is no service: start() refuses instead.
constexpr std::size_t min_connections = 8;

// One live connection, visible to stop() so idle ones can be closed.
struct connection {
    connection(tcp::socket s, std::string key)
        : stream(std::move(s)), address_key(std::move(key)) {}
    beast::tcp_stream stream;
    std::string address_key;  // what max_connections_per_address counts by
    bool idle = true;         // waiting for the next request (touched on the strand only)
};

// The client a connection counts against: its IPv4 address, or the /64 of
// an IPv6 one (a single host often holds a whole /64).
std::string address_key(const asio::ip::address& a) {
    if (a.is_v6()) {
        const auto v6 = a.to_v6();
        if (v6.is_v4_mapped())
            return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
        auto bytes = v6.to_bytes();
        std::fill(bytes.begin() + 8, bytes.end(), 0);
        return asio::ip::address_v6(bytes).to_string() + "/64";
    }
    return a.to_string();
}

// A warning that can repeat many times a second (accept failures, refusals):
// written at most once per period, with how many were held back.
class log_throttle {
  public:
    explicit log_throttle(clock::duration period) : period_(period) {}
    // True when a line may be written now; `held_back` gets the number of
    // occurrences since the last line that were not written.
    bool allow(std::size_t& held_back) {
        const auto now = clock::now();
        if (written_ && now - last_ < period_) {
            ++held_back_;
            return false;
        }
        written_ = true;
        last_ = now;
        held_back = held_back_;
        held_back_ = 0;
        return true;
    }

  private:
    clock::duration period_;
    clock::time_point last_{};
    bool written_ = false;
    std::size_t held_back_ = 0;
};

// " (n more since the last report)", or nothing for the first of a series.
std::string more_since(std::size_t n) {
    return n == 0 ? std::string() : " (" + std::to_string(n) + " more since the last report)";
}

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

// A whole 503 response, for connections refused before any request is read.
std::string busy_response(std::string_view reason) {
    std::string body = std::string(reason) + "\n";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: hotline-gateway\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" + body;
}

// Descriptors this process has open now (a guess when /proc is missing).
std::size_t open_descriptors() {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return ec || n == 0 ? 32 : n;
}

bool out_of_descriptors(const beast::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

// Accept failures that concern one connection only (it was gone, or a
// firewall said no): the next accept can go ahead at once.
bool transient_accept_error(const beast::error_code& ec) {
    return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
           (ec.category() == boost::system::system_category() &&
            (ec.value() == EPROTO || ec.value() == EPERM));
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
    impl(server_options o, front_handler f)
        : options(std::move(o)),
          front(std::move(f)),
          ioc(options.io_threads),
          workers(handler_thread_count(options.handler_threads)),
          accept_strand(asio::make_strand(ioc)),
          acceptor(accept_strand),
          accept_pause(accept_strand),
          signals(accept_strand),
          hangup(accept_strand),
          drain_timer(accept_strand) {}
    ~impl() {
        if (reserve_fd >= 0) ::close(reserve_fd);
    }

    server_options options;
    front_handler front;  // on the I/O threads; what blocks goes to `workers`
    asio::io_context ioc;
    asio::thread_pool workers;  // what may block: never on the I/O threads
    asio::strand<asio::io_context::executor_type> accept_strand;  // acceptor and its timer
    tcp::acceptor acceptor;
    asio::steady_timer accept_pause;  // backing off while descriptors are short
    asio::signal_set signals;
    asio::signal_set hangup;
    std::function<void()> reload;
    std::function<void(const std::string&, int, double)> observer;
    // max_connections as the descriptor limit allows (set by start()).
    std::size_t connection_limit = 0;
    // Kept open to be closed when accept fails for want of descriptors: it
    // lets the server accept the waiting clients and tell them 503.
    int reserve_fd = -1;
    // Refusals still writing their 503 (each holds a descriptor).
    std::atomic<std::size_t> refusing{0};

    // On the accept strand. The reload itself (reading and checking menus,
    // rules, partners) runs on a handler thread: an I/O thread only
    // notices the signal.
    void await_hangup() {
        hangup.async_wait([this](beast::error_code ec, int) {
            if (ec) return;
            spdlog::info("http: SIGHUP received, reloading");
            asio::post(workers, [this] {
                try {
                    reload();
                } catch (const std::exception& e) {
                    spdlog::error("reload failed: {}", e.what());
                }
                // A stop that began during the reload already cancelled the
                // wait: waiting again would keep the I/O threads from ever ending.
                asio::post(accept_strand, [this] {
                    if (!stopping) await_hangup();
                });
            });
        });
    }
    asio::steady_timer drain_timer;
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    std::mutex connections_mutex;
    std::list<std::shared_ptr<connection>> connections;
    std::map<std::string, std::size_t> per_address;  // live connections by address_key
    std::atomic<bool> joined{false};

    // Fits max_connections to RLIMIT_NOFILE (see start() in the header).
    void fit_descriptor_limit() {
        rlimit lim{};
        if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
            connection_limit = options.max_connections;
            return;
        }
        const std::size_t in_use = open_descriptors();
        const rlim_t needed = in_use + descriptor_reserve + options.max_connections;
        const rlim_t before = lim.rlim_cur;
        if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
            rlimit raised = lim;
            raised.rlim_cur =
                lim.rlim_max == RLIM_INFINITY ? needed : std::min(needed, lim.rlim_max);
            if (raised.rlim_cur > lim.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
                lim = raised;
                spdlog::info("http: raised the open-files limit from {} to {} for {} connections",
                             before, lim.rlim_cur, options.max_connections);
            }
        }
        std::size_t room = options.max_connections;
        if (lim.rlim_cur != RLIM_INFINITY)
            room = lim.rlim_cur > in_use + descriptor_reserve
                       ? static_cast<std::size_t>(lim.rlim_cur - in_use - descriptor_reserve)
                       : 0;
        connection_limit = std::min(options.max_connections, room);
        if (connection_limit >= options.max_connections) return;
        if (connection_limit < std::min(min_connections, options.max_connections))
            throw descriptor_limit_error("the open-files limit (" + std::to_string(lim.rlim_cur) +
                                         ", hard limit " + std::to_string(lim.rlim_max) +
                                         ") leaves room for " + std::to_string(connection_limit) +
                                         " connections: set LimitNOFILE=" + std::to_string(needed) +
                                         " in the systemd unit (or ulimit -n " +
                                         std::to_string(needed) +
                                         "), or lower server.max_connections");
        spdlog::error(
            "http: the open-files limit ({}, hard limit {}) leaves room for {} connections, not "
            "server.max_connections {}: serving at most {}. Set LimitNOFILE={} in the systemd unit "
            "(or ulimit -n {}), or lower server.max_connections",
            lim.rlim_cur, lim.rlim_max, connection_limit, options.max_connections, connection_limit,
            needed, needed);
    }

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

    // The rest of a request handed to a worker thread. The coroutine waits
    // on `done`, a timer on its own strand that the worker cancels when the
    // response is ready (Boost 1.74 has no channels or as_tuple); the timer
    // expiring instead is the request's deadline. `finished` says which
    // (the worker sets it before the cancel it posts).
    struct handler_call {
        explicit handler_call(asio::any_io_executor ex) : done(ex) {}
        asio::steady_timer done;
        rest_of_request rest;
        http::response response;
        std::exception_ptr error;
        std::atomic<bool> finished{false};
    };

    // Runs the rest of a request on a worker thread and resumes on the
    // connection's strand; past the deadline, answers 503 and leaves the
    // worker to finish.
    awaitable<http::response> run_on_worker(rest_of_request rest, const std::string& method,
                                            const std::string& path) {
        auto call = std::make_shared<handler_call>(co_await asio::this_coro::executor);
        if (options.request_deadline.count() > 0)
            call->done.expires_after(options.request_deadline);
        else
            call->done.expires_at(asio::steady_timer::time_point::max());
        call->rest = std::move(rest);
        asio::post(workers, [call] {
            try {
                call->response = call->rest();
            } catch (...) {
                call->error = std::current_exception();
            }
            call->finished = true;
            asio::post(call->done.get_executor(), [call] { call->done.cancel(); });
        });
        beast::error_code ec;
        co_await call->done.async_wait(asio::redirect_error(use_awaitable, ec));
        if (!call->finished) {
            // The workers are all busy, or this handler is stuck (the store
            // held by another process, say): answer now, keep serving.
            spdlog::warn("http: {} {} not answered within {} ms: 503", method, path,
                         options.request_deadline.count());
            auto busy = http::error_response(503, "busy: try again shortly");
            busy.headers.emplace_back("Retry-After", "1");
            co_return busy;
        }
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
                auto started = clock::now();
                bhttp::request<bhttp::string_body> req = parser.release();
                const bool keep_alive = req.keep_alive();
                bhttp::request_header<> head = req.base();
                http::request plain = to_plain(std::move(req), remote);
                const std::string path = plain.path;
                const std::string method = plain.method;
                http::response res;
                try {
                    first_answer first = front(std::move(plain));
                    if (auto* answered = std::get_if<http::response>(&first))
                        res = std::move(*answered);
                    else
                        res = co_await run_on_worker(std::move(std::get<rest_of_request>(first)),
                                                     method, path);
                } catch (const std::exception& e) {
                    // Details stay in the log, never in the response.
                    spdlog::error("http: handler failed on {}: {}", path, e.what());
                    res = http::error_response(500, "internal error");
                }
                const int status = res.status;
                co_await write_response(*c, head, std::move(res), keep_alive && !stopping);
                auto micros =
                    std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started)
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
        if (auto it = per_address.find(c->address_key);
            it != per_address.end() && --it->second == 0)
            per_address.erase(it);
        if (stopping && connections.empty())
            asio::post(accept_strand, [this] { drain_timer.cancel(); });
    }

    // Refuses a connection before reading anything: a short 503, then a
    // moment to read what the client already sent (see refuse_request).
    awaitable<void> refuse(tcp::socket socket, std::string_view reason) {
        const std::string busy = busy_response(reason);
        beast::tcp_stream stream(std::move(socket));
        stream.expires_after(std::chrono::seconds(2));
        beast::error_code ec;
        co_await asio::async_write(stream, asio::buffer(busy),
                                   asio::redirect_error(use_awaitable, ec));
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (!ec) {
            stream.expires_after(std::chrono::milliseconds(500));
            std::array<char, 2048> sink;
            for (int reads = 0; reads < 16 && !ec; ++reads)
                co_await stream.async_read_some(asio::buffer(sink),
                                                asio::redirect_error(use_awaitable, ec));
        }
        --refusing;
    }

    void start_refusal(tcp::socket socket, std::string_view reason) {
        // Refusals hold descriptors too: past a few dozen at once, they get
        // the answer without the grace period.
        if (refusing >= 32) {
            const std::string busy = busy_response(reason);
            ::send(socket.native_handle(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            beast::error_code ec;
            socket.shutdown(tcp::socket::shutdown_send, ec);
            socket.close(ec);
            return;
        }
        ++refusing;
        auto executor = socket.get_executor();
        asio::co_spawn(executor, refuse(std::move(socket), reason), asio::detached);
    }

    // Out of descriptors: with the reserve one closed, the clients waiting
    // in the backlog can be accepted and told 503 instead of timing out.
    // Returns how many were refused.
    std::size_t shed_backlog() {
        if (reserve_fd >= 0) {
            ::close(reserve_fd);
            reserve_fd = -1;
        }
        static const std::string busy = busy_response("server busy: out of file descriptors");
        std::size_t shed = 0;
        for (; shed < 64; ++shed) {
            pollfd p{acceptor.native_handle(), POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0) break;
            int fd =
                ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break;
            ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL);
            ::shutdown(fd, SHUT_WR);
            // What the client sent already, so the close is not a reset.
            char sink[2048];
            for (int reads = 0; reads < 8 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0;)
                ++reads;
            ::close(fd);
        }
        reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        return shed;
    }

    awaitable<void> accept_loop() {
        // While descriptors are short, accept is retried after a pause that
        // doubles up to a second: retrying at once only spins.
        constexpr auto first_pause = std::chrono::milliseconds(50);
        constexpr auto longest_pause = std::chrono::milliseconds(1000);
        std::chrono::milliseconds pause{0};
        clock::time_point short_since{};
        std::size_t shed_unreported = 0, held_back = 0;
        log_throttle accept_log(std::chrono::seconds(5)), busy_log(std::chrono::seconds(5)),
            address_log(std::chrono::seconds(5));
        for (;;) {
            beast::error_code ec;
            tcp::socket socket(asio::make_strand(ioc));
            co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open() || stopping)
                    co_return;
                if (transient_accept_error(ec)) {
                    spdlog::debug("http: accept failed: {}", ec.message());
                    continue;
                }
                const bool short_of_descriptors = out_of_descriptors(ec);
                if (short_of_descriptors) {
                    if (pause.count() == 0) short_since = clock::now();
                    shed_unreported += shed_backlog();
                }
                if (accept_log.allow(held_back)) {
                    if (short_of_descriptors)
                        spdlog::warn(
                            "http: accept failed: {}{}; {} waiting clients answered 503, {} "
                            "connections held. Accepting again in a moment; raise LimitNOFILE= "
                            "or lower server.max_connections",
                            ec.message(), more_since(held_back), shed_unreported,
                            connection_count());
                    else
                        spdlog::warn("http: accept failed: {}{}", ec.message(),
                                     more_since(held_back));
                    shed_unreported = 0;
                }
                pause = pause.count() == 0 ? first_pause : std::min(pause * 2, longest_pause);
                accept_pause.expires_after(pause);
                co_await accept_pause.async_wait(asio::redirect_error(use_awaitable, ec));
                if (stopping) co_return;
                continue;
            }
            if (pause.count() != 0) {
                spdlog::info("http: accepting connections again after {} ms short of descriptors",
                             std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() -
                                                                                   short_since)
                                 .count());
                pause = std::chrono::milliseconds(0);
                if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            beast::error_code ep_ec;
            const auto ep = socket.remote_endpoint(ep_ec);
            if (ep_ec) continue;  // gone already
            std::string key = address_key(ep.address());
            enum { accepted, at_limit, address_full } outcome = accepted;
            std::size_t holding = 0;
            std::shared_ptr<connection> c;
            {
                std::lock_guard lock(connections_mutex);
                std::size_t& from_address = per_address[key];
                holding = from_address;
                if (connections.size() >= connection_limit) {
                    outcome = at_limit;
                } else if (options.max_connections_per_address != 0 &&
                           from_address >= options.max_connections_per_address) {
                    outcome = address_full;
                } else {
                    c = std::make_shared<connection>(std::move(socket), key);
                    connections.push_back(c);
                    ++from_address;
                }
                if (from_address == 0) per_address.erase(key);
            }
            if (outcome == at_limit) {
                if (busy_log.allow(held_back))
                    spdlog::warn("http: at the connection limit ({}): new connections get 503{}",
                                 connection_limit, more_since(held_back));
                start_refusal(std::move(socket), "server busy: too many connections");
                continue;
            }
            if (outcome == address_full) {
                if (address_log.allow(held_back))
                    spdlog::warn(
                        "http: {} holds {} connections (server.max_connections_per_address): "
                        "more get 503{}",
                        key, holding, more_since(held_back));
                start_refusal(std::move(socket), "too many connections from your address");
                continue;
            }
            auto executor = c->stream.get_executor();
            asio::co_spawn(executor, session(c), asio::detached);
        }
    }

    std::size_t connection_count() {
        std::lock_guard lock(connections_mutex);
        return connections.size();
    }

    void begin_stop() {
        if (stopping.exchange(true)) return;
        // The acceptor, the signal sets and the drain timer live on the
        // accept strand: only ever touched from it.
        asio::post(accept_strand, [this] {
            beast::error_code ec;
            acceptor.close(ec);
            accept_pause.cancel();
            spdlog::info("http: stopping: no new connections, draining in-flight requests");
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
    : impl_(std::make_unique<impl>(
          std::move(options), [h = std::move(handler)](http::request req) -> first_answer {
              return rest_of_request([&h, req = std::move(req)] { return h(req); });
          })) {}

void http_server::handle_first(front_handler front) {
    impl_->front = std::move(front);
}

http_server::~http_server() {
    stop();
    wait();
}

unsigned short http_server::start() {
    auto& i = *impl_;
    i.fit_descriptor_limit();
    i.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    tcp::endpoint ep(asio::ip::make_address(i.options.address), i.options.port);
    i.acceptor.open(ep.protocol());
    i.acceptor.set_option(asio::socket_base::reuse_address(true));
    i.acceptor.bind(ep);
    i.acceptor.listen(asio::socket_base::max_listen_connections);
    unsigned short port = i.acceptor.local_endpoint().port();
    asio::co_spawn(i.accept_strand, i.accept_loop(), asio::detached);
    for (int t = 0; t < i.options.io_threads; ++t) i.threads.emplace_back([&i] { i.ioc.run(); });
    spdlog::info("http: listening on {}:{} (at most {} connections, {} per address)",
                 i.options.address, port, i.connection_limit,
                 i.options.max_connections_per_address);
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

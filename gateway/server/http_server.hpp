#pragma once
// The HTTP/1.1 server (Boost.Beast over Asio). One coroutine per
// connection on its own strand; per request the header is read first
// (framing checked, body limit chosen by path), then the body; a timeout
// before every request and write; keep-alive.
// A request is handled in two parts. The first runs where the request was
// read, on the connection's I/O thread, and must never block: it answers
// at once (a USSD hop the menu answers from memory, a refusal), or hands
// the rest to a pool of worker threads, which may block on the store or a
// password hash. So most hops cost no thread hand-off, and a slow request
// (an operator's log-in, about 100 ms of Argon2id) never holds up a hop.
// Both parts must be thread-safe. stop() drains: no new connections,
// in-flight requests finish, idle keep-alive connections are closed.
// No Beast or Asio type appears in this header.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

#include "http/message.hpp"

namespace gw::server {

struct server_options {
    std::string address = "127.0.0.1";
    unsigned short port = 0;  // 0: any free port
    int io_threads = 2;
    // Threads that run handlers; 0: 16 per core, at least 32 and at most 64.
    int handler_threads = 0;
    std::chrono::milliseconds read_timeout{10000};
    std::chrono::milliseconds write_timeout{10000};
    std::size_t body_limit = 16 * 1024;  // larger bodies get 413
    // Body limits by path prefix, instead of body_limit; the longest
    // matching prefix wins. A prefix matches that path and the paths below
    // it ("/sms/infobip" matches "/sms/infobip/dlr", not "/sms/infobipx");
    // one ending in '/' matches whatever starts with it.
    std::map<std::string, std::size_t> body_limits;
    std::size_t header_limit = 8 * 1024;
    // Connections at once; more get 503 (existing ones keep being served).
    // start() fits this to RLIMIT_NOFILE: see there.
    std::size_t max_connections = 1024;
    // Connections at once from one client address (IPv6: one /64);
    // more get 503. 0: no cap.
    std::size_t max_connections_per_address = 64;
    std::chrono::milliseconds drain_timeout{10000};
    // A request whose handler has not answered within this (waiting for a
    // worker included) is answered 503 with Retry-After; the handler still
    // finishes (what it stored stays stored). 0: no deadline.
    std::chrono::milliseconds request_deadline{8000};
};

// The open-files limit leaves too few descriptors to serve; the message
// says what to set.
struct descriptor_limit_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using request_handler = std::function<http::response(const http::request&)>;

// What may block: run on a worker thread, under the request's deadline.
using rest_of_request = std::function<http::response()>;
// The first part's result: the response, or the rest to run on a worker.
using first_answer = std::variant<http::response, rest_of_request>;
// The first part of every request, on its I/O thread: no store call, no
// lock held for longer than a lookup.
using front_handler = std::function<first_answer(http::request)>;

class http_server {
  public:
    // Every request runs whole on a worker, unless handle_first() is set.
    http_server(server_options options, request_handler handler);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds, listens and starts the I/O threads; returns the bound port.
    // Throws std::system_error when the address cannot be bound.
    // Each connection takes a file descriptor: when RLIMIT_NOFILE is too
    // low for max_connections plus a reserve for the rest of the process,
    // the soft limit is raised (up to the hard limit); if that is still too
    // low, fewer connections are served and the log says what to set, and
    // when it leaves almost no room start() throws descriptor_limit_error.
    unsigned short start();
    // Every request starts on its I/O thread (see front_handler), instead
    // of the handler given at construction. Set before start().
    void handle_first(front_handler front);
    // SIGINT and SIGTERM start a graceful stop.
    void stop_on_signals();
    // Called after each response is written: path, status, seconds taken
    // (set before start()).
    void on_response(std::function<void(const std::string&, int, double)> observer);
    // SIGHUP runs `reload` on a handler thread; the I/O thread only notices
    // the signal.
    void reload_on_sighup(std::function<void()> reload);
    // Starts a graceful stop; returns at once. Safe from any thread.
    void stop();
    // Blocks until the server has stopped and all threads are joined.
    void wait();

  private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace gw::server

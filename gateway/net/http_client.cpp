#include "net/http_client.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <netdb.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gw::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct url_parts {
    bool tls = false;
    std::string host, port, target;
};

bool parse_url(const std::string& url, url_parts& out) {
    std::string rest;
    if (url.rfind("https://", 0) == 0) {
        out.tls = true;
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else {
        return false;
    }
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    } else {
        out.host = authority;
        out.port = out.tls ? "443" : "80";
    }
    return !out.host.empty();
}

// The host's addresses, or nothing once `deadline` passes. getaddrinfo
// cannot be interrupted (Asio's resolver runs it on a thread it then
// joins): it runs on a thread of its own, which finishes and forgets its
// answer if we have stopped waiting. A lane never waits on DNS past its deadline.
std::optional<tcp::resolver::results_type> resolve_until(const std::string& host,
                                                         const std::string& port,
                                                         clock_type::time_point deadline,
                                                         std::string& error) {
    struct shared {
        std::mutex mutex;
        std::condition_variable done_cv;
        bool done = false;
        std::optional<tcp::resolver::results_type> answer;
    };
    auto state = std::make_shared<shared>();
    std::thread([state, host, port] {
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        beast::error_code ec;
        auto results = resolver.resolve(host, port, ec);
        std::lock_guard lock(state->mutex);
        if (!ec) state->answer = std::move(results);
        state->done = true;
        state->done_cv.notify_one();
    }).detach();
    std::unique_lock lock(state->mutex);
    if (!state->done_cv.wait_until(lock, deadline, [&] { return state->done; })) {
        error = "timed out resolving host";
        return std::nullopt;
    }
    if (!state->answer) error = "cannot resolve host";
    return state->answer;
}

template <class Stream>
domain::transport_result exchange(Stream& stream, beast::tcp_stream& lowest,
                                  bhttp::request<bhttp::string_body>& req, asio::io_context& ioc,
                                  clock_type::time_point deadline) {
    domain::transport_result out;
    beast::error_code ec;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1024 * 1024);
    lowest.expires_at(deadline);
    bhttp::async_write(stream, req, [&](beast::error_code e, std::size_t) {
        if (e) {
            ec = e;
            return;
        }
        bhttp::async_read(stream, buffer, parser,
                          [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    ioc.run();
    if (ec) {
        out.error = ec == beast::error::timeout ? "timed out" : ec.message();
        return out;
    }
    out.status = static_cast<int>(parser.get().result_int());
    out.body = parser.get().body();
    return out;
}

class beast_transport final : public domain::http_transport {
  public:
    // One TLS context for every request (loading the system's CA store
    // is the costly part); OpenSSL lets threads share it once set up.
    beast_transport() : tls_(asio::ssl::context::tls_client) {
        tls_.set_default_verify_paths();
        tls_.set_verify_mode(asio::ssl::verify_peer);
    }

    // `timeout` bounds the whole request: name look-up, connection, TLS
    // handshake, request and answer.
    domain::transport_result send(const domain::outbound_request& r,
                                  std::chrono::milliseconds timeout) override {
        const auto deadline = clock_type::now() + timeout;
        domain::transport_result out;
        url_parts url;
        if (!parse_url(r.url, url)) {
            out.error = "unsupported URL";
            return out;
        }
        try {
            auto endpoints = resolve_until(url.host, url.port, deadline, out.error);
            if (!endpoints) return out;
            asio::io_context ioc;
            beast::error_code ec;
            bhttp::request<bhttp::string_body> req{
                r.method == "GET" ? bhttp::verb::get : bhttp::verb::post, url.target, 11};
            req.set(bhttp::field::host, url.host);
            req.set(bhttp::field::user_agent, "hotline-gateway");
            for (const auto& [k, v] : r.headers) req.set(k, v);
            if (r.method != "GET") req.body() = r.body;
            req.prepare_payload();

            if (!url.tls) {
                beast::tcp_stream stream(ioc);
                stream.expires_at(deadline);
                stream.async_connect(*endpoints, [&](beast::error_code e, auto&&) { ec = e; });
                ioc.run();
                ioc.restart();
                if (ec) {
                    out.error = ec == beast::error::timeout ? "timed out connecting"
                                                            : "connection failed: " + ec.message();
                    return out;
                }
                out = exchange(stream, stream, req, ioc, deadline);
                stream.socket().shutdown(tcp::socket::shutdown_both, ec);
                return out;
            }
            beast::ssl_stream<beast::tcp_stream> stream(ioc, tls_);
            if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
                out.error = "TLS SNI failed";
                return out;
            }
            stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
            auto& lowest = beast::get_lowest_layer(stream);
            lowest.expires_at(deadline);
            lowest.async_connect(*endpoints, [&](beast::error_code e, auto&&) {
                ec = e;
                if (!e)
                    stream.async_handshake(asio::ssl::stream_base::client,
                                           [&](beast::error_code e2) { ec = e2; });
            });
            ioc.run();
            ioc.restart();
            if (ec) {
                out.error = ec == beast::error::timeout ? "timed out connecting"
                                                        : "TLS connection failed: " + ec.message();
                return out;
            }
            out = exchange(stream, lowest, req, ioc, deadline);
            // A short, separate bound for the TLS goodbye: the answer is in.
            lowest.expires_after(std::chrono::seconds(2));
            stream.async_shutdown([](beast::error_code) {});
            ioc.restart();
            ioc.run();
            return out;
        } catch (const std::exception& e) {
            out.error = e.what();
            return out;
        }
    }

  private:
    asio::ssl::context tls_;
};

}  // namespace

std::unique_ptr<domain::http_transport> make_beast_transport() {
    return std::make_unique<beast_transport>();
}

}  // namespace gw::net

// The ceiling for benchmarks: a minimal Beast server on the same machine
// that answers every request with a constant "END ok", on its I/O threads,
// with no application work at all.
//   ussd-ceiling --port 9090 [--threads 2]
#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        bhttp::request<bhttp::string_body> req;
        beast::error_code ec;
        co_await bhttp::async_read(stream, buffer, req,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.keep_alive(req.keep_alive());
        res.body() = "END ok";
        res.prepare_payload();
        co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !req.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, asio::io_context& ioc) {
    for (;;) {
        tcp::socket s(asio::make_strand(ioc));
        co_await acceptor.async_accept(s, asio::use_awaitable);
        asio::co_spawn(s.get_executor(), session(std::move(s)), asio::detached);
    }
}

int main(int argc, char** argv) {
    unsigned short port = 9090;
    int threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
        if (a == "--threads") threads = std::stoi(argv[i + 1]);
    }
    asio::io_context ioc(threads);
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    asio::co_spawn(ioc, listen(acceptor, ioc), asio::detached);
    std::cout << "ceiling listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
}

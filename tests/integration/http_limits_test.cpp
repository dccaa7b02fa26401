// The server's protections at the HTTP layer, against the real server on a
// loopback port: message framing (request smuggling).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "app/gateway.hpp"
#include "integration/raw_http.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;
using test::talk;

namespace {

// The gateway behind the real server, with the server settings as the
// config file gives them (only address and port are the test's).
class configured_gateway {
public:
    explicit configured_gateway(const std::string& server_keys = "",
                                const std::string& extra = "") {
        auto cfg = app::load_config(test::config_with_server_keys(dir, server_keys, extra));
        for (const auto& d : cfg.diagnostics) ADD_FAILURE() << menu::format(d);
        gateway = std::make_unique<app::gateway>(cfg.value, clock);
        server::server_options options = cfg.value.server;
        options.address = "127.0.0.1";
        options.port = 0;
        server = std::make_unique<server::http_server>(
            options, [this](const http::request& r) { return gateway->handle(r); });
        port = server->start();
    }
    ~configured_gateway() {
        server->stop();
        server->wait();
    }

    test::temp_dir dir;
    system_clock_source clock;
    std::unique_ptr<app::gateway> gateway;
    std::unique_ptr<server::http_server> server;
    unsigned short port = 0;
};

// A second request hidden where a body would be: if the server misreads
// the framing, it answers it as a request of its own.
const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

std::string post_head(const std::string& path, const std::string& framing,
                      const std::string& version = "HTTP/1.1") {
    return "POST " + path + " " + version +
           "\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" + framing + "\r\n";
}

std::string chunked(const std::string& body) {
    std::ostringstream out;
    out << std::hex << body.size() << "\r\n" << body << "\r\n0\r\n\r\n";
    return out.str();
}

}  // namespace

// --- Framing (RFC 9112 §6.1, §6.3) ---------------------------------------

TEST(HttpFraming, TransferEncodingOtherThanChunkedIsRefusedAndClosed) {
    configured_gateway g;
    const std::string codings[] = {
        "identity", "gzip", "chunked, identity", "xchunked", "gzip, chunked, identity", ""};
    for (const auto& coding : codings) {
        auto ex = talk(
            g.port,
            post_head("/ussd/africastalking", "Transfer-Encoding: " + coding + "\r\n") + smuggled);
        EXPECT_EQ(ex.statuses(), std::vector<int>{400}) << "Transfer-Encoding: " << coding << "\n"
                                                        << ex.received;
        EXPECT_TRUE(ex.closed) << "Transfer-Encoding: " << coding;
        EXPECT_NE(ex.received.find("Connection: close"), std::string::npos) << ex.received;
    }
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpFraming, TransferEncodingWithContentLengthIsRefusedAndClosed) {
    configured_gateway g;
    const std::string body = "sessionId=s1&phoneNumber=%2B996555123456&text=";
    const std::string framings[] = {
        // Either order, and a coding Beast would otherwise ignore.
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) + "\r\n",
        "Content-Length: " + std::to_string(body.size()) + "\r\nTransfer-Encoding: gzip\r\n",
    };
    for (const auto& framing : framings) {
        auto ex = talk(g.port, post_head("/ussd/africastalking", framing) + body + smuggled);
        EXPECT_EQ(ex.statuses(), std::vector<int>{400}) << framing << "\n" << ex.received;
        EXPECT_TRUE(ex.closed) << framing;
    }
}

TEST(HttpFraming, DuplicateChunkedAndHttp10TransferEncodingAreRefused) {
    configured_gateway g;
    auto twice = talk(g.port, post_head("/ussd/africastalking",
                                        "Transfer-Encoding: chunked\r\n"
                                        "Transfer-Encoding: chunked\r\n") +
                                  chunked("sessionId=s1") + smuggled);
    EXPECT_EQ(twice.statuses(), std::vector<int>{400}) << twice.received;
    EXPECT_TRUE(twice.closed);
    // HTTP/1.0 has no transfer codings: the framing cannot be trusted.
    auto old = talk(
        g.port, post_head("/ussd/africastalking", "Transfer-Encoding: chunked\r\n", "HTTP/1.0") +
                    chunked("sessionId=s1") + smuggled);
    EXPECT_EQ(old.statuses(), std::vector<int>{400}) << old.received;
    EXPECT_TRUE(old.closed);
}

TEST(HttpFraming, ChunkedBodiesStillWorkOnKeepAlive) {
    configured_gateway g;
    const std::string body =
        test::form({{"sessionId", "chunky-1"}, {"phoneNumber", "+996555123456"}, {"text", ""}});
    int fd = test::connect_loopback(g.port);
    // Any case of "chunked", two requests on one connection, then healthz.
    auto ex = talk(fd, post_head("/ussd/africastalking", "Transfer-Encoding: chunked\r\n") +
                           chunked(body) +
                           post_head("/ussd/africastalking", "Transfer-Encoding: Chunked\r\n") +
                           chunked(body) + smuggled);
    ::close(fd);
    EXPECT_EQ(ex.statuses(), (std::vector<int>{200, 200, 200})) << ex.received;
    EXPECT_NE(ex.received.find("CON "), std::string::npos) << ex.received;
    EXPECT_FALSE(ex.closed);
}

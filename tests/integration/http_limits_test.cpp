// The server's protections at the HTTP layer, against the real server on a
// loopback port: message framing (request smuggling), per-route body
// limits, and connection limits per client address.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "app/gateway.hpp"
#include "common/crypto.hpp"
#include "integration/raw_http.hpp"
#include "server/http_server.hpp"
#include "support/http_client.hpp"
#include "support/running_gateway.hpp"
#include "support/temp_dir.hpp"

using namespace gw;
using namespace std::chrono_literals;
using test::connect_from;
using test::talk;
using test::talk_from;

namespace {

// The gateway behind the real server, with the server settings as the
// config file gives them (only address and port are the test's).
class configured_gateway {
  public:
    explicit configured_gateway(const std::string& server_keys = "", const std::string& extra = "")
        : running(test::config_with_server_keys(dir, server_keys, extra),
                  {.server = std::nullopt}) {}

    test::temp_dir dir;
    test::running_gateway running;
    std::unique_ptr<app::gateway>& gateway = running.gateway;
    const unsigned short port = running.port;
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

// An Infobip delivery-report batch of `count` reports, as Infobip sends them.
std::string infobip_reports(int count) {
    std::string out = R"({"results":[)";
    for (int i = 0; i < count; ++i) {
        if (i) out += ",";
        out +=
            R"({"bulkId":"BULK-ID-123-xyz","messageId":"MSG-)" + std::to_string(100000 + i) +
            R"(","to":"996555)" + std::to_string(100000 + i) +
            R"(","sentAt":"2024-05-02T10:15:00.123+0000","doneAt":"2024-05-02T10:15:03.456+0000",)"
            R"("smsCount":1,"mccMnc":"43701","callbackData":"hotline",)"
            R"("price":{"pricePerMessage":0.01,"currency":"EUR"},)"
            R"("status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},)"
            R"("error":{"groupId":0,"groupName":"OK","id":0,"name":"NO_ERROR","description":"No Error","permanent":false}})";
    }
    return out + "]}";
}

const std::string infobip_channel =
    "sms:\n"
    "  channels:\n"
    "    infobip:\n"
    "      auth: basic\n"
    "      username: ib\n"
    "      password: ib-pass\n";

}  // namespace

// --- Framing (RFC 9112 §6.1, §6.3) ---------------------------------------

TEST(HttpFraming, TransferEncodingOtherThanChunkedIsRefusedAndClosed) {
    configured_gateway g;
    const std::string codings[] = {
        "identity", "gzip", "chunked, identity", "xchunked", "gzip, chunked, identity", ""};
    for (const auto& coding : codings) {
        auto ex = talk(
            g.port, post_head(test::ussd_path, "Transfer-Encoding: " + coding + "\r\n") + smuggled);
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
        auto ex = talk(g.port, post_head(test::ussd_path, framing) + body + smuggled);
        EXPECT_EQ(ex.statuses(), std::vector<int>{400}) << framing << "\n" << ex.received;
        EXPECT_TRUE(ex.closed) << framing;
    }
}

TEST(HttpFraming, DuplicateChunkedAndHttp10TransferEncodingAreRefused) {
    configured_gateway g;
    auto twice = talk(g.port, post_head(test::ussd_path,
                                        "Transfer-Encoding: chunked\r\n"
                                        "Transfer-Encoding: chunked\r\n") +
                                  chunked("sessionId=s1") + smuggled);
    EXPECT_EQ(twice.statuses(), std::vector<int>{400}) << twice.received;
    EXPECT_TRUE(twice.closed);
    // HTTP/1.0 has no transfer codings: the framing cannot be trusted.
    auto old =
        talk(g.port, post_head(test::ussd_path, "Transfer-Encoding: chunked\r\n", "HTTP/1.0") +
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
    auto ex =
        talk(fd, post_head(test::ussd_path, "Transfer-Encoding: chunked\r\n") + chunked(body) +
                     post_head(test::ussd_path, "Transfer-Encoding: Chunked\r\n") + chunked(body) +
                     smuggled);
    ::close(fd);
    EXPECT_EQ(ex.statuses(), (std::vector<int>{200, 200, 200})) << ex.received;
    EXPECT_NE(ex.received.find("CON "), std::string::npos) << ex.received;
    EXPECT_FALSE(ex.closed);
}

// --- Body limits per route -------------------------------------------------

TEST(HttpBodyLimits, InfobipReportBatchFitsWhileUssdKeepsItsLimit) {
    // The config as shipped: no body_limits key, so the built-in route limits apply.
    configured_gateway g("", infobip_channel);
    const std::string batch = infobip_reports(100);
    ASSERT_GT(batch.size(), 40000u);
    ASSERT_LT(batch.size(), 65536u);
    const std::string auth = "Authorization: Basic " + base64_encode("ib:ib-pass") + "\r\n";
    auto post = [&](const std::string& path, const std::string& headers, const std::string& body) {
        return test::send_raw(g.port, "POST " + path +
                                          " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                          "Content-Type: application/json\r\n" +
                                          headers + "Content-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body);
    };
    auto r = post("/sms/infobip/dlr", auth, batch);
    EXPECT_EQ(r.status, 200) << r.body;
    // Without credentials the route refuses it, but not for its size.
    EXPECT_EQ(post("/sms/infobip/dlr", "", batch).status, 403);
    // The same size elsewhere is still too large.
    EXPECT_EQ(post(test::ussd_path, "", batch).status, 413);
    EXPECT_EQ(post("/sms/infobipx/dlr", "", batch).status, 413);
    EXPECT_EQ(post("/sms/infobip/dlr", auth, infobip_reports(400)).status, 413);
    EXPECT_EQ(test::get(g.port, "/healthz").status, 200);
}

TEST(HttpBodyLimits, ConfiguredRouteLimitsReplaceTheDefaults) {
    configured_gateway g(
        "  body_limit_bytes: 1000\n"
        "  body_limits:\n"
        "    /sms/kannel: 3000\n"
        "    /ussd/: 2000\n");
    auto sized = [&](const std::string& path, std::size_t n) {
        return test::post_form(g.port, path, "sessionId=1&text=" + std::string(n, 'a')).status;
    };
    EXPECT_NE(sized("/sms/kannel", 2500), 413);
    EXPECT_EQ(sized("/sms/kannel", 3500), 413);
    EXPECT_NE(sized("/ussd/africastalking", 1500), 413);  // a prefix ending in '/'
    EXPECT_EQ(sized("/ussd/africastalking", 2500), 413);
    EXPECT_EQ(sized("/healthz", 1500), 413);          // the default
    EXPECT_EQ(sized("/sms/infobip/dlr", 1500), 413);  // the built-in ones are replaced
}

TEST(HttpBodyLimits, ChunkedBodyOverTheRouteLimitIs413) {
    configured_gateway g("  body_limit_bytes: 1000\n");
    auto ex = talk(g.port, post_head(test::ussd_path, "Transfer-Encoding: chunked\r\n") +
                               chunked("sessionId=1&text=" + std::string(1500, 'a')));
    EXPECT_EQ(ex.statuses(), std::vector<int>{413}) << ex.received;
    EXPECT_TRUE(ex.closed);
}

TEST(HttpBodyLimits, OversizeContentLengthIsRefusedBeforeTheBodyIsSent) {
    configured_gateway g;
    int fd = test::connect_loopback(g.port);
    // Only the header: the answer must not wait for 100 kB that never come.
    auto started = std::chrono::steady_clock::now();
    auto ex = talk(fd, post_head(test::ussd_path, "Content-Length: 100000\r\n"));
    ::close(fd);
    EXPECT_EQ(ex.statuses(), std::vector<int>{413}) << ex.received;
    EXPECT_TRUE(ex.closed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(HttpBodyLimits, ExpectContinueGetsAnInterimResponseOnlyWhenTheBodyFits) {
    configured_gateway g;
    const std::string body =
        test::form({{"sessionId", "expect-1"}, {"phoneNumber", "+996555123456"}, {"text", ""}});
    int fd = test::connect_loopback(g.port);
    auto interim = talk(fd,
                        post_head(test::ussd_path, "Expect: 100-continue\r\nContent-Length: " +
                                                       std::to_string(body.size()) + "\r\n"),
                        500ms);
    EXPECT_EQ(interim.statuses(), std::vector<int>{100}) << interim.received;
    auto final_answer = talk(fd, body, 1500ms);
    ::close(fd);
    EXPECT_EQ(final_answer.statuses(), std::vector<int>{200}) << final_answer.received;
    // Too large: the final 413 at once, no invitation to send it.
    auto refused = talk(
        g.port, post_head(test::ussd_path, "Expect: 100-continue\r\nContent-Length: 100000\r\n"));
    EXPECT_EQ(refused.statuses(), std::vector<int>{413}) << refused.received;
}

// --- Connections per client address --------------------------------------

TEST(HttpConnectionLimits, OneAddressCannotTakeEverySlot) {
    configured_gateway g(
        "  max_connections: 6\n"
        "  max_connections_per_address: 3\n");
    std::vector<int> held;
    for (int i = 0; i < 3; ++i) held.push_back(connect_from("127.0.0.1", g.port));
    std::this_thread::sleep_for(100ms);  // accepted and counted
    // A fourth from the same address: 503 with the reason, then closed.
    auto over = talk_from("127.0.0.1", g.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(over.statuses(), std::vector<int>{503}) << over.received;
    EXPECT_NE(over.received.find("too many connections from your address"), std::string::npos)
        << over.received;
    EXPECT_NE(over.received.find("Retry-After: "), std::string::npos);
    EXPECT_TRUE(over.closed);
    // Another client is still served.
    int other = connect_from("127.0.0.2", g.port);
    auto served = talk(other, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ::close(other);
    EXPECT_EQ(served.statuses(), std::vector<int>{200}) << served.received;
    // The held keep-alive connections keep working.
    auto kept = talk(held[0], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 500ms);
    EXPECT_EQ(kept.statuses(), std::vector<int>{200}) << kept.received;
    EXPECT_FALSE(kept.closed);
    // A slot given back can be taken again.
    ::close(held[1]);
    held.erase(held.begin() + 1);
    std::this_thread::sleep_for(100ms);
    int again = connect_from("127.0.0.1", g.port);
    auto retaken = talk(again, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ::close(again);
    EXPECT_EQ(retaken.statuses(), std::vector<int>{200}) << retaken.received;
    for (int fd : held) ::close(fd);
}

TEST(HttpConnectionLimits, AtTheGlobalLimitNewConnectionsGet503AndHeldOnesWork) {
    configured_gateway g(
        "  max_connections: 4\n"
        "  max_connections_per_address: 0\n");  // 0: no cap per address
    std::vector<int> held;
    for (int i = 0; i < 2; ++i) held.push_back(connect_from("127.0.0.1", g.port));
    for (int i = 0; i < 2; ++i) held.push_back(connect_from("127.0.0.3", g.port));
    std::this_thread::sleep_for(100ms);
    auto over = talk_from("127.0.0.2", g.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(over.statuses(), std::vector<int>{503}) << over.received;
    EXPECT_NE(over.received.find("server busy"), std::string::npos) << over.received;
    for (int fd : held) {
        auto kept = talk(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 500ms);
        EXPECT_EQ(kept.statuses(), std::vector<int>{200}) << kept.received;
    }
    for (int fd : held) ::close(fd);
}

// A request that outlives its deadline is answered 503 (Retry-After), and
// the server goes on answering others meanwhile (issue #13).
TEST(HttpDeadlines, ARequestPastItsDeadlineGets503AndTheServerKeepsServing) {
    std::atomic<bool> release{false};
    server::server_options o;
    o.request_deadline = std::chrono::milliseconds(150);
    o.handler_threads = 2;
    server::http_server s(o, [&](const http::request& r) {
        if (r.path == "/stuck")
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        http::response ok;
        ok.body = "ok " + r.path;
        return ok;
    });
    const unsigned short port = s.start();
    const auto started = std::chrono::steady_clock::now();
    auto stuck = test::get(port, "/stuck");
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(stuck.status, 503);
    EXPECT_EQ(stuck.headers["retry-after"], "1");
    EXPECT_LT(waited, std::chrono::seconds(3)) << "answered at the deadline, not when done";
    auto other = test::get(port, "/other");  // the stuck handler still holds one worker
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(other.body, "ok /other");
    release = true;
    s.stop();
    s.wait();
}

// The first part of a request runs on its I/O thread: what it answers
// (a menu move, /healthz) is answered even while every worker is held up,
// and the rest it hands over still runs under the deadline.
TEST(HttpDeadlines, WhatTheFirstPartAnswersNeedsNoFreeWorker) {
    std::atomic<bool> release{false};
    server::server_options o;
    o.request_deadline = std::chrono::milliseconds(150);
    o.handler_threads = 1;
    server::http_server s(o, [](const http::request&) { return http::response{}; });
    s.handle_first([&](http::request r) -> server::first_answer {
        if (r.path == "/quick") {
            http::response ok;
            ok.body = "quick";
            return ok;
        }
        if (r.path == "/throws") throw std::runtime_error("a detail for the log only");
        return server::rest_of_request([&release, path = r.path] {
            if (path == "/stuck")
                while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            http::response ok;
            ok.body = "rest " + path;
            return ok;
        });
    });
    const unsigned short port = s.start();
    EXPECT_EQ(test::get(port, "/other").body, "rest /other");
    auto stuck = test::get(port, "/stuck");  // holds the only worker from now on
    EXPECT_EQ(stuck.status, 503);
    auto quick = test::get(port, "/quick");
    EXPECT_EQ(quick.status, 200);
    EXPECT_EQ(quick.body, "quick");
    auto thrown = test::get(port, "/throws");
    EXPECT_EQ(thrown.status, 500);
    EXPECT_EQ(thrown.body.find("detail"), std::string::npos) << "details stay in the log";
    EXPECT_EQ(test::get(port, "/waits").status, 503) << "no worker free: the deadline holds";
    release = true;
    s.stop();
    s.wait();
}

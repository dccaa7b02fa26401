// The outbox's HTTP client against loopback servers: an answer comes back
// as it was sent, and a partner that accepts the connection but never
// answers costs a lane one deadline, not a hang.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fake_aggregator.hpp"
#include "net/http_client.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

// Listens and never answers: connections complete, requests are taken
// into the socket buffer, nothing comes back.
class silent_server {
  public:
    silent_server() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd_, 8);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~silent_server() { ::close(fd_); }
    unsigned short port() const { return port_; }

  private:
    int fd_ = -1;  // never accept()ed: the kernel completes the handshakes (backlog)
    unsigned short port_ = 0;
};

}  // namespace

TEST(HttpTransport, AnAnswerComesBackAsSent) {
    test::fake_aggregator aggregator;
    auto transport = net::make_beast_transport();
    domain::outbound_request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(aggregator.port()) + "/send";
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    r.body = "to=%2B996555123456&message=hi";
    auto out = transport->send(r, 5s);
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(out.status, 201);
    EXPECT_NE(out.body.find("ATXid_1"), std::string::npos) << out.body;
    ASSERT_TRUE(aggregator.wait_for(1));
    EXPECT_EQ(aggregator.received()[0].body, r.body);
}

TEST(HttpTransport, APartnerThatNeverAnswersCostsOneDeadline) {
    silent_server partner;
    auto transport = net::make_beast_transport();
    domain::outbound_request r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(partner.port()) + "/webhook";
    r.body = "{}";
    auto out = transport->send(r, 300ms);
    EXPECT_EQ(out.status, 0);
    EXPECT_EQ(out.error, "timed out");
}

TEST(HttpTransport, AnUnusableUrlIsRefusedWithoutAnyConnection) {
    auto transport = net::make_beast_transport();
    domain::outbound_request r;
    r.method = "POST";
    r.url = "ftp://example.org/x";
    EXPECT_EQ(transport->send(r, 1s).error, "unsupported URL");
}

#pragma once
// Helpers for tests that talk raw HTTP/1.1 to the server over loopback:
// connections from a chosen 127/8 source address, every byte the server
// sends back, whether it closed; and the test config with extra keys in
// its server: section.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace gw::test {

using namespace std::chrono_literals;

// The test config with `server_keys` (indented YAML lines) added to its
// server: section, which write_test_config writes first.
inline std::string config_with_server_keys(const temp_dir& dir, const std::string& server_keys,
                                           const std::string& extra = "") {
    std::string path = write_test_config(dir, extra);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string yaml = ss.str();
    const std::string anchor = "  port: 0\n";
    auto at = yaml.find(anchor);
    if (at == std::string::npos) throw std::runtime_error("test config has no server port");
    yaml.insert(at + anchor.size(), server_keys);
    return dir.write("gateway.yaml", yaml);
}

// A TCP connection to 127.0.0.1:port from `source` (any 127/8 address).
inline int connect_from(const char* source, unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("cannot bind to ") + source);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        throw std::runtime_error("connect failed");
    }
    return fd;
}

struct exchange {
    std::string received;  // every byte the server sent
    bool closed = false;   // the server closed the connection (FIN or reset)
    // Status codes of the responses in `received`, in order, read one after
    // another by their Content-Length; -1 for bytes that are no response.
    std::vector<int> statuses() const {
        std::vector<int> out;
        std::size_t at = 0;
        while (at < received.size()) {
            const auto head_end = received.find("\r\n\r\n", at);
            if (received.compare(at, 7, "HTTP/1.") != 0 || head_end == std::string::npos) {
                out.push_back(-1);
                break;
            }
            out.push_back(std::stoi(received.substr(at + 9, 3)));
            std::string head = received.substr(at, head_end - at);
            for (auto& ch : head)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            std::size_t length = 0;
            if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos)
                length = std::stoul(head.substr(cl + 17));
            at = head_end + 4 + length;
        }
        return out;
    }
};

// Sends `bytes` on `fd` and reads until the server closes or goes quiet
// for `quiet`.
inline exchange talk(int fd, const std::string& bytes, std::chrono::milliseconds quiet = 1500ms) {
    exchange ex;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            ex.closed = true;
            break;
        }
        ex.received.append(buf, static_cast<std::size_t>(n));
    }
    return ex;
}

inline exchange talk(unsigned short port, const std::string& bytes) {
    int fd = connect_loopback(port);
    auto ex = talk(fd, bytes);
    ::close(fd);
    return ex;
}

inline exchange talk_from(const char* source, unsigned short port, const std::string& bytes) {
    int fd = connect_from(source, port);
    auto ex = talk(fd, bytes);
    ::close(fd);
    return ex;
}

}  // namespace gw::test

#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "common/form.hpp"

namespace gw::test {

int connect_loopback(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("connect failed");
    }
    return fd;
}

http_reply send_raw(unsigned short port, const std::string& bytes, int timeout_ms) {
    int fd = connect_loopback(port);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close early (413); read what it said
        sent += static_cast<std::size_t>(n);
    }
    std::string in;
    http_reply r;
    std::size_t header_end = std::string::npos, content_length = std::string::npos;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) break;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        if (header_end == std::string::npos) {
            header_end = in.find("\r\n\r\n");
            if (header_end != std::string::npos) {
                std::string head = in.substr(0, header_end);
                std::transform(head.begin(), head.end(), head.begin(), ::tolower);
                auto cl = head.find("content-length:");
                if (cl != std::string::npos) content_length = std::stoul(head.substr(cl + 15));
            }
        }
        if (header_end != std::string::npos && content_length != std::string::npos &&
            in.size() >= header_end + 4 + content_length)
            break;
    }
    ::close(fd);
    if (in.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) return r;
    r.status = std::stoi(in.substr(9, 3));
    std::size_t line_start = in.find("\r\n") + 2;
    while (line_start < header_end) {
        std::size_t line_end = in.find("\r\n", line_start);
        std::string line = in.substr(line_start, line_end - line_start);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), ::tolower);
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        line_start = line_end + 2;
    }
    r.body = in.substr(header_end + 4);
    if (content_length != std::string::npos) r.body.resize(std::min(r.body.size(), content_length));
    return r;
}

http_reply post_form(unsigned short port, const std::string& path, const std::string& body) {
    return send_raw(port, "POST " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
}

http_reply get(unsigned short port, const std::string& path) {
    return send_raw(port,
                    "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

std::string form(std::initializer_list<std::pair<std::string, std::string>> fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += url_encode_component(k) + "=" + url_encode_component(v);
    }
    return out;
}

}  // namespace gw::test

#pragma once
// A small blocking HTTP/1.1 client over POSIX sockets for tests (keeps
// Beast out of the test build). Loopback only.
#include <map>
#include <string>

namespace gw::test {

struct http_reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// A connected TCP socket to 127.0.0.1:port (throws when it cannot connect).
int connect_loopback(unsigned short port);

// Sends raw bytes and reads one response (Content-Length or until close).
// status 0 means the connection closed without a response.
http_reply send_raw(unsigned short port, const std::string& bytes, int timeout_ms = 5000);

http_reply post_form(unsigned short port, const std::string& path, const std::string& body);
http_reply get(unsigned short port, const std::string& path);

// Form-encodes name/value pairs.
std::string form(std::initializer_list<std::pair<std::string, std::string>> fields);

}  // namespace gw::test

// SMPP USSD load: plays an operator's USSD gateway (an SMSC the gateway
// binds to) and keeps many dialogues going at once over the one bind, each
// walking a complete path to a registered case. Reports the same line as
// ussd-load (hops/s, cases/s, latency from her answer to our screen).
// Loopback only. PDUs through the gateway's own libsmpp34 codec.
//
//   smpp-load --port 2775 --dialogues 64 --seconds 20 [--path 2,2,1,3,2,1,1]
//
// Listens on 127.0.0.1:<port>, accepts one bind (any password), then runs
// for the given time and exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "smpp/coding.hpp"
#include "smpp/pdu.hpp"

using namespace gw::smpp;
using clock_type = std::chrono::steady_clock;

namespace {

struct dialogue {
    std::string msisdn;
    std::uint8_t session = 0;
    std::size_t step = 0;  // inputs of the path sent so far
    clock_type::time_point sent;
};

class smsc_link {
  public:
    explicit smsc_link(int fd) : fd_(fd) {}
    void send(pdu p) {
        p.sequence = next_++;
        if (next_ > 0x7FFFFFFF) next_ = 1;
        out_ += encode(p);
    }
    // A response keeps the sequence number of its request.
    void reply(const pdu& request, std::uint32_t id, std::string message_id = {},
               std::string system_id = {}) {
        pdu r;
        r.command_id = id;
        r.message_id = std::move(message_id);
        r.system_id = std::move(system_id);
        r.sequence = request.sequence;
        out_ += encode(r);
    }
    bool flush() {
        while (!out_.empty()) {
            ssize_t n = ::write(fd_, out_.data(), out_.size());
            if (n <= 0) return false;
            out_.erase(0, static_cast<std::size_t>(n));
        }
        return true;
    }
    // Next whole PDU, waiting at most `ms`; nullopt on timeout; throws on close.
    std::optional<pdu> read(int ms) {
        for (;;) {
            if (in_.size() >= header_size) {
                const auto len = peek_length(reinterpret_cast<const unsigned char*>(in_.data()));
                if (len < header_size || len > max_pdu_size) throw std::runtime_error("bad PDU");
                if (in_.size() >= len) {
                    auto p = decode(std::string_view(in_).substr(0, len));
                    in_.erase(0, len);
                    if (!p) throw std::runtime_error("undecodable PDU: " + p.error());
                    return *p;
                }
            }
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, ms) <= 0) return std::nullopt;
            char buf[65536];
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) throw std::runtime_error("the gateway closed the link");
            in_.append(buf, static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_;
    std::uint32_t next_ = 1;
    std::string in_, out_;
};

pdu step_pdu(const dialogue& d, std::uint8_t op, const std::string& text) {
    pdu p;
    p.command_id = cmd::deliver_sm;
    p.service_type = "USSD";
    p.source_ton = 1;
    p.source_npi = 1;
    p.source_addr = d.msisdn;
    p.destination_addr = "*1313#";
    p.data_coding = 0x0F;
    p.short_message = text;
    p.set(tag::ussd_service_op, std::string(1, static_cast<char>(op)));
    p.set(tag::its_session_info, std::string{static_cast<char>(d.session), 0});
    return p;
}

double percentile(std::vector<std::uint32_t>& v, double q) {
    if (v.empty()) return 0;
    std::size_t k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned short port = 2775;
    int dialogues = 64;
    double seconds = 20;
    std::vector<std::string> path = {"2", "2", "1", "3", "2", "1", "1"};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--port")
            port = static_cast<unsigned short>(std::stoi(next()));
        else if (a == "--dialogues")
            dialogues = std::stoi(next());
        else if (a == "--seconds")
            seconds = std::stod(next());
        else if (a == "--path") {
            path.clear();
            std::stringstream ss(next());
            for (std::string p; std::getline(ss, p, ',');) path.push_back(p);
        } else {
            std::cerr << "unknown option " << a << "\n";
            return 2;
        }
    }
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 4) != 0) {
        std::perror("smpp-load: listen");
        return 2;
    }
    int fd = ::accept(listener, nullptr, nullptr);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    smsc_link l(fd);
    // The bind.
    for (;;) {
        auto p = l.read(30000);
        if (!p) {
            std::cerr << "smpp-load: no bind within 30 s\n";
            return 2;
        }
        if (p->command_id == cmd::bind_transceiver) {
            l.reply(*p, cmd::bind_transceiver_resp, {}, "LOAD");
            break;
        }
    }
    const long long phone_base = std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                         .count() %
                                     1000 * 10000 +
                                 5000000;
    long long counter = 0;
    std::map<std::string, dialogue> live;  // by msisdn
    auto begin_dialogue = [&] {
        dialogue d;
        char msisdn[32];
        std::snprintf(msisdn, sizeof msisdn, "99670%07lld", (phone_base + counter) % 10000000);
        d.msisdn = msisdn;
        d.session = static_cast<std::uint8_t>(counter % 256);
        ++counter;
        d.sent = clock_type::now();
        l.send(step_pdu(d, 0x01, "*1313#"));
        live[d.msisdn] = d;
    };
    const std::regex reference("R-[0-9]{7}");
    long long hops = 0, cases = 0, unexpected = 0;
    std::vector<std::uint32_t> latencies;
    const auto start = clock_type::now();
    const auto end = start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(seconds));
    for (int i = 0; i < dialogues; ++i) begin_dialogue();
    try {
        while (clock_type::now() < end) {
            if (!l.flush()) throw std::runtime_error("write failed");
            auto p = l.read(100);
            if (!p) continue;
            if (p->command_id == cmd::enquire_link) {
                l.reply(*p, cmd::enquire_link_resp);
                continue;
            }
            if (p->command_id != cmd::submit_sm) continue;  // deliver_sm_resp and the like
            l.reply(*p, cmd::submit_sm_resp, "L" + std::to_string(hops));
            auto it = live.find(p->destination_addr);
            if (it == live.end()) {
                ++unexpected;
                continue;
            }
            dialogue& d = it->second;
            ++hops;
            latencies.push_back(static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - d.sent)
                    .count()));
            const auto op = p->octet(tag::ussd_service_op);
            const std::string text = decode_text(p->data_coding, p->short_message);
            if (op == 0x11) {  // the last screen
                if (std::regex_search(text, reference))
                    ++cases;
                else
                    ++unexpected;
                live.erase(it);
                begin_dialogue();
                continue;
            }
            if (d.step >= path.size()) {
                ++unexpected;
                live.erase(it);
                begin_dialogue();
                continue;
            }
            d.sent = clock_type::now();
            l.send(step_pdu(d, 0x12, path[d.step++]));
        }
        // Unbind: the gateway answers and binds again later (nobody listens then).
        pdu u;
        u.command_id = cmd::unbind;
        l.send(u);
        l.flush();
    } catch (const std::exception& e) {
        std::cerr << "smpp-load: " << e.what() << "\n";
    }
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf(
        "hops=%lld cases=%lld errors=0 unexpected=%lld seconds=%.1f hops_per_s=%.0f "
        "cases_per_s=%.1f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
        hops, cases, unexpected, elapsed, hops / elapsed, cases / elapsed,
        percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 0.999),
        latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end()) / 1000.0);
    ::close(fd);
    ::close(listener);
    return 0;
}

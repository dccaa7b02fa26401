// USSD load generator: many concurrent simulated sessions in the Africa's
// Talking format, each walking a complete path to a registered case, over
// keep-alive connections. Reports hops/s, cases/s and hop latency
// percentiles. Loopback only: the target must be 127.0.0.1.
//
//   ussd-load --port 8080 --connections 64 --seconds 20 [--rate 2000] [--path 2,2,1,3,2,1,1]
//
// --path lists the inputs after the first (empty) hop; the last hop must
// answer END with a reference code R-NNNNNNN for the session to count as a
// case (with --any-end any END counts: for servers that do not register).
// --by-hop also prints p50 and p99 for each hop of the walk (0 = the first):
// which hops make the tail.
#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/form.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
    unsigned short port = 8080;
    std::string target = "/ussd/africastalking";
    int connections = 64;
    double seconds = 20;
    double rate = 0;  // hops per second in total, 0 = as fast as possible
    // Russian, "Юрист, семья", "Нужен юрист", Osh, returned, call me, consent: a case.
    std::vector<std::string> path = {"2", "2", "1", "3", "2", "1", "1"};
    bool any_end = false;
    bool by_hop = false;
    int threads = 1;
    long long phone_base = 0;
};

struct stats {
    std::vector<std::uint32_t> latencies_us;
    std::vector<std::vector<std::uint32_t>> by_hop_us;  // with --by-hop
    long long hops = 0, cases = 0, errors = 0, unexpected = 0;
};

std::atomic<long long> session_counter{0};

class client : public std::enable_shared_from_this<client> {
  public:
    client(asio::io_context& ioc, const options& o, stats& st, clock_type::time_point end,
           int index)
        : stream_(ioc), opts_(o), st_(st), end_(end), index_(index) {}

    void start() {
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), opts_.port);
        stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                ++self->st_.errors;
                return;
            }
            self->new_session();
        });
    }

  private:
    void new_session() {
        long long n = session_counter++;
        session_id_ = "load-" + std::to_string(opts_.phone_base) + "-" + std::to_string(n);
        char phone[32];
        // +996 70X XXX XXX: ten million numbers before one repeats (a repeated
        // number is a known caller and would see other screens).
        std::snprintf(phone, sizeof phone, "+99670%07lld", (opts_.phone_base + n) % 10000000);
        phone_ = phone;
        step_ = 0;
        text_.clear();
        hop();
    }

    void hop() {
        if (clock_type::now() >= end_) return;
        if (opts_.rate > 0) {
            // Each connection paces itself to its share of the total rate.
            auto interval = std::chrono::duration<double>(opts_.connections / opts_.rate);
            auto next = last_sent_ + std::chrono::duration_cast<clock_type::duration>(interval);
            if (next > clock_type::now()) {
                timer_ = std::make_unique<asio::steady_timer>(stream_.get_executor(), next);
                timer_->async_wait(
                    [self = shared_from_this()](beast::error_code) { self->send(); });
                return;
            }
        }
        send();
    }

    void send() {
        last_sent_ = clock_type::now();
        req_ = {bhttp::verb::post, opts_.target, 11};
        req_.set(bhttp::field::host, "127.0.0.1");
        req_.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
        req_.body() = "sessionId=" + gw::url_encode_component(session_id_) +
                      "&serviceCode=%2A384%23&phoneNumber=" + gw::url_encode_component(phone_) +
                      "&networkCode=43709&text=" + gw::url_encode_component(text_);
        req_.keep_alive(true);
        req_.prepare_payload();
        sent_at_ = clock_type::now();
        bhttp::async_write(
            stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec) return self->fail();
                self->res_ = {};
                bhttp::async_read(
                    self->stream_, self->buffer_, self->res_,
                    [self](beast::error_code ec2, std::size_t) { self->on_read(ec2); });
            });
    }

    void on_read(beast::error_code ec) {
        if (ec) return fail();
        auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - sent_at_)
                .count();
        st_.latencies_us.push_back(static_cast<std::uint32_t>(us));
        if (opts_.by_hop) {
            if (st_.by_hop_us.size() <= step_) st_.by_hop_us.resize(step_ + 1);
            st_.by_hop_us[step_].push_back(static_cast<std::uint32_t>(us));
        }
        ++st_.hops;
        const std::string& body = res_.body();
        if (res_.result_int() != 200) ++st_.errors;
        const bool last = step_ >= opts_.path.size();
        if (body.rfind("END ", 0) == 0 || last) {
            bool ok = body.rfind("END ", 0) == 0 &&
                      (opts_.any_end || body.find("R-") != std::string::npos);
            if (ok && (last || opts_.any_end)) {
                ++st_.cases;
            } else if (++st_.unexpected <= 3) {
                std::cerr << "unexpected answer at hop " << step_ << ": " << body << "\n";
            }
            return new_session();
        }
        const std::string& in = opts_.path[step_++];
        text_ = text_.empty() ? in : text_ + "*" + in;
        hop();
    }

    void fail() {
        ++st_.errors;
        beast::error_code ignored;
        stream_.socket().close(ignored);
        if (clock_type::now() < end_) {
            // Reconnect (connect reopens the closed socket) and start a fresh session.
            buffer_.clear();
            start();
        }
    }

    beast::tcp_stream stream_;
    const options& opts_;
    stats& st_;
    clock_type::time_point end_;
    int index_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> req_;
    bhttp::response<bhttp::string_body> res_;
    std::string session_id_, phone_, text_;
    std::size_t step_ = 0;
    clock_type::time_point sent_at_, last_sent_;
    std::unique_ptr<asio::steady_timer> timer_;
};

double percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) return 0;
    std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    o.phone_base = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() %
                   1000 * 10000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--port")
            o.port = static_cast<unsigned short>(std::stoi(next()));
        else if (a == "--target")
            o.target = next();
        else if (a == "--connections")
            o.connections = std::stoi(next());
        else if (a == "--seconds")
            o.seconds = std::stod(next());
        else if (a == "--rate")
            o.rate = std::stod(next());
        else if (a == "--threads")
            o.threads = std::stoi(next());
        else if (a == "--any-end")
            o.any_end = true;
        else if (a == "--by-hop")
            o.by_hop = true;
        else if (a == "--path") {
            o.path.clear();
            std::stringstream ss(next());
            for (std::string p; std::getline(ss, p, ',');) o.path.push_back(p);
        } else {
            std::cerr << "unknown option " << a << "\n";
            return 2;
        }
    }
    const auto start = clock_type::now();
    const auto end = start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(o.seconds));
    std::vector<stats> per_thread(o.threads);
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
        threads.emplace_back([&, t] {
            asio::io_context ioc;
            for (int c = t; c < o.connections; c += o.threads)
                std::make_shared<client>(ioc, o, per_thread[t], end, c)->start();
            ioc.run();
        });
    }
    for (auto& th : threads) th.join();
    double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    stats all;
    for (auto& s : per_thread) {
        all.hops += s.hops;
        all.cases += s.cases;
        all.errors += s.errors;
        all.unexpected += s.unexpected;
        all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(),
                                s.latencies_us.end());
        if (all.by_hop_us.size() < s.by_hop_us.size()) all.by_hop_us.resize(s.by_hop_us.size());
        for (std::size_t h = 0; h < s.by_hop_us.size(); ++h)
            all.by_hop_us[h].insert(all.by_hop_us[h].end(), s.by_hop_us[h].begin(),
                                    s.by_hop_us[h].end());
    }
    auto lat = all.latencies_us;
    std::printf(
        "hops=%lld cases=%lld errors=%lld unexpected=%lld seconds=%.1f hops_per_s=%.0f "
        "cases_per_s=%.1f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
        all.hops, all.cases, all.errors, all.unexpected, elapsed, all.hops / elapsed,
        all.cases / elapsed, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999),
        lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end()) / 1000.0);
    for (std::size_t h = 0; h < all.by_hop_us.size(); ++h)
        std::printf("hop %zu: n=%zu p50_ms=%.2f p99_ms=%.2f\n", h, all.by_hop_us[h].size(),
                    percentile(all.by_hop_us[h], 0.5), percentile(all.by_hop_us[h], 0.99));
    return all.errors > 0 ? 1 : 0;
}

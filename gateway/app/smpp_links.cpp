#include "app/smpp_links.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "common/log.hpp"

namespace gw::app {

struct smpp_links::io {
    boost::asio::io_context context{1};
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
};

smpp_links::smpp_links(const config& c, gateway& gw, const clock_source& clock)
    : io_(std::make_unique<io>()) {
    for (const auto& settings : c.smpp.operators) {
        channels_.push_back(std::make_unique<smpp::operator_channel>(
            io_->context, settings, gw.ussd(), gw.sms(), gw.storage(), clock));
        smpp::operator_channel* ch = channels_.back().get();
        if (settings.sms)
            gw.add_direct_channel(ch->channel(), [ch](const store::outbound_message& m,
                                                      std::chrono::milliseconds timeout) {
                return ch->send(m, timeout);
            });
    }
    if (channels_.empty()) return;
    gw.on_link_report([this] {
        std::vector<link_report> out;
        for (const auto& ch : channels_) {
            const smpp::link_state s = ch->state();
            link_report r{ch->channel(), s.bound, s.detail, {}};
            r.counters = {{"binds_total", double(s.binds)},
                          {"losses_total", double(s.link_losses)},
                          {"throttled_total", double(s.throttled)},
                          {"submitted_total", double(s.submitted)},
                          {"submit_failures_total", double(s.submit_failures)},
                          {"delivered_total", double(s.delivered)},
                          {"nacks_sent_total", double(s.nacks_sent)},
                          {"queued", double(s.queued)}};
            out.push_back(std::move(r));
        }
        return out;
    });
}

smpp_links::~smpp_links() {
    stop();
}

void smpp_links::start() {
    if (channels_.empty() || thread_.joinable()) return;
    io_->work.emplace(io_->context.get_executor());
    for (auto& ch : channels_) ch->start();
    thread_ = std::thread([this] {
        for (;;) {
            try {
                io_->context.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("smpp: unexpected error, going on: {}", e.what());
            }
        }
    });
}

void smpp_links::stop() {
    if (!thread_.joinable()) return;
    for (auto& ch : channels_) ch->stop();
    io_->work.reset();  // run() returns once every link has unbound and closed
    thread_.join();
}

}  // namespace gw::app

#include "smpp/channel.hpp"

#include "common/asio_fwd.hpp"
// (asio_fwd first)
#include <boost/asio/post.hpp>
#include <future>
#include <latch>
#include <map>
#include <random>

#include "common/log.hpp"
#include "common/phone.hpp"

namespace gw::smpp {
namespace {

std::string random_nonce() {
    std::random_device rd;
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 12; ++i) out += digits[rd() % 16];
    return out;
}

// A session id per (operator session, number): two phones may share the
// small its_session_info space at the same time.
std::string session_id_of(const ussd_step& step) {
    std::string digits;
    for (char c : step.phone)
        if (c >= '0' && c <= '9') digits += c;
    return step.session + ":" + digits;
}

// SMSC answers that will not change if the same message is sent again.
bool is_permanent(std::uint32_t st) {
    switch (st) {
        case 0x0A:  // ESME_RINVSRCADR
        case 0x0B:  // ESME_RINVDSTADR
        case 0x43:  // ESME_RINVESMCLASS
        case 0x48:  // ESME_RINVSRCTON
        case 0x49:  // ESME_RINVSRCNPI
        case 0x50:  // ESME_RINVDSTTON
        case 0x51:  // ESME_RINVDSTNPI
        case 0x65:  // ESME_RX_P_APPN
        case 0x66:  // ESME_RX_R_APPN
            return true;
        default:
            return false;
    }
}

}  // namespace

operator_channel::operator_channel(boost::asio::io_context& io, link_settings settings,
                                   service::ussd_service& ussd, service::sms_service& sms,
                                   store::store& store, const clock_source& clock)
    : channel_(channel_name(settings.name)),
      settings_(settings),
      ussd_(ussd),
      sms_(sms),
      store_(store),
      clock_(clock),
      bind_nonce_(random_nonce()),
      esme_(io, std::move(settings), [this](const pdu& p) { return on_deliver(p); }) {}

std::uint32_t operator_channel::on_deliver(const pdu& p) {
    inbound in = classify(p, settings_);
    if (auto* step = std::get_if<ussd_step>(&in)) return on_ussd(*step);
    if (auto* part = std::get_if<sms_in_part>(&in)) return on_sms(p, std::move(*part));
    if (auto* r = std::get_if<receipt>(&in)) {
        // Throws store_error when it cannot be recorded: the SMSC resends.
        if (!store_.record_delivery_report(channel_, r->message_id, r->status, r->detail,
                                           to_unix_seconds(clock_.now())))
            spdlog::debug("smpp/{}: delivery receipt for an unknown message", settings_.name);
        return status::ok;
    }
    spdlog::info("smpp/{}: deliver_sm ignored: {}", settings_.name, std::get<ignored>(in).why);
    return status::ok;
}

operator_channel::~operator_channel() {
    stop();
}

void operator_channel::start() {
    if (!ussd_thread_.joinable()) ussd_thread_ = std::thread([this] { answer_steps(); });
    esme_.start();
}

void operator_channel::stop() {
    {
        std::lock_guard lock(steps_mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    steps_ready_.notify_all();
    if (ussd_thread_.joinable()) ussd_thread_.join();
    esme_.stop();
}

std::uint32_t operator_channel::on_ussd(const ussd_step& step) {
    {
        std::lock_guard lock(steps_mutex_);
        steps_.emplace_back(step, std::chrono::steady_clock::now());
    }
    steps_ready_.notify_one();
    return status::ok;
}

void operator_channel::answer_steps() {
    for (;;) {
        std::deque<std::pair<ussd_step, std::chrono::steady_clock::time_point>> batch;
        {
            std::unique_lock lock(steps_mutex_);
            steps_ready_.wait(lock, [this] { return stopping_ || !steps_.empty(); });
            if (steps_.empty()) return;  // stopping, and nothing left to answer
            batch.swap(steps_);
        }
        struct answer {
            const ussd_step* step;
            std::string session;
            service::ussd_reply reply;
            std::chrono::steady_clock::time_point received;
            bool released = false;
        };
        std::vector<answer> answers;
        answers.reserve(batch.size());
        // Steps of one dialogue in the order they came; dialogues at once,
        // on the hop pool: a step that makes a case waits for its commit
        // without holding up the other dialogues of the batch.
        std::map<std::string, std::vector<std::size_t>> by_session;
        for (const auto& [step, received] : batch) {
            answers.push_back({&step, session_id_of(step), {}, received});
            by_session[answers.back().session].push_back(answers.size() - 1);
        }
        auto answer_one = [&](answer& a) {
            const ussd_step& step = *a.step;
            if (step.kind == ussd_step::release) {
                ussd_.release(channel_, a.session);
                a.released = true;
                spdlog::info("smpp/{}: dialogue released by the network ({})", settings_.name,
                             mask_phone(step.phone));
                return;
            }
            service::ussd_request req;
            req.aggregator = channel_;
            req.session_id = a.session;
            req.phone = step.phone;
            req.service_code = step.service_code;
            req.network_code = settings_.name;
            req.text = step.text;
            req.stepwise = step.kind == ussd_step::answer;
            req.caller_flushes = true;
            a.reply = ussd_.handle(req);
        };
        std::latch done(static_cast<std::ptrdiff_t>(by_session.size()));
        for (const auto& [session, indexes] : by_session)
            boost::asio::post(hop_pool_, [&, indexes = &indexes] {
                for (std::size_t i : *indexes) try {
                        answer_one(answers[i]);
                    } catch (const std::exception& e) {
                        spdlog::error("smpp/{}: step not answered: {}", settings_.name, e.what());
                        answers[i].reply = ussd_.store_failure_reply(channel_, answers[i].session);
                    }
                done.count_down();
            });
        done.wait();
        std::erase_if(answers, [](const answer& a) { return a.released; });
        try {
            ussd_.flush_sessions();  // one transaction for the whole batch
        } catch (const std::exception& e) {
            spdlog::error("smpp/{}: {} session state(s) not stored, told to try later: {}",
                          settings_.name, answers.size(), e.what());
            for (auto& a : answers) a.reply = ussd_.store_failure_reply(channel_, a.session);
        }
        for (auto& a : answers) {
            esme_.submit(
                ussd_reply_pdu(*a.step, a.reply.text, a.reply.end, settings_),
                a.received + settings_.ussd_reply_deadline,
                [name = settings_.name, phone = mask_phone(a.step->phone)](const submit_result& r) {
                    if (!r.ok())
                        spdlog::warn("smpp/{}: screen for {} not delivered: {}", name, phone,
                                     r.error.empty() ? status_name(r.status) : r.error);
                });
        }
    }
}

std::uint32_t operator_channel::on_sms(const pdu& p, sms_in_part part) {
    std::string text = std::move(part.text.text);
    if (part.text.part) {
        auto whole = parts_.add(part.phone, *part.text.part, std::move(text),
                                std::chrono::steady_clock::now());
        if (!whole) return status::ok;  // more parts to come
        text = std::move(*whole);
    }
    service::sms_in in;
    in.channel = channel_;
    // SMPP has no id for an MO message: an SMSC that repeats a deliver_sm
    // (our answer was lost) repeats its sequence number on the same bind.
    in.message_id = bind_nonce_ + ":" + std::to_string(p.sequence) + ":" + part.phone;
    in.from = part.phone;
    in.text = std::move(text);
    sms_.handle(in, /*reply_in_response=*/false);  // store_error: the SMSC delivers it again
    return status::ok;
}

adapters::send_outcome operator_channel::send(const store::outbound_message& m,
                                              std::chrono::milliseconds timeout) {
    using adapters::send_outcome;
    // The outbox has one thread for every channel: a link that is down must
    // not hold the others up for a whole timeout per message.
    if (const link_state st = esme_.state(); !st.bound)
        return {send_outcome::retry, "", channel_ + ": not bound (" + st.detail + ")"};
    const auto parts =
        split_sms(m.body, static_cast<std::uint8_t>(next_reference_.fetch_add(1) & 0xFF));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::future<submit_result>> answers;
    for (const auto& part : parts) {
        pdu p;
        p.command_id = cmd::submit_sm;
        p.source_addr = settings_.sender;
        if (p.source_addr.empty())
            for (char c : settings_.ussd_code)
                if (c >= '0' && c <= '9') p.source_addr += c;
        p.source_ton = settings_.sender_ton;
        p.source_npi = settings_.sender_npi;
        p.dest_ton = 1;
        p.dest_npi = 1;
        p.destination_addr = to_destination(m.recipient);
        p.esm_class = part.esm_class;
        p.data_coding = part.data_coding;
        p.short_message = part.short_message;
        p.registered_delivery = settings_.delivery_receipts ? 1 : 0;
        auto promise = std::make_shared<std::promise<submit_result>>();
        answers.push_back(promise->get_future());
        esme_.submit(std::move(p), deadline,
                     [promise](const submit_result& r) { promise->set_value(r); });
    }
    send_outcome out{send_outcome::sent, "", ""};
    for (auto& f : answers) {
        // The ESME answers every submit by its deadline; the margin covers its sweep.
        if (f.wait_until(deadline + std::chrono::seconds(2)) != std::future_status::ready)
            return {send_outcome::retry, "", channel_ + ": no answer"};
        submit_result r = f.get();
        if (!r.error.empty()) return {send_outcome::retry, "", channel_ + ": " + r.error};
        if (r.status != status::ok)
            return {is_permanent(r.status) ? send_outcome::reject : send_outcome::retry, "",
                    channel_ + ": " + status_name(r.status)};
        if (out.provider_id.empty())
            out.provider_id = r.message_id;  // receipts name the first part
    }
    return out;
}

}  // namespace gw::smpp

#include "service/outbox_worker.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "adapters/sms_adapters.hpp"
#include "adapters/webhook.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace std::chrono_literals;

namespace {

// Answers with scripted results and remembers what was sent.
class scripted_transport final : public service::http_transport {
  public:
    service::transport_result send(const adapters::outbound_request& r,
                                   std::chrono::milliseconds) override {
        sent.push_back(r);
        if (answers.empty()) return {0, "", "connection refused"};
        auto a = answers.front();
        answers.pop_front();
        return a;
    }
    std::deque<service::transport_result> answers;
    std::vector<adapters::outbound_request> sent;
};

class OutboxWorker : public ::testing::Test {
  protected:
    OutboxWorker() {
        adapters::channel_settings s;
        s.send_url = "http://127.0.0.1:9/cgi-bin/sendsms";
        s.report_url = "http://127.0.0.1:8080/sms/kannel/dlr";
        settings.max_attempts = 3;
        settings.base_delay = 1000ms;
        worker = std::make_unique<service::outbox_worker>(
            *db, transport,
            std::map<std::string, service::outbox_channel>{{"kannel", {kannel.get(), s}}}, clock,
            settings);
    }

    long long queue(const std::string& to = "+996555123456",
                    const std::string& channel = "kannel") {
        store::outbound_message m;
        m.channel = channel;
        m.recipient = to;
        m.body = "Ваш код R-1234567";
        m.purpose = "notification";
        m.next_attempt_at_ms = clock.ms();
        m.created_at = clock.ms() / 1000;
        return db->enqueue_outbound(m);
    }

    test::temp_dir dir;
    test::fake_clock clock;
    std::unique_ptr<store::store> db =
        store::open_sqlite_store(dir.file("g.db"), gw::test::test_sealer());
    std::unique_ptr<adapters::sms_adapter> kannel = adapters::make_kannel_sms();
    scripted_transport transport;
    service::outbox_settings settings;
    std::unique_ptr<service::outbox_worker> worker;
};

}  // namespace

TEST_F(OutboxWorker, SendsAndRecordsTheProviderIdThenTheDeliveryReport) {
    long long id = queue();
    transport.answers.push_back({202, "0: Accepted for delivery", ""});
    EXPECT_EQ(worker->run_once(), 1u);
    auto m = db->find_outbound(id);
    EXPECT_EQ(m->status, message_status::sent);
    EXPECT_EQ(m->provider_id, "ob-" + std::to_string(id));
    EXPECT_EQ(m->attempts, 1);
    ASSERT_EQ(transport.sent.size(), 1u);
    EXPECT_NE(transport.sent[0].url.find("to=%2B996555123456"), std::string::npos);
    EXPECT_TRUE(
        db->record_delivery_report("kannel", m->provider_id, message_status::delivered, "1", 1));
    EXPECT_EQ(db->find_outbound(id)->status, message_status::delivered);
    EXPECT_FALSE(db->record_delivery_report("kannel", "ob-999", message_status::delivered, "1", 1));
}

TEST_F(OutboxWorker, RetriesWithBackoffThenDeadLetters) {
    long long id = queue();
    EXPECT_EQ(worker->run_once(), 1u);  // refused: aggregator down
    auto m = db->find_outbound(id);
    EXPECT_EQ(m->status, message_status::queued);
    EXPECT_EQ(m->attempts, 1);
    EXPECT_GE(m->next_attempt_at_ms, clock.ms() + 500);
    EXPECT_LE(m->next_attempt_at_ms, clock.ms() + 1000);
    EXPECT_EQ(worker->run_once(), 0u) << "not due yet";
    clock.t += 1s;
    transport.answers.push_back({503, "", ""});
    EXPECT_EQ(worker->run_once(), 1u);
    m = db->find_outbound(id);
    EXPECT_EQ(m->attempts, 2);
    EXPECT_GE(m->next_attempt_at_ms, clock.ms() + 1000);  // doubled
    EXPECT_LE(m->next_attempt_at_ms, clock.ms() + 2000);
    clock.t += 2s;
    EXPECT_EQ(worker->run_once(), 1u);
    m = db->find_outbound(id);
    EXPECT_EQ(m->status, message_status::dead);
    EXPECT_EQ(m->attempts, 3);
    EXPECT_EQ(m->last_error, "kannel: connection refused");
}

TEST_F(OutboxWorker, RefusalIsDeadAtOnce) {
    long long id = queue();
    transport.answers.push_back({403, "Authorization failed for sendsms", ""});
    worker->run_once();
    auto m = db->find_outbound(id);
    EXPECT_EQ(m->status, message_status::dead);
    EXPECT_NE(m->last_error.find("403"), std::string::npos);
    EXPECT_EQ(m->last_error.find("secret"), std::string::npos);
}

TEST_F(OutboxWorker, BackoffIsCappedAndJittered) {
    settings.max_delay = 5000ms;
    service::outbox_worker w(*db, transport, {}, clock, settings);
    for (int attempt = 1; attempt < 20; ++attempt) {
        auto d = w.backoff(attempt);
        EXPECT_LE(d, 5000ms);
        EXPECT_GE(d, std::min<long long>(1000LL << (attempt - 1), 5000) / 2 * 1ms);
    }
}

TEST_F(OutboxWorker, DoNotSmsIsHonouredAtSendTime) {
    long long id = queue();
    db->set_no_sms("+996555123456", true);
    worker->run_once();
    EXPECT_EQ(db->find_outbound(id)->status, message_status::dead);
    EXPECT_TRUE(transport.sent.empty());
    EXPECT_EQ(queue(), 0) << "and nothing new is queued for that number";
}

TEST_F(OutboxWorker, UnknownChannelIsDead) {
    long long id = queue("+996555123456", "carrier-pigeon");
    worker->run_once();
    EXPECT_EQ(db->find_outbound(id)->status, message_status::dead);
}

TEST_F(OutboxWorker, InterruptedSendsAreQueuedAgainOnStart) {
    long long id = queue();
    auto claimed = db->claim_due_outbound(clock.ms(), 10);  // then the process dies
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(db->find_outbound(id)->status, message_status::sending);
    EXPECT_EQ(db->requeue_unfinished(), 1u);
    EXPECT_EQ(db->find_outbound(id)->status, message_status::queued);
}

TEST_F(OutboxWorker, BackgroundThreadSendsWhenWoken) {
    settings.poll_interval = 10min;  // only a wake-up can make it send soon
    service::outbox_worker w(
        *db, transport,
        {{"kannel", {kannel.get(), adapters::channel_settings{.send_url = "http://x"}}}}, clock,
        settings);
    // The answer is ready before the worker runs: it may look at the queue
    // as soon as it starts (a race that once failed this test under load).
    transport.answers.push_back({202, "0: Accepted", ""});
    w.start();
    long long id = queue();
    w.wake();
    for (int i = 0; i < 1000 && db->find_outbound(id)->status != message_status::sent; ++i)
        std::this_thread::sleep_for(10ms);
    w.stop();
    EXPECT_EQ(db->find_outbound(id)->status, message_status::sent);
}

TEST_F(OutboxWorker, ADeliveryReportThatOvertakesTheSendAnswerIsKept) {
    long long id = queue();
    const std::string ref = "ob-" + std::to_string(id);
    EXPECT_FALSE(db->record_delivery_report("kannel", ref, message_status::delivered, "1", 1));
    EXPECT_FALSE(db->record_delivery_report("kannel", ref, message_status::sent, "8", 1));
    transport.answers.push_back({202, "0: Accepted for delivery", ""});
    worker->run_once();
    EXPECT_EQ(db->find_outbound(id)->status, message_status::delivered);
}

TEST_F(OutboxWorker, OptedOutAtTheAggregatorStopsAllSmsToHer) {
    // Twilio's answer when she has texted STOP to our Twilio number.
    auto twilio = adapters::make_twilio_sms();
    adapters::channel_settings s;
    s.send_url = "http://x";
    s.sender = "+15005550006";
    service::outbox_worker w(*db, transport, {{"twilio", {twilio.get(), s}}}, clock, settings);
    long long first = queue("+996555123456", "twilio");
    long long second = queue("+996555123456", "twilio");
    transport.answers.push_back(
        {400,
         R"({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})",
         ""});
    EXPECT_EQ(w.run_once(), 2u);
    auto m = db->find_outbound(first);
    EXPECT_EQ(m->status, message_status::dead) << "not retried";
    EXPECT_EQ(m->attempts, 1);
    EXPECT_NE(m->last_error.find("21610"), std::string::npos) << m->last_error;
    EXPECT_TRUE(db->no_sms("+996555123456"));
    EXPECT_EQ(db->find_outbound(second)->status, message_status::dead);
    EXPECT_EQ(transport.sent.size(), 1u) << "the second message is not even tried";
    EXPECT_FALSE(db->no_sms("+996555000111")) << "only her";
}

TEST_F(OutboxWorker, AnOrdinaryRefusalLeavesHerNumberAlone) {
    auto twilio = adapters::make_twilio_sms();
    adapters::channel_settings s;
    s.send_url = "http://x";
    service::outbox_worker w(*db, transport, {{"twilio", {twilio.get(), s}}}, clock, settings);
    long long id = queue("+996555123456", "twilio");
    transport.answers.push_back(
        {400,
         R"({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})",
         ""});
    w.run_once();
    EXPECT_EQ(db->find_outbound(id)->status, message_status::dead);
    EXPECT_EQ(db->find_outbound(id)->last_error, "Twilio error 21211");
    EXPECT_FALSE(db->no_sms("+996555123456"));
}

namespace {
// Requests to the slow partner hang until released; the others answer at once.
class gated_transport final : public service::http_transport {
  public:
    service::transport_result send(const adapters::outbound_request& r,
                                   std::chrono::milliseconds) override {
        std::unique_lock lock(mutex);
        if (r.url.find("slow-partner") != std::string::npos) {
            released.wait(lock, [this] { return open; });
            return {200, "{}", ""};
        }
        fast.push_back(r.url);
        arrived.notify_all();
        return {202, "0: Accepted for delivery", ""};
    }
    std::mutex mutex;
    std::condition_variable released, arrived;
    bool open = false;
    std::vector<std::string> fast;
};
}  // namespace

TEST_F(OutboxWorker, ASlowPartnerWebhookNeverHoldsUpAnSmsReply) {
    gated_transport gated;
    auto webhook = adapters::make_webhook_sender();
    adapters::channel_settings sms;
    sms.send_url = "http://127.0.0.1:9/cgi-bin/sendsms";
    adapters::channel_settings hook;
    hook.name = "webhook:legal";
    hook.send_url = "http://slow-partner.example/referrals";
    hook.send_password = "secret";
    service::outbox_worker lanes(
        *db, gated,
        {{"kannel", {kannel.get(), sms, {}}}, {"webhook:legal", {webhook.get(), hook, {}}}}, clock,
        settings);
    EXPECT_EQ(lanes.lanes().size(), 2u) << "the SMS channel, and webhooks with the rest";
    queue("+996555123456", "webhook:legal");  // first in the queue, and it hangs
    const long long reply = queue("+996555123457", "kannel");
    lanes.start();
    {
        std::unique_lock lock(gated.mutex);
        EXPECT_TRUE(gated.arrived.wait_for(lock, 5s, [&] { return !gated.fast.empty(); }))
            << "the SMS reply waited for the partner";
        gated.open = true;
    }
    gated.released.notify_all();
    lanes.stop();
    EXPECT_EQ(db->find_outbound(reply)->status, message_status::sent);
}

#pragma once
// A store that forwards every call to a real one, calling on_call(name)
// first: tests override on_call() to inject failures (a full disk, a
// locked database) without touching SQLite.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace gw::test {

class forwarding_store : public gw::store::store {
  public:
    explicit forwarding_store(std::unique_ptr<gw::store::store> inner) : inner_(std::move(inner)) {}

    std::optional<std::string> subscriber_language(const std::string& phone) override {
        on_call("subscriber_language");
        return inner_->subscriber_language(phone);
    }

    void set_subscriber_language(const std::string& phone, const std::string& lang) override {
        on_call("set_subscriber_language");
        inner_->set_subscriber_language(phone, lang);
    }

    void save_session(const gw::store::session_record& s) override {
        on_call("save_session");
        inner_->save_session(s);
    }

    std::optional<gw::store::session_record> find_session(const std::string& id) override {
        on_call("find_session");
        return inner_->find_session(id);
    }

    std::optional<gw::store::session_record> find_resumable_session(
        const std::string& phone, long long since, const std::string& except_id) override {
        on_call("find_resumable_session");
        return inner_->find_resumable_session(phone, since, except_id);
    }

    void set_session_status(const std::string& id, const std::string& status) override {
        on_call("set_session_status");
        inner_->set_session_status(id, status);
    }

    std::size_t abandon_idle_sessions(long long before) override {
        on_call("abandon_idle_sessions");
        return inner_->abandon_idle_sessions(before);
    }

    gw::store::case_record create_case(const gw::store::new_case& c, long long now) override {
        on_call("create_case");
        return inner_->create_case(c, now);
    }

    std::optional<gw::store::case_record> find_case(const std::string& reference) override {
        on_call("find_case");
        return inner_->find_case(reference);
    }

    std::size_t count_cases() override {
        on_call("count_cases");
        return inner_->count_cases();
    }

    bool no_sms(const std::string& phone) override {
        on_call("no_sms");
        return inner_->no_sms(phone);
    }

    void set_no_sms(const std::string& phone, bool value) override {
        on_call("set_no_sms");
        inner_->set_no_sms(phone, value);
    }

    std::optional<gw::store::inbound_record> find_inbound(const std::string& aggregator,
                                                          const std::string& message_id) override {
        on_call("find_inbound");
        return inner_->find_inbound(aggregator, message_id);
    }

    bool commit_inbound(const gw::store::inbound_record& in,
                        const gw::store::session_record* session,
                        const std::vector<gw::store::outbound_message>& outbox) override {
        on_call("commit_inbound");
        return inner_->commit_inbound(in, session, outbox);
    }

    long long enqueue_outbound(const gw::store::outbound_message& m) override {
        on_call("enqueue_outbound");
        return inner_->enqueue_outbound(m);
    }

    std::vector<gw::store::outbound_message> claim_due_outbound(long long now_ms,
                                                                std::size_t limit) override {
        on_call("claim_due_outbound");
        return inner_->claim_due_outbound(now_ms, limit);
    }

    void mark_sent(long long id, const std::string& provider_id, long long now) override {
        on_call("mark_sent");
        inner_->mark_sent(id, provider_id, now);
    }

    void mark_retry(long long id, int attempts, long long next_attempt_at_ms,
                    const std::string& error, long long now) override {
        on_call("mark_retry");
        inner_->mark_retry(id, attempts, next_attempt_at_ms, error, now);
    }

    void mark_dead(long long id, int attempts, const std::string& error, long long now) override {
        on_call("mark_dead");
        inner_->mark_dead(id, attempts, error, now);
    }

    std::size_t requeue_unfinished() override {
        on_call("requeue_unfinished");
        return inner_->requeue_unfinished();
    }

    bool record_delivery_report(const std::string& channel, const std::string& provider_id,
                                const std::string& status, const std::string& detail,
                                long long now) override {
        on_call("record_delivery_report");
        return inner_->record_delivery_report(channel, provider_id, status, detail, now);
    }

    std::optional<gw::store::outbound_message> find_outbound(long long id) override {
        on_call("find_outbound");
        return inner_->find_outbound(id);
    }

    std::vector<gw::store::outbound_message> outbound_to(const std::string& recipient) override {
        on_call("outbound_to");
        return inner_->outbound_to(recipient);
    }

    std::map<std::string, std::size_t> outbox_counts() override {
        on_call("outbox_counts");
        return inner_->outbox_counts();
    }

  protected:
    // Called with the method name before each call; may throw store_error.
    virtual void on_call(const char* method) {}
    gw::store::store& inner() { return *inner_; }

  private:
    std::unique_ptr<gw::store::store> inner_;
};

}  // namespace gw::test

#pragma once
// An aggregator's send API stand-in on a loopback port: records every
// request and answers the way Africa's Talking does (201 with a message id).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/form.hpp"
#include "server/http_server.hpp"

namespace gw::test {

class fake_aggregator {
  public:
    explicit fake_aggregator(unsigned short port = 0) {
        server::server_options o;
        o.port = port;
        server_ = std::make_unique<server::http_server>(o, [this](const http::request& r) {
            std::lock_guard lock(mutex_);
            received_.push_back(r);
            http::response res;
            res.status = 201;
            res.content_type = "application/json";
            res.body =
                R"({"SMSMessageData":{"Message":"Sent to 1/1","Recipients":[{"statusCode":101,"number":"x","status":"Success","messageId":"ATXid_)" +
                std::to_string(received_.size()) + R"("}]}})";
            return res;
        });
        port_ = server_->start();
    }
    ~fake_aggregator() {
        server_->stop();
        server_->wait();
    }

    unsigned short port() const { return port_; }
    std::vector<http::request> received() {
        std::lock_guard lock(mutex_);
        return received_;
    }
    // Waits until at least `n` requests arrived (up to `timeout`).
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (received().size() >= n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    // A form field of request i ("message", "to").
    std::string field(std::size_t i, const std::string& name) {
        auto r = received().at(i);
        auto f = parse_form(r.body);
        const std::string* v = f ? f->find(name) : nullptr;
        return v ? *v : "";
    }

  private:
    std::unique_ptr<server::http_server> server_;
    unsigned short port_ = 0;
    std::mutex mutex_;
    std::vector<http::request> received_;
};

}  // namespace gw::test

#pragma once
// Everything logged while it lives, for checks on what a log says (and
// never says: secrets, her number). Replaces the default logger; restores it.
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>

namespace gw::test {

class log_capture {
    class sink : public spdlog::sinks::base_sink<std::mutex> {
      public:
        std::string text() {
            std::lock_guard lock(mutex_);
            return text_;
        }

      protected:
        void sink_it_(const spdlog::details::log_msg& m) override {
            text_.append(m.payload.data(), m.payload.size());
            text_ += '\n';
        }
        void flush_() override {}

      private:
        std::string text_;
    };

  public:
    log_capture() : sink_(std::make_shared<sink>()), previous_(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>("capture", sink_);
        logger->set_level(spdlog::level::debug);
        spdlog::set_default_logger(logger);
    }
    ~log_capture() { spdlog::set_default_logger(previous_); }
    log_capture(const log_capture&) = delete;
    log_capture& operator=(const log_capture&) = delete;
    std::string text() { return sink_->text(); }

  private:
    std::shared_ptr<sink> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace gw::test

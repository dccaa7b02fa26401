#pragma once
// A value or a reason why there is none. Used for expected failures
// (bad input from a client); bugs and infrastructure failures throw.
#include <optional>
#include <string>
#include <utility>

namespace gw {

struct failure {
    std::string reason;
};

template <class T>
class result {
  public:
    result(T value) : value_(std::move(value)) {}
    result(failure f) : error_(std::move(f.reason)) {}

    explicit operator bool() const { return value_.has_value(); }
    bool has_value() const { return value_.has_value(); }
    T& value() { return *value_; }
    const T& value() const { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }
    const std::string& error() const { return error_; }

  private:
    std::optional<T> value_;
    std::string error_;
};

}  // namespace gw

#pragma once
// application/x-www-form-urlencoded and URL query strings.
// Parsing fails (with a reason) on malformed percent escapes; values are
// returned decoded but not checked for UTF-8 (callers decide).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gw {

class form_fields {
  public:
    void add(std::string name, std::string value);
    // First value of a field, or nullptr when absent.
    const std::string* find(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& all() const { return fields_; }

  private:
    std::vector<std::pair<std::string, std::string>> fields_;
};

result<form_fields> parse_form(std::string_view body);

// Nothing when a '%' is not followed by two hex digits.
std::optional<std::string> url_decode_component(std::string_view s);
std::string url_encode_component(std::string_view s);

}  // namespace gw

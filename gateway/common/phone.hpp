#pragma once
// Phone numbers: normalisation to E.164 (libphonenumber) and masking for
// logs. A woman's number is sensitive: log only mask_phone() output.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

class phone_normalizer {
  public:
    // default_region: ISO code used for national-format numbers ("KG").
    // allowed_regions: numbers from other regions are refused; empty = any.
    phone_normalizer(std::string default_region, std::vector<std::string> allowed_regions);

    // E.164 ("+996555123456") or nullopt when the number is not a valid
    // number of an allowed region.
    // Thread-safe. Recent answers are remembered (shared by copies): a
    // parse costs tens of microseconds of regular expressions, and every
    // USSD hop of a session brings the same number again.
    std::optional<std::string> to_e164(std::string_view raw) const;

  private:
    std::optional<std::string> parse(std::string_view raw) const;

    struct memo;
    std::string default_region_;
    std::vector<std::string> allowed_regions_;
    std::shared_ptr<memo> memo_;
};

// "+996555123456" -> "+996*******456": keeps the leading '+' and the last 3 digits.
std::string mask_phone(std::string_view number);

}  // namespace gw

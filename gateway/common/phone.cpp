#include "common/phone.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace gw {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// Answers by raw number, in slices under their own locks; a full slice is
// emptied (bounded memory, no bookkeeping on the hot path).
struct phone_normalizer::memo {
    static constexpr std::size_t slices = 16;
    static constexpr std::size_t per_slice = 1024;
    struct slice {
        std::mutex mutex;
        std::unordered_map<std::string, std::optional<std::string>> answers;
    };
    std::array<slice, slices> by_hash;
};

phone_normalizer::phone_normalizer(std::string default_region,
                                   std::vector<std::string> allowed_regions)
    : default_region_(std::move(default_region)),
      allowed_regions_(std::move(allowed_regions)),
      memo_(std::make_shared<memo>()) {}

std::optional<std::string> phone_normalizer::to_e164(std::string_view raw) const {
    if (raw.empty() || raw.size() > 32) return std::nullopt;
    auto& slice = memo_->by_hash[std::hash<std::string_view>{}(raw) % memo::slices];
    const std::string key(raw);
    {
        std::lock_guard lock(slice.mutex);
        if (auto it = slice.answers.find(key); it != slice.answers.end()) return it->second;
    }
    std::optional<std::string> answer = parse(raw);
    std::lock_guard lock(slice.mutex);
    if (slice.answers.size() >= memo::per_slice) slice.answers.clear();
    slice.answers.emplace(key, answer);
    return answer;
}

std::optional<std::string> phone_normalizer::parse(std::string_view raw) const {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    std::string input(raw);

    auto try_parse = [&](const std::string& text) -> std::optional<PhoneNumber> {
        PhoneNumber number;
        if (util.Parse(text, default_region_, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
            return std::nullopt;
        if (!util.IsValidNumber(number)) return std::nullopt;
        return number;
    };

    auto number = try_parse(input);
    // Some aggregators drop the '+' of international numbers ("996555123456").
    if (!number && std::all_of(input.begin(), input.end(), ::isdigit) && input.size() >= 10)
        number = try_parse("+" + input);
    if (!number) return std::nullopt;

    if (!allowed_regions_.empty()) {
        std::string region;
        util.GetRegionCodeForNumber(*number, &region);
        if (std::find(allowed_regions_.begin(), allowed_regions_.end(), region) ==
            allowed_regions_.end())
            return std::nullopt;
    }
    std::string out;
    util.Format(*number, PhoneNumberUtil::E164, &out);
    return out;
}

std::string mask_phone(std::string_view number) {
    std::string out;
    std::size_t digits = std::count_if(number.begin(), number.end(), ::isdigit);
    std::size_t seen = 0;
    for (char c : number) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            ++seen;
            out += seen + 3 > digits ? c : '*';
        } else if (c == '+' && out.empty()) {
            out += c;
        } else {
            out += '*';
        }
    }
    return out;
}

}  // namespace gw

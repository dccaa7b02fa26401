#pragma once
// Text on an SMPP link: data_coding to UTF-8 and back, long SMS split into
// concatenated parts (UDH) and parts put together again (UDH or sar_*
// TLVs), and delivery receipts read. Pure functions, no I/O.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.hpp"
#include "smpp/pdu.hpp"

namespace gw::smpp {

namespace coding {
constexpr std::uint8_t smsc_default = 0x00;  // GSM 03.38, one septet per octet
constexpr std::uint8_t ia5 = 0x01;
constexpr std::uint8_t latin1 = 0x03;
constexpr std::uint8_t ucs2 = 0x08;
}  // namespace coding

// short_message (without UDH) in `data_coding` as UTF-8. Knows the SMPP
// values (0 GSM, 1 IA5, 3 Latin-1, 8 UCS-2) and the GSM/CBS data coding
// schemes USSD gateways pass through (0x0F, 0x4x, 0xFx).
std::string decode_text(std::uint8_t data_coding, std::string_view bytes);

struct encoded_text {
    std::uint8_t data_coding = coding::smsc_default;
    std::string bytes;
};
// GSM-7 (data_coding 0) when every character allows it, else UCS-2: the
// same choice the layout measures screens with.
encoded_text encode_text(std::string_view utf8);

struct sms_part {
    std::uint8_t esm_class = 0;  // esm_udhi when the part starts with a UDH
    std::uint8_t data_coding = coding::smsc_default;
    std::string short_message;
};
// One part when the text fits one SMS (160 GSM-7 / 70 UCS-2), else
// concatenated parts of 153 / 67 with an 8-bit reference UDH. An escape
// sequence or surrogate pair is never cut in two.
std::vector<sms_part> split_sms(std::string_view utf8, std::uint8_t reference);

// One part of a concatenated MO message, from its UDH or sar_* TLVs.
struct part_info {
    std::uint16_t reference = 0;
    std::uint8_t total = 1;
    std::uint8_t number = 1;
};
struct inbound_text {
    std::string text;               // UTF-8, UDH removed
    std::optional<part_info> part;  // absent: a whole message
};
// Fails for a UDH longer than the message.
result<inbound_text> read_inbound_text(const pdu& p);

// Puts concatenated parts together; keyed by sender and reference. Parts
// missing after `max_age` are given up (the text is lost, as on a phone).
// Not thread-safe.
class reassembler {
  public:
    explicit reassembler(std::chrono::seconds max_age = std::chrono::seconds(600),
                         std::size_t max_pending = 10000)
        : max_age_(max_age), max_pending_(max_pending) {}
    // The whole text once its last part has arrived; nullopt before.
    std::optional<std::string> add(const std::string& sender, const part_info& part,
                                   std::string text, std::chrono::steady_clock::time_point now);
    std::size_t pending() const { return pending_.size(); }

  private:
    struct message {
        std::map<std::uint8_t, std::string> parts;
        std::uint8_t total = 0;
        std::chrono::steady_clock::time_point first_seen;
    };
    std::chrono::seconds max_age_;
    std::size_t max_pending_;
    std::map<std::string, message> pending_;
};

// A delivery receipt (deliver_sm with esm_class 0x04): the SMSC's message
// id and final state, from receipted_message_id / message_state or the
// "id:... stat:..." text of SMPP 3.4 appendix B.
struct receipt {
    std::string message_id;
    domain::message_status status;  // delivered, failed, or sent (still on its way)
    std::string detail;             // the SMSC's own words: "DELIVRD err:000"
};
result<receipt> read_receipt(const pdu& p);

}  // namespace gw::smpp

#pragma once
// SMPP 3.4 PDUs as plain values, encoded and decoded by Debian's
// libsmpp34 (never by hand). Only what an ESME speaking to an operator's
// SMSC or USSD gateway needs: binds, unbind, enquire_link, generic_nack,
// submit_sm and deliver_sm with their responses. Anything else decodes to
// a PDU with its header only, so it can be answered with generic_nack.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gw::smpp {

namespace cmd {
constexpr std::uint32_t generic_nack = 0x80000000;
constexpr std::uint32_t bind_receiver = 0x00000001;
constexpr std::uint32_t bind_receiver_resp = 0x80000001;
constexpr std::uint32_t bind_transmitter = 0x00000002;
constexpr std::uint32_t bind_transmitter_resp = 0x80000002;
constexpr std::uint32_t submit_sm = 0x00000004;
constexpr std::uint32_t submit_sm_resp = 0x80000004;
constexpr std::uint32_t deliver_sm = 0x00000005;
constexpr std::uint32_t deliver_sm_resp = 0x80000005;
constexpr std::uint32_t unbind = 0x00000006;
constexpr std::uint32_t unbind_resp = 0x80000006;
constexpr std::uint32_t bind_transceiver = 0x00000009;
constexpr std::uint32_t bind_transceiver_resp = 0x80000009;
constexpr std::uint32_t enquire_link = 0x00000015;
constexpr std::uint32_t enquire_link_resp = 0x80000015;
constexpr bool is_response(std::uint32_t id) {
    return (id & 0x80000000u) != 0;
}
}  // namespace cmd

namespace status {
constexpr std::uint32_t ok = 0x00;
constexpr std::uint32_t invalid_command_length = 0x02;
constexpr std::uint32_t invalid_command_id = 0x03;
constexpr std::uint32_t incorrect_bind_status = 0x04;
constexpr std::uint32_t system_error = 0x08;
constexpr std::uint32_t bind_failed = 0x0D;
constexpr std::uint32_t invalid_password = 0x0E;
constexpr std::uint32_t invalid_system_id = 0x0F;
constexpr std::uint32_t message_queue_full = 0x14;
constexpr std::uint32_t throttled = 0x58;
constexpr std::uint32_t temporary_app_error = 0x64;  // ESME_RX_T_APPN: the SMSC retries
constexpr std::uint32_t invalid_optional_stream = 0xC0;
}  // namespace status

namespace tag {
constexpr std::uint16_t receipted_message_id = 0x001E;
constexpr std::uint16_t sar_msg_ref_num = 0x020C;
constexpr std::uint16_t sar_total_segments = 0x020E;
constexpr std::uint16_t sar_segment_seqnum = 0x020F;
constexpr std::uint16_t message_payload = 0x0424;
constexpr std::uint16_t message_state = 0x0427;
constexpr std::uint16_t ussd_service_op = 0x0501;
constexpr std::uint16_t its_session_info = 0x1383;
}  // namespace tag

// esm_class bits.
constexpr std::uint8_t esm_delivery_receipt = 0x04;
constexpr std::uint8_t esm_udhi = 0x40;

constexpr std::size_t header_size = 16;
// Larger PDUs are refused before decoding: an SMSC never needs more
// (short_message is at most 254 bytes, message_payload rarely past 1 KB).
constexpr std::size_t max_pdu_size = 8192;

struct tlv {
    std::uint16_t tag = 0;
    std::string value;  // raw bytes as on the wire (integers big-endian)
    friend bool operator==(const tlv&, const tlv&) = default;
};

struct pdu {
    std::uint32_t command_id = 0;
    std::uint32_t command_status = 0;
    std::uint32_t sequence = 0;
    // Binds (and system_id in bind responses).
    std::string system_id, password, system_type;
    std::uint8_t interface_version = 0x34;
    // submit_sm / deliver_sm.
    std::string service_type;
    std::uint8_t source_ton = 0, source_npi = 0;
    std::string source_addr;
    std::uint8_t dest_ton = 0, dest_npi = 0;
    std::string destination_addr;
    std::uint8_t esm_class = 0, protocol_id = 0, priority_flag = 0, registered_delivery = 0,
                 data_coding = 0;
    std::string short_message;  // raw bytes
    // submit_sm_resp.
    std::string message_id;
    std::vector<tlv> tlvs;

    const tlv* find(std::uint16_t t) const;
    // A one-octet TLV's value (ussd_service_op, message_state).
    std::optional<std::uint8_t> octet(std::uint16_t t) const;
    void set(std::uint16_t t, std::string value);
};

// The command_length of a PDU whose first four bytes are given.
std::uint32_t peek_length(const unsigned char* header);

// A whole PDU (header included) into a value. Fails with a reason for
// malformed input; a command this module does not know keeps only its
// header (answer it with generic_nack).
result<pdu> decode(std::string_view bytes);
// Throws std::invalid_argument when a field does not fit its PDU.
std::string encode(const pdu& p);

// "submit_sm", "deliver_sm_resp", ... or the id in hex.
std::string command_name(std::uint32_t id);
// "ESME_RTHROTTLED", ... or the status in hex.
std::string status_name(std::uint32_t status);

}  // namespace gw::smpp

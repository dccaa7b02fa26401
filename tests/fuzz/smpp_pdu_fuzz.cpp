// Incoming SMPP PDUs as an operator's SMSC (or anyone on the link) could
// send them: decoded by libsmpp34 through smpp::decode, then read the way
// the channel reads them (USSD step, SMS part, receipt), answered, and the
// answer encoded. The first byte picks whether the length field is made
// consistent (so the body reaches libsmpp34) and the link's settings.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "smpp/coding.hpp"
#include "smpp/dialogue.hpp"
#include "smpp/pdu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gw::smpp;
    if (size < 1 + header_size || size > 1 + max_pdu_size) return 0;
    const std::uint8_t flags = data[0];
    std::string wire(reinterpret_cast<const char*>(data + 1), size - 1);
    if (flags & 1) {
        const auto n = static_cast<std::uint32_t>(wire.size());
        wire[0] = static_cast<char>(n >> 24);
        wire[1] = static_cast<char>(n >> 16);
        wire[2] = static_cast<char>(n >> 8);
        wire[3] = static_cast<char>(n);
    }
    auto p = decode(wire);
    if (!p) return 0;
    link_settings s;
    s.name = "fuzz";
    s.ussd_code = "*1313#";
    if (flags & 2) s.session_tag = 0x1501;
    if (flags & 4) s.ops.release = 0x20;
    inbound in = classify(*p, s);
    if (auto* step = std::get_if<ussd_step>(&in)) {
        pdu reply = ussd_reply_pdu(*step, step->text, (flags & 8) != 0, s);
        reply.sequence = 1;
        try {
            auto back = decode(encode(reply));
            if (!back) __builtin_trap();  // what we encode, we can read
        } catch (const std::invalid_argument&) {
            // A field too long for its PDU (her number as sent): refused, not sent.
        }
    } else if (auto* part = std::get_if<sms_in_part>(&in)) {
        static reassembler joiner;
        if (part->text.part)
            joiner.add(part->phone, *part->text.part, part->text.text,
                       std::chrono::steady_clock::now());
    }
    // A decoded PDU encodes again (or says which field does not fit).
    try {
        if (p->sequence != 0) encode(*p);
    } catch (const std::invalid_argument&) {
    }
    return 0;
}

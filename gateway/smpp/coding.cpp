#include "smpp/coding.hpp"

#include "common/text.hpp"

namespace gw::smpp {

std::string decode_text(std::uint8_t dc, std::string_view bytes) {
    if (dc == coding::ucs2) return from_utf16be(bytes);
    if (dc == coding::latin1) return from_latin1(bytes);
    if (dc == coding::ia5) {  // ASCII
        std::string out;
        for (unsigned char c : bytes) out += static_cast<char>(c & 0x7F);
        return out;
    }
    // GSM 03.38 data coding schemes (SMS and the CBS form USSD uses).
    if ((dc & 0xC0) == 0x40 || (dc & 0xC0) == 0x00) {
        // General group (00xx / 01xx): bits 3-2 say the alphabet. SMPP's own
        // values below 0x10 other than 8 and 3 fall in here as GSM.
        const std::uint8_t alphabet = (dc & 0x0C) >> 2;
        if (dc < 0x10 && dc != coding::ucs2) return from_gsm7_unpacked(bytes);
        if (alphabet == 2) return from_utf16be(bytes);
        if (alphabet == 1) return from_latin1(bytes);
        return from_gsm7_unpacked(bytes);
    }
    if ((dc & 0xF0) == 0xF0) return (dc & 0x04) ? from_latin1(bytes) : from_gsm7_unpacked(bytes);
    if ((dc & 0xF0) == 0xE0) return from_utf16be(bytes);  // message waiting, UCS-2
    return from_gsm7_unpacked(bytes);
}

encoded_text encode_text(std::string_view utf8) {
    if (auto gsm = to_gsm7_unpacked(utf8)) return {coding::smsc_default, std::move(*gsm)};
    return {coding::ucs2, to_utf16be(utf8)};
}

std::vector<sms_part> split_sms(std::string_view utf8, std::uint8_t reference) {
    const encoded_text e = encode_text(utf8);
    const bool gsm = e.data_coding == coding::smsc_default;
    const std::size_t single = gsm ? 160 : 140;  // septets / octets
    if (e.bytes.size() <= single) return {{0, e.data_coding, e.bytes}};
    const std::size_t per_part = gsm ? 153 : 134;
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    while (pos < e.bytes.size()) {
        std::size_t n = std::min(per_part, e.bytes.size() - pos);
        if (pos + n < e.bytes.size()) {
            if (gsm && e.bytes[pos + n - 1] == '\x1B') --n;  // keep escape + character together
            if (!gsm) {
                const auto hi = static_cast<unsigned char>(e.bytes[pos + n - 2]);
                if (hi >= 0xD8 && hi <= 0xDB) n -= 2;  // keep a surrogate pair together
            }
        }
        chunks.push_back(e.bytes.substr(pos, n));
        pos += n;
    }
    std::vector<sms_part> out;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        std::string udh = {0x05,
                           0x00,
                           0x03,
                           static_cast<char>(reference),
                           static_cast<char>(chunks.size()),
                           static_cast<char>(i + 1)};
        out.push_back({esm_udhi, e.data_coding, udh + chunks[i]});
    }
    return out;
}

result<inbound_text> read_inbound_text(const pdu& p) {
    inbound_text out;
    std::string_view body = p.short_message;
    if (body.empty()) {
        if (const tlv* payload = p.find(tag::message_payload)) body = payload->value;
    }
    if (p.esm_class & esm_udhi) {
        if (body.empty()) return failure{"UDH indicator without a message"};
        const std::size_t udh_length = static_cast<unsigned char>(body[0]);
        if (udh_length + 1 > body.size()) return failure{"UDH longer than the message"};
        std::string_view udh = body.substr(1, udh_length);
        body.remove_prefix(udh_length + 1);
        // Information elements: 0x00 (8-bit reference) and 0x08 (16-bit).
        for (std::size_t i = 0; i + 2 <= udh.size();) {
            const auto iei = static_cast<unsigned char>(udh[i]);
            const std::size_t len = static_cast<unsigned char>(udh[i + 1]);
            if (i + 2 + len > udh.size()) return failure{"UDH element longer than the UDH"};
            auto at = [&](std::size_t k) { return static_cast<unsigned char>(udh[i + 2 + k]); };
            if (iei == 0x00 && len == 3)
                out.part = part_info{at(0), at(1), at(2)};
            else if (iei == 0x08 && len == 4)
                out.part =
                    part_info{static_cast<std::uint16_t>((at(0) << 8) | at(1)), at(2), at(3)};
            i += 2 + len;
        }
    } else if (const tlv* ref = p.find(tag::sar_msg_ref_num)) {
        const tlv* total = p.find(tag::sar_total_segments);
        const tlv* number = p.find(tag::sar_segment_seqnum);
        if (ref->value.size() == 2 && total && total->value.size() == 1 && number &&
            number->value.size() == 1)
            out.part = part_info{
                static_cast<std::uint16_t>((static_cast<unsigned char>(ref->value[0]) << 8) |
                                           static_cast<unsigned char>(ref->value[1])),
                static_cast<std::uint8_t>(total->value[0]),
                static_cast<std::uint8_t>(number->value[0])};
    }
    if (out.part &&
        (out.part->total < 2 || out.part->number < 1 || out.part->number > out.part->total))
        out.part.reset();  // not a usable concatenation: the part stands alone
    out.text = decode_text(p.data_coding, body);
    return out;
}

std::optional<std::string> reassembler::add(const std::string& sender, const part_info& part,
                                            std::string text,
                                            std::chrono::steady_clock::time_point now) {
    for (auto it = pending_.begin(); it != pending_.end();)
        it = now - it->second.first_seen > max_age_ ? pending_.erase(it) : std::next(it);
    const std::string key =
        sender + "/" + std::to_string(part.reference) + "/" + std::to_string(part.total);
    auto it = pending_.find(key);
    if (it == pending_.end()) {
        if (pending_.size() >= max_pending_) pending_.erase(pending_.begin());
        it = pending_.emplace(key, message{{}, part.total, now}).first;
    }
    it->second.parts[part.number] = std::move(text);  // a repeated part replaces itself
    if (it->second.parts.size() < it->second.total) return std::nullopt;
    std::string whole;
    for (auto& [n, t] : it->second.parts) whole += t;
    pending_.erase(it);
    return whole;
}

namespace {

// "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done
// date:YYMMDDhhmm stat:DDDDDDD err:E text: ..." (SMPP 3.4 appendix B).
std::string receipt_field(std::string_view text, std::string_view name) {
    std::size_t pos = 0;
    while ((pos = text.find(name, pos)) != std::string_view::npos) {
        if (pos == 0 || text[pos - 1] == ' ') break;
        pos += name.size();
    }
    if (pos == std::string_view::npos) return {};
    pos += name.size();
    std::size_t end = text.find(' ', pos);
    return std::string(text.substr(pos, end == std::string_view::npos ? end : end - pos));
}

std::string fold_upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return s;
}

}  // namespace

result<receipt> read_receipt(const pdu& p) {
    receipt r;
    const std::string text = decode_text(coding::ia5, p.short_message);
    if (const tlv* id = p.find(tag::receipted_message_id)) {
        r.message_id = id->value;
        while (!r.message_id.empty() && r.message_id.back() == '\0') r.message_id.pop_back();
    }
    if (r.message_id.empty()) r.message_id = receipt_field(text, "id:");
    if (r.message_id.empty()) return failure{"delivery receipt without a message id"};
    std::string stat = fold_upper(receipt_field(text, "stat:"));
    if (stat.empty()) {
        // message_state (5.3.2.35): 2 delivered; 3 expired, 4 deleted,
        // 5 undeliverable, 8 rejected; 1 en route, 6 accepted, 7 unknown.
        static constexpr const char* names[] = {"",        "ENROUTE", "DELIVRD",
                                                "EXPIRED", "DELETED", "UNDELIV",
                                                "ACCEPTD", "UNKNOWN", "REJECTD"};
        if (auto state = p.octet(tag::message_state); state && *state < 9) stat = names[*state];
    }
    if (stat.empty()) return failure{"delivery receipt without a state"};
    if (stat == "DELIVRD")
        r.status = domain::message_status::delivered;
    else if (stat == "EXPIRED" || stat == "DELETED" || stat == "UNDELIV" || stat == "REJECTD")
        r.status = domain::message_status::failed;
    else
        r.status = domain::message_status::sent;
    const std::string err = receipt_field(text, "err:");
    r.detail = err.empty() ? stat : stat + " err:" + err;
    return r;
}

}  // namespace gw::smpp

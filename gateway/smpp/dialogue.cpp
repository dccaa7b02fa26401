#include "smpp/dialogue.hpp"

namespace gw::smpp {
namespace {

constexpr std::uint8_t ton_international = 1;
constexpr std::uint8_t npi_isdn = 1;

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0x0F];
    }
    return out;
}

std::string phone_of(const pdu& p) {
    if (p.source_ton == ton_international && !p.source_addr.empty() && p.source_addr[0] != '+')
        return "+" + p.source_addr;
    return p.source_addr;
}

}  // namespace

std::string inputs_after_code(const std::string& dialled, const std::string& code) {
    // "*1313*1*2#": drop the trailing '#', then the code's own digits.
    std::string d = dialled;
    while (!d.empty() && (d.back() == '#' || d.back() == ' ')) d.pop_back();
    std::string c = code;
    while (!c.empty() && c.back() == '#') c.pop_back();
    if (!c.empty() && d.rfind(c, 0) == 0) {
        d.erase(0, c.size());
        if (!d.empty() && d[0] == '*') d.erase(0, 1);
        return d;
    }
    // A gateway that sends only what follows the code, or nothing.
    if (!d.empty() && d[0] == '*') return {};
    return d;
}

std::string to_destination(const std::string& e164) {
    return !e164.empty() && e164[0] == '+' ? e164.substr(1) : e164;
}

inbound classify(const pdu& p, const link_settings& s) {
    if (p.esm_class & esm_delivery_receipt) {
        auto r = read_receipt(p);
        if (!r) return ignored{r.error()};
        return *r;
    }
    const auto op = p.octet(tag::ussd_service_op);
    const bool is_ussd = op || p.service_type == s.ussd_service_type;
    if (is_ussd) {
        if (!s.ussd) return ignored{"USSD is not enabled on this link"};
        ussd_step step;
        const tlv* session = p.find(s.session_tag);
        if (!session || session->value.empty()) return ignored{"USSD without a session tag"};
        if (s.session_tag == tag::its_session_info && session->value.size() != 2)
            return ignored{"its_session_info is two octets"};
        if (const tlv* o = p.find(tag::ussd_service_op); o && o->value.size() != 1)
            return ignored{"ussd_service_op is one octet"};
        step.session_value = session->value;
        // its_session_info: octet 1 is the session, octet 2 its sequence
        // and (bit 0) the end of the session.
        bool end_bit = false;
        if (s.session_tag == tag::its_session_info) {
            step.session = hex(session->value.substr(0, 1));
            end_bit = session->value.size() >= 2 && (session->value[1] & 0x01);
        } else {
            step.session = hex(session->value);
        }
        step.phone = phone_of(p);
        if (step.phone.empty()) return ignored{"USSD without a sender"};
        auto text = read_inbound_text(p);
        if (!text) return ignored{text.error()};
        step.service_code = p.destination_addr;
        if ((s.ops.release && op == *s.ops.release) || end_bit) {
            step.kind = ussd_step::release;
        } else if (!op || *op == s.ops.begin) {
            step.kind = ussd_step::begin;
            step.service_code = text->text.empty() ? p.destination_addr : text->text;
            step.text = inputs_after_code(text->text,
                                          s.ussd_code.empty() ? p.destination_addr : s.ussd_code);
        } else if (*op == s.ops.user_response) {
            step.kind = ussd_step::answer;
            step.text = text->text;
        } else {
            return ignored{"USSD operation " + std::to_string(*op) + " is not one we answer"};
        }
        return step;
    }
    if (!s.sms) return ignored{"SMS is not enabled on this link"};
    auto text = read_inbound_text(p);
    if (!text) return ignored{text.error()};
    if (p.source_addr.empty()) return ignored{"SMS without a sender"};
    return sms_in_part{phone_of(p), p.destination_addr, std::move(*text)};
}

pdu ussd_reply_pdu(const ussd_step& step, const std::string& text, bool end,
                   const link_settings& s) {
    pdu p;
    p.command_id = cmd::submit_sm;
    p.service_type = s.ussd_service_type;
    p.source_addr = s.ussd_code.empty() ? step.service_code : s.ussd_code;
    p.dest_ton = ton_international;
    p.dest_npi = npi_isdn;
    p.destination_addr = to_destination(step.phone);
    encoded_text e = encode_text(text);
    p.data_coding = e.data_coding;
    // A screen longer than short_message (never with the layout's limits)
    // travels in message_payload.
    if (e.bytes.size() <= 254)
        p.short_message = std::move(e.bytes);
    else
        p.set(tag::message_payload, std::move(e.bytes));
    p.set(tag::ussd_service_op,
          std::string(1, static_cast<char>(end ? s.ops.last_screen : s.ops.next_screen)));
    std::string session = step.session_value;
    if (s.session_tag == tag::its_session_info && session.size() >= 2) {
        // Our reply is the next in sequence; the last one sets end-of-session.
        unsigned char seq = static_cast<unsigned char>(session[1]) >> 1;
        session[1] = static_cast<char>(((seq + 1) & 0x7F) << 1 | (end ? 1 : 0));
    }
    p.set(s.session_tag, session);
    return p;
}

}  // namespace gw::smpp

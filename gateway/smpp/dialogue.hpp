#pragma once
// What a deliver_sm from an operator means to the gateway, and the
// submit_sm that answers it: a USSD dialogue step, an MO SMS (or a part of
// one), or a delivery receipt. Pure translation, like the HTTP adapters:
// no I/O, no storage. Per-operator settings say what differs between
// USSD gateways; the defaults follow SMPP 3.4.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "smpp/coding.hpp"
#include "smpp/pdu.hpp"

namespace gw::smpp {

// ussd_service_op values (SMPP 3.4, 5.3.2.44). Release is not in the
// specification: by default the end-of-session bit of its_session_info
// ends a dialogue; operators with a release op code set it here.
struct ussd_ops {
    std::uint8_t begin = 0x01;            // PSSR indication: she dialled the code
    std::uint8_t user_response = 0x12;    // USSR confirm: her answer to our screen
    std::uint8_t next_screen = 0x02;      // USSR request: a screen, dialogue continues
    std::uint8_t last_screen = 0x11;      // PSSR response: the last screen, dialogue ends
    std::optional<std::uint8_t> release;  // the network ended the dialogue
};

// One operator's bind and what its gateway expects. Secrets come from
// the environment (config `password_env`).
struct link_settings {
    std::string name;  // "megacom": logs, metrics, channel "smpp-megacom"
    std::string host = "127.0.0.1";
    std::uint16_t port = 2775;
    bool tls = false;
    std::string tls_ca_file;  // the operator's CA (PEM) when not a public one
    std::string system_id, password, system_type;
    // transceiver, or transmitter + receiver on two connections.
    bool transceiver = true;
    std::chrono::seconds enquire_link_interval{30};
    std::chrono::milliseconds response_timeout{10000};
    std::size_t window = 10;  // submit_sm awaiting their response at most
    std::chrono::milliseconds reconnect_min{1000}, reconnect_max{60000};
    std::chrono::milliseconds throttle_pause{1000};  // after ESME_RTHROTTLED, doubling to 30 s
    // USSD.
    bool ussd = true;
    std::string ussd_code;  // "*1313#": source of our screens, stripped from her first input
    std::string ussd_service_type = "USSD";
    std::uint16_t session_tag = tag::its_session_info;
    ussd_ops ops;
    std::chrono::milliseconds ussd_reply_deadline{8000};  // the operator's dialogue timer is ~10 s
    // SMS.
    bool sms = true;
    std::string sender;  // short code for MT SMS; empty: the USSD code's digits
    std::uint8_t sender_ton = 0, sender_npi = 0;  // alphanumeric senders: 5, 0
    bool delivery_receipts = true;
};

// She dialled, answered, or the network released the dialogue.
struct ussd_step {
    enum kind_t { begin, answer, release } kind = begin;
    std::string session;        // the session tag's value, hex (its_session_info: octet 1)
    std::string session_value;  // raw tag value, echoed on our replies
    std::string phone;          // "+996..." when the TON says international, else as sent
    std::string service_code;   // what she dialled (begin) or the operator's code
    std::string text;           // begin: inputs dialled after the code ("1*2"); answer: her input
};

struct sms_in_part {
    std::string phone;
    std::string to;
    inbound_text text;
};

struct ignored {
    std::string why;
};

using inbound = std::variant<ussd_step, sms_in_part, receipt, ignored>;

// Reads one deliver_sm.
inbound classify(const pdu& deliver, const link_settings& s);

// The submit_sm carrying a screen back to her (no sequence number yet).
pdu ussd_reply_pdu(const ussd_step& step, const std::string& text, bool end,
                   const link_settings& s);

// The digits she dialled after the code: "*1313*1*2#" with code "*1313#" -> "1*2".
std::string inputs_after_code(const std::string& dialled, const std::string& code);

// The destination form of an E.164 number: digits, TON international.
std::string to_destination(const std::string& e164);

}  // namespace gw::smpp

#include "adapters/sms_adapters.hpp"
#include "common/text.hpp"

namespace gw::adapters {
namespace {

// Kannel's sendsms answers without an id of its own, so each message
// carries ours in its dlr-url: "ob-<outbox id>".
std::string reference_of(const domain::outbound_message& m) {
    return "ob-" + std::to_string(m.id);
}

std::string from_windows1251(const std::string& bytes) {
    static constexpr char16_t upper[64] = {
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409,
        0x2039, 0x040A, 0x040C, 0x040B, 0x040F, 0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0xFFFD, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, 0x00A0,
        0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB,
        0x00AC, 0x00AD, 0x00AE, 0x0407, 0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6,
        0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
    };
    std::string out;
    for (unsigned char b : bytes)
        append_utf8(out, b < 0x80 ? b : b < 0xC0 ? upper[b - 0x80] : 0x0410 + (b - 0xC0));
    return out;
}

std::string upper_ascii(std::string s) {
    for (char& ch : s)
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    return s;
}

// The MO text as Kannel passed it (get-url `...&coding=%c&charset=%C`):
// without smsbox's mo-recode, a UCS-2 message (Cyrillic from a phone)
// arrives as raw UTF-16BE bytes with coding=2, charset=UTF-16BE; an
// sms-service alt-charset gives its own single-byte charset.
result<std::string> decode_text(const std::string& text, const std::string* coding,
                                const std::string* charset) {
    const std::string cs = charset ? upper_ascii(*charset) : "";
    if (cs == "UTF-16BE" || cs == "UTF-16" || cs == "UCS-2" || cs == "UCS-2BE" || cs == "UCS2")
        return from_utf16be(text);
    if (cs == "ISO-8859-1" || cs == "LATIN1" || cs == "ISO_8859-1") return from_latin1(text);
    if (cs == "WINDOWS-1251" || cs == "CP1251") return from_windows1251(text);
    if (cs.empty() && coding && *coding == "2") return from_utf16be(text);
    if (is_valid_utf8(text)) {
        // An old get-url without coding/charset and no mo-recode: UTF-16BE
        // shows as bytes 0x00..0x08, which no typed text has.
        const bool no_hint = !coding && !charset;
        const bool looks_utf16 =
            text.size() % 2 == 0 &&
            text.find_first_of(std::string("\0\1\2\3\4\5\6\7\10", 9)) != std::string::npos;
        return no_hint && looks_utf16 ? from_utf16be(text) : text;
    }
    // 8-bit data (coding=1, charset=8-BIT) or a mislabelled text: keep every byte.
    if (cs.empty() || cs == "UTF-8" || cs == "8-BIT") return from_latin1(text);
    return failure{"text in unsupported charset " + *charset};
}

bool has_query_parameter(const std::string& url, const std::string& name) {
    auto q = url.find('?');
    if (q == std::string::npos) return false;
    auto f = parse_form(std::string_view(url).substr(q + 1));
    return f && f->find(name);
}

class kannel_sms final : public sms_adapter {
  public:
    std::string name() const override { return "kannel"; }
    bool reply_in_response() const override { return true; }

    result<std::vector<inbound_sms>> parse_inbound(const http::request& req) const override {
        auto f = parse_form(req.query);
        if (!f) return failure{f.error()};
        inbound_sms m;
        const std::string* id = f->find("id");
        const std::string* from = f->find("from");
        if (!id || id->empty()) return failure{"missing parameter: id"};
        if (!from || from->empty()) return failure{"missing parameter: from"};
        m.message_id = *id;
        m.from = *from;
        if (const std::string* v = f->find("to")) m.to = *v;
        if (const std::string* v = f->find("text")) {
            auto text = decode_text(*v, f->find("coding"), f->find("charset"));
            if (!text) return failure{text.error()};
            m.text = std::move(*text);
        }
        return std::vector<inbound_sms>{m};
    }

    result<std::vector<delivery_report>> parse_report(const http::request& req) const override {
        auto f = parse_form(req.query);
        if (!f) return failure{f.error()};
        const std::string* ref = f->find("ref");
        const std::string* status = f->find("status");
        if (!ref || ref->empty() || !status) return failure{"missing parameter: ref or status"};
        // dlr-mask bits: 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected.
        delivery_report r{*ref, domain::message_status::sent, "kannel status " + *status};
        if (*status == "1") r.status = domain::message_status::delivered;
        if (*status == "2" || *status == "16") r.status = domain::message_status::failed;
        return std::vector<delivery_report>{r};
    }

    http::response inbound_response(const std::optional<std::string>& reply) const override {
        http::response r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = reply.value_or("");
        // Without this Kannel sends the reply as 7-bit and Cyrillic becomes '?'.
        if (!is_gsm7(r.body)) r.headers.emplace_back("X-Kannel-Coding", "2");
        return r;
    }

    outbound_request build_send(const domain::outbound_message& m,
                                const channel_settings& c) const override {
        outbound_request r;
        r.method = "GET";
        // Kannel calls the dlr-url as given, so it carries the channel's
        // token (or the report is refused like any unauthenticated callback).
        // Kannel keeps a '%' followed by a digit as it is: an encoded ASCII
        // token survives its %-escapes.
        std::string dlr = c.report_url;
        if (!dlr.empty()) {
            auto separator = [&] { return dlr.find('?') == std::string::npos ? "?" : "&"; };
            if (c.auth == domain::auth_kind::token && !c.token.empty() &&
                !has_query_parameter(dlr, "token"))
                dlr += separator() + std::string("token=") + url_encode_component(c.token);
            dlr += separator() + std::string("ref=") + reference_of(m) + "&status=%d";
        }
        r.url = c.send_url + (c.send_url.find('?') == std::string::npos ? "?" : "&") +
                "username=" + url_encode_component(c.send_username) +
                "&password=" + url_encode_component(c.send_password) +
                "&to=" + url_encode_component(m.recipient) +
                "&text=" + url_encode_component(m.body) + "&charset=UTF-8";
        if (!is_gsm7(m.body)) r.url += "&coding=2";
        if (!c.sender.empty()) r.url += "&from=" + url_encode_component(c.sender);
        if (!dlr.empty()) r.url += "&dlr-mask=31&dlr-url=" + url_encode_component(dlr);
        return r;
    }

    send_outcome read_send_response(int status, const std::string& body,
                                    const domain::outbound_message& m) const override {
        send_outcome out = outcome_from_status(status, "Kannel");
        if (out.kind != send_outcome::sent) return out;
        // "0: Accepted for delivery" or "3: Queued for later delivery".
        if (body.rfind("0:", 0) == 0 || body.rfind("3:", 0) == 0)
            return {send_outcome::sent, reference_of(m), ""};
        return {send_outcome::retry, "", "Kannel answer not understood"};
    }
};

}  // namespace

std::unique_ptr<sms_adapter> make_kannel_sms() {
    return std::make_unique<kannel_sms>();
}

}  // namespace gw::adapters

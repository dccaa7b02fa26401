// The SMPP channel's translation, as table rows like the HTTP adapters:
// PDUs through libsmpp34 and back, text codings, concatenation, receipts,
// and what a deliver_sm means (USSD step, SMS part, receipt).
#include <gtest/gtest.h>

#include <chrono>

#include "common/phone.hpp"
#include "smpp/coding.hpp"
#include "smpp/dialogue.hpp"
#include "smpp/pdu.hpp"

using namespace gw;
using namespace gw::smpp;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
}

pdu deliver(std::string source, std::string text, std::uint8_t dc = coding::smsc_default) {
    pdu p;
    p.command_id = cmd::deliver_sm;
    p.sequence = 7;
    p.source_ton = 1;
    p.source_npi = 1;
    p.source_addr = std::move(source);
    p.destination_addr = "1313";
    p.data_coding = dc;
    p.short_message = std::move(text);
    return p;
}

pdu ussd(std::uint8_t op, std::string text, std::string session = bytes({0x2A, 0x04}),
         std::uint8_t dc = 0x0F) {
    pdu p = deliver("996555123456", std::move(text), dc);
    p.service_type = "USSD";
    p.destination_addr = "*1313#";
    p.set(tag::ussd_service_op, std::string(1, static_cast<char>(op)));
    p.set(tag::its_session_info, std::move(session));
    return p;
}

link_settings operator_settings() {
    link_settings s;
    s.name = "testop";
    s.ussd_code = "*1313#";
    return s;
}

}  // namespace

// ---------------------------------------------------------------- PDUs

TEST(SmppPdu, EveryPduTheLinkUsesSurvivesLibsmpp34BothWays) {
    std::vector<pdu> rows;
    {
        pdu b;
        b.command_id = cmd::bind_transceiver;
        b.system_id = "hotline";
        b.password = "secret";
        b.system_type = "USSD";
        rows.push_back(b);
        b.command_id = cmd::bind_transmitter;
        rows.push_back(b);
        b.command_id = cmd::bind_receiver;
        rows.push_back(b);
    }
    for (auto id :
         {cmd::bind_transceiver_resp, cmd::bind_transmitter_resp, cmd::bind_receiver_resp}) {
        pdu r;
        r.command_id = id;
        r.system_id = "SMSC";
        rows.push_back(r);
    }
    for (auto id : {cmd::unbind, cmd::unbind_resp, cmd::enquire_link, cmd::enquire_link_resp,
                    cmd::generic_nack, cmd::deliver_sm_resp}) {
        pdu h;
        h.command_id = id;
        rows.push_back(h);
    }
    {
        pdu r;
        r.command_id = cmd::submit_sm_resp;
        r.message_id = "M1001";
        rows.push_back(r);
    }
    rows.push_back(ussd(0x01, "*1313#"));
    {
        pdu s = ussd(0x02, "", bytes({0x2A, 0x06}), coding::ucs2);
        s.command_id = cmd::submit_sm;
        s.short_message = bytes({0x04, 0x1A, 0x04, 0x4B});  // "Кы"
        rows.push_back(s);
    }
    {
        pdu m = deliver("996555123456", bytes({5, 0, 3, 9, 2, 1, 0x04, 0x16}), coding::ucs2);
        m.esm_class = esm_udhi;
        rows.push_back(m);
    }
    {
        pdu sar = deliver("996555123456", "part");
        sar.set(tag::sar_msg_ref_num, bytes({0x01, 0x02}));
        sar.set(tag::sar_total_segments, bytes({2}));
        sar.set(tag::sar_segment_seqnum, bytes({1}));
        rows.push_back(sar);
    }
    std::uint32_t seq = 1;
    for (pdu row : rows) {
        row.sequence = seq++;
        SCOPED_TRACE(command_name(row.command_id));
        const std::string wire = encode(row);
        ASSERT_GE(wire.size(), header_size);
        EXPECT_EQ(peek_length(reinterpret_cast<const unsigned char*>(wire.data())), wire.size());
        auto back = decode(wire);
        ASSERT_TRUE(back) << back.error();
        EXPECT_EQ(back->command_id, row.command_id);
        EXPECT_EQ(back->sequence, row.sequence);
        EXPECT_EQ(back->system_id, row.system_id);
        EXPECT_EQ(back->password, row.password);
        EXPECT_EQ(back->message_id, row.message_id);
        EXPECT_EQ(back->source_addr, row.source_addr);
        EXPECT_EQ(back->destination_addr, row.destination_addr);
        EXPECT_EQ(back->service_type, row.service_type);
        EXPECT_EQ(back->esm_class, row.esm_class);
        EXPECT_EQ(back->data_coding, row.data_coding);
        EXPECT_EQ(back->short_message, row.short_message);
        EXPECT_EQ(back->tlvs, row.tlvs);
    }
}

TEST(SmppPdu, BadInputIsRefusedWithAReason) {
    struct row {
        const char* what;
        std::string wire;
    };
    pdu enq;
    enq.command_id = cmd::enquire_link;
    enq.sequence = 1;  // libsmpp34 refuses 0, as SMPP 3.4 does
    const std::string ok = encode(enq);
    const std::vector<row> rows = {
        {"shorter than a header", ok.substr(0, 10)},
        {"length field disagrees", ok + "x"},
        {"deliver_sm cut short", encode(deliver("996555123456", "hello")).substr(0, 20)},
    };
    for (const auto& r : rows) {
        std::string wire = r.wire;
        if (std::string(r.what) == "deliver_sm cut short") wire[3] = 20;  // a consistent length
        auto d = decode(wire);
        EXPECT_FALSE(d) << r.what;
        EXPECT_FALSE(d.error().empty()) << r.what;
    }
}

TEST(SmppPdu, PdusLibsmpp34CannotDescribeAreRefusedUnread) {
    // libsmpp34 writes a description of every field into a 2 KB buffer
    // without bounds: about 27 TLVs overflowed it (a crash found by fuzzing).
    pdu many = deliver("996555123456", "x");
    for (int i = 0; i < 16; ++i) many.tlvs.push_back({static_cast<std::uint16_t>(0x1400 + i), ""});
    many.sequence = 1;
    std::string wire = encode(many);
    EXPECT_TRUE(decode(wire)) << "a generous handful passes";
    for (int i = 0; i < 24; ++i) wire += bytes({0x14, 0x40, 0, 0});  // 24 more, empty
    wire[2] = static_cast<char>(wire.size() >> 8);
    wire[3] = static_cast<char>(wire.size() & 0xFF);
    auto d = decode(wire);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().find("too many optional parameters"), std::string::npos) << d.error();
    many.tlvs.resize(40);
    EXPECT_THROW(encode(many), std::invalid_argument) << "nor are they written";
    // A USSD session tag of the wrong size cannot be echoed back: ignored.
    pdu odd = ussd(0x12, "1", std::string(5, 'x'));
    EXPECT_TRUE(std::holds_alternative<ignored>(classify(odd, operator_settings())));
}

TEST(SmppPdu, ARefusalKeepsItsStatusWhateverItsBody) {
    // Net::SMPP (and some SMSCs) send a message_id with a refused
    // submit_sm_resp; libsmpp34 reads only a bare header then.
    const std::string with_body = bytes({0, 0, 0, 17, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 5, 0});
    auto d = decode(with_body);
    ASSERT_TRUE(d) << d.error();
    EXPECT_EQ(d->command_status, status::throttled);
    EXPECT_EQ(d->sequence, 5u);
    const std::string bare = bytes({0, 0, 0, 16, 0x80, 0, 0, 9, 0, 0, 0, 0x0E, 0, 0, 0, 1});
    auto b = decode(bare);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->command_id, cmd::bind_transceiver_resp);
    EXPECT_EQ(status_name(b->command_status), "ESME_RINVPASWD");
}

TEST(SmppPdu, AnUnknownCommandKeepsItsHeaderToBeNacked) {
    const std::string data_sm = bytes({0, 0, 0, 16, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 9});
    auto d = decode(data_sm);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->command_id, 0x103u);
    EXPECT_EQ(d->sequence, 9u);
}

TEST(SmppPdu, FieldsTooLongForTheirPduAreRefused) {
    pdu p = deliver(std::string(30, '9'), "x");
    EXPECT_THROW(encode(p), std::invalid_argument);
    pdu q = deliver("996555123456", std::string(255, 'x'));
    EXPECT_THROW(encode(q), std::invalid_argument);
}

// ---------------------------------------------------------------- text

TEST(SmppCoding, DataCodingsDecodeToUtf8) {
    struct row {
        std::uint8_t dc;
        std::string in, out;
    };
    const std::vector<row> rows = {
        {0x00, "Hello @", "Hello \xC2\xA1"},  // GSM: 0x40 is '¡'
        {0x00, bytes({0x00}), "@"},
        {0x00, bytes({0x1B, 0x65}), "€"},
        {0x01, "abc", "abc"},
        {0x03, bytes({0xE9}), "é"},
        {0x08, bytes({0x04, 0x16, 0x04, 0x10}), "ЖА"},
        {0x0F, "*1313#", "*1313#"},             // USSD's GSM data coding scheme
        {0x48, bytes({0x04, 0x1E}), "О"},       // general group, UCS-2
        {0x08, bytes({0x04}), "\xEF\xBF\xBD"},  // an odd byte: U+FFFD
    };
    for (const auto& r : rows) EXPECT_EQ(decode_text(r.dc, r.in), r.out) << int(r.dc);
}

TEST(SmppCoding, EachTextTravelsInTheCodingTheLayoutMeasured) {
    struct row {
        std::string text;
        std::uint8_t dc;
        std::string wire;
    };
    const std::vector<row> rows = {
        {"1 Yes", coding::smsc_default, "1 Yes"},
        {"a{b}", coding::smsc_default, bytes({'a', 0x1B, 0x28, 'b', 0x1B, 0x29})},
        {"Да", coding::ucs2, bytes({0x04, 0x14, 0x04, 0x30})},
        {"ң", coding::ucs2, bytes({0x04, 0xA3})},
    };
    for (const auto& r : rows) {
        auto e = encode_text(r.text);
        EXPECT_EQ(e.data_coding, r.dc) << r.text;
        EXPECT_EQ(e.bytes, r.wire) << r.text;
        EXPECT_EQ(decode_text(e.data_coding, e.bytes), r.text);
    }
}

TEST(SmppCoding, LongSmsIsSplitIntoPartsThatJoinAgain) {
    struct row {
        std::string text;
        std::size_t parts;
    };
    std::string cyr;
    for (int i = 0; i < 71; ++i) cyr += "ы";
    std::string braces;
    for (int i = 0; i < 100; ++i) braces += "{}";
    const std::vector<row> rows = {
        {std::string(160, 'a'), 1},
        {std::string(161, 'a'), 2},
        {std::string(306, 'a'), 2},
        {std::string(307, 'a'), 3},
        {cyr.substr(0, 140), 1},
        {cyr, 2},
        {braces, 3},  // 400 septets: escapes never cut in two
    };
    for (const auto& r : rows) {
        auto parts = split_sms(r.text, 9);
        ASSERT_EQ(parts.size(), r.parts) << r.text.size();
        reassembler joiner;
        std::optional<std::string> whole;
        for (const auto& part : parts) {
            EXPECT_LE(part.short_message.size(), 140u + (part.data_coding == 0 ? 20u : 0u));
            pdu p = deliver("996555123456", part.short_message, part.data_coding);
            p.esm_class = part.esm_class;
            auto in = read_inbound_text(p);
            ASSERT_TRUE(in);
            if (parts.size() == 1) {
                EXPECT_FALSE(in->part);
                whole = in->text;
            } else {
                ASSERT_TRUE(in->part);
                EXPECT_EQ(in->part->reference, 9);
                whole = joiner.add("+996555123456", *in->part, in->text,
                                   std::chrono::steady_clock::now());
            }
        }
        EXPECT_EQ(whole, r.text);
    }
}

TEST(SmppCoding, PartsArriveInAnyOrderAndStaleOnesAreDropped) {
    reassembler joiner(std::chrono::seconds(60));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(joiner.add("+1", {5, 3, 3}, "c", t0));
    EXPECT_FALSE(joiner.add("+1", {5, 3, 1}, "a", t0));
    EXPECT_FALSE(joiner.add("+2", {5, 3, 2}, "X", t0)) << "another sender's part is apart";
    EXPECT_EQ(joiner.add("+1", {5, 3, 2}, "b", t0), "abc");
    EXPECT_FALSE(joiner.add("+3", {1, 2, 1}, "old", t0));
    EXPECT_FALSE(joiner.add("+3", {1, 2, 2}, "new", t0 + std::chrono::seconds(61)))
        << "the first part was given up";
    EXPECT_EQ(joiner.pending(), 1u);
}

TEST(SmppCoding, SarTlvsAndBrokenUdhs) {
    pdu sar = deliver("996555123456", "abc");
    sar.set(tag::sar_msg_ref_num, bytes({0x01, 0x02}));
    sar.set(tag::sar_total_segments, bytes({3}));
    sar.set(tag::sar_segment_seqnum, bytes({2}));
    auto in = read_inbound_text(sar);
    ASSERT_TRUE(in && in->part);
    EXPECT_EQ(in->part->reference, 0x0102);
    EXPECT_EQ(in->part->total, 3);
    EXPECT_EQ(in->part->number, 2);

    pdu broken = deliver("996555123456", bytes({9, 0, 3}));
    broken.esm_class = esm_udhi;
    EXPECT_FALSE(read_inbound_text(broken));
    pdu zero = deliver("996555123456", bytes({5, 0, 3, 1, 2, 0, 'x'}));  // part 0 of 2
    zero.esm_class = esm_udhi;
    auto z = read_inbound_text(zero);
    ASSERT_TRUE(z);
    EXPECT_FALSE(z->part) << "an impossible part number: the text stands alone";
    EXPECT_EQ(z->text, "x");
}

TEST(SmppCoding, DeliveryReceiptsMapToOutboxStates) {
    struct row {
        std::string text;
        std::vector<tlv> tlvs;
        std::string id, status;
    };
    const std::vector<row> rows = {
        {"id:M1001 sub:001 dlvrd:001 submit date:2611290000 done date:2611290001 stat:DELIVRD "
         "err:000 text:",
         {},
         "M1001",
         "delivered"},
        {"id:77 sub:001 dlvrd:000 submit date:2611290000 done date:2611290001 stat:UNDELIV "
         "err:001 text:",
         {},
         "77",
         "failed"},
        {"id:78 stat:EXPIRED", {}, "78", "failed"},
        {"id:79 stat:ENROUTE", {}, "79", "sent"},
        {"",
         {{tag::receipted_message_id, std::string("abc\0", 4)}, {tag::message_state, bytes({2})}},
         "abc",
         "delivered"},
        {"",
         {{tag::receipted_message_id, "abd"}, {tag::message_state, bytes({8})}},
         "abd",
         "failed"},
    };
    for (const auto& r : rows) {
        pdu p = deliver("996555123456", r.text);
        p.esm_class = esm_delivery_receipt;
        p.tlvs = r.tlvs;
        auto got = read_receipt(p);
        ASSERT_TRUE(got) << r.text << got.error();
        EXPECT_EQ(got->message_id, r.id);
        EXPECT_EQ(name(got->status), r.status) << r.text;
    }
    pdu none = deliver("996555123456", "stat:DELIVRD");
    none.esm_class = esm_delivery_receipt;
    EXPECT_FALSE(read_receipt(none)) << "no id: nothing to match";
}

// ---------------------------------------------------------------- meaning

TEST(SmppDialogue, WhatADeliverSmMeans) {
    const link_settings s = operator_settings();
    {
        auto in = classify(ussd(0x01, "*1313*2*1#"), s);
        auto* step = std::get_if<ussd_step>(&in);
        ASSERT_TRUE(step);
        EXPECT_EQ(step->kind, ussd_step::begin);
        EXPECT_EQ(step->session, "2a");
        EXPECT_EQ(step->phone, "+996555123456");
        EXPECT_EQ(step->text, "2*1");
    }
    {
        auto in = classify(
            ussd(0x12, bytes({0x04, 0x14, 0x04, 0x30}), bytes({0x2A, 0x06}), coding::ucs2), s);
        auto* step = std::get_if<ussd_step>(&in);
        ASSERT_TRUE(step);
        EXPECT_EQ(step->kind, ussd_step::answer);
        EXPECT_EQ(step->text, "Да");
        EXPECT_EQ(step->session, "2a") << "the sequence octet is not part of the session";
    }
    {
        auto in = classify(ussd(0x12, "", bytes({0x2A, 0x09})), s);  // end-of-session bit
        ASSERT_TRUE(std::get_if<ussd_step>(&in));
        EXPECT_EQ(std::get<ussd_step>(in).kind, ussd_step::release);
    }
    {
        link_settings vendor = s;
        vendor.ops.release = 0x20;
        vendor.session_tag = 0x1501;
        pdu p = ussd(0x20, "");
        p.tlvs.pop_back();
        p.set(0x1501, "ABCD");
        auto in = classify(p, vendor);
        ASSERT_TRUE(std::get_if<ussd_step>(&in));
        EXPECT_EQ(std::get<ussd_step>(in).kind, ussd_step::release);
        EXPECT_EQ(std::get<ussd_step>(in).session, "41424344");
    }
    {
        pdu p = ussd(0x01, "*1313#");
        p.tlvs.pop_back();  // no session tag
        EXPECT_TRUE(std::holds_alternative<ignored>(classify(p, s))) << "not answerable";
    }
    {
        auto in = classify(deliver("996555123456", bytes({0x04, 0x16}), coding::ucs2), s);
        auto* sms = std::get_if<sms_in_part>(&in);
        ASSERT_TRUE(sms);
        EXPECT_EQ(sms->text.text, "Ж");
        EXPECT_EQ(sms->phone, "+996555123456");
    }
    {
        pdu r = deliver("996555123456", "id:5 stat:DELIVRD");
        r.esm_class = esm_delivery_receipt;
        EXPECT_TRUE(std::holds_alternative<receipt>(classify(r, s)));
    }
    {
        link_settings no_ussd = s;
        no_ussd.ussd = false;
        EXPECT_TRUE(std::holds_alternative<ignored>(classify(ussd(0x01, "*1313#"), no_ussd)));
    }
}

TEST(SmppDialogue, ScreensGoBackOnHerSessionAndTheLastOneEndsIt) {
    const link_settings s = operator_settings();
    auto in = classify(ussd(0x01, "*1313#", bytes({0x2A, 0x04})), s);
    const ussd_step& step = std::get<ussd_step>(in);
    pdu next = ussd_reply_pdu(step, "1 Кыргызча\n2 Русский", false, s);
    EXPECT_EQ(next.command_id, cmd::submit_sm);
    EXPECT_EQ(next.service_type, "USSD");
    EXPECT_EQ(next.source_addr, "*1313#");
    EXPECT_EQ(next.destination_addr, "996555123456");
    EXPECT_EQ(next.dest_ton, 1);
    EXPECT_EQ(next.data_coding, coding::ucs2);
    EXPECT_EQ(next.octet(tag::ussd_service_op), 0x02);
    EXPECT_EQ(next.find(tag::its_session_info)->value, bytes({0x2A, 0x06}));
    pdu last = ussd_reply_pdu(step, "Thank you", true, s);
    EXPECT_EQ(last.data_coding, coding::smsc_default);
    EXPECT_EQ(last.octet(tag::ussd_service_op), 0x11);
    EXPECT_EQ(last.find(tag::its_session_info)->value, bytes({0x2A, 0x07}));
    // It encodes once the link gives it a sequence number.
    next.sequence = 3;
    EXPECT_TRUE(decode(encode(next)));
}

TEST(SmppDialogue, InputsDialledAfterTheCode) {
    struct row {
        const char *dialled, *code, *inputs;
    };
    for (const auto& r : std::vector<row>{{"*1313#", "*1313#", ""},
                                          {"*1313*2#", "*1313#", "2"},
                                          {"*1313*2*10#", "*1313#", "2*10"},
                                          {"2", "*1313#", "2"},
                                          {"*999#", "*1313#", ""}})
        EXPECT_EQ(inputs_after_code(r.dialled, r.code), r.inputs) << r.dialled;
}

TEST(SmppDialogue, NumbersFromTheOperatorMeanWhatTheHttpChannelsMean) {
    // However an operator writes her number (international TON without
    // '+', national with 0), it is the one number the phone module knows.
    phone_normalizer phones("KG", {"KG", "RU", "KZ"});
    const link_settings s = operator_settings();
    struct row {
        std::uint8_t ton;
        const char* address;
    };
    for (const auto& r : std::vector<row>{
             {1, "996555123456"}, {2, "0555123456"}, {0, "996555123456"}, {1, "+996555123456"}}) {
        pdu p = deliver(r.address, "x");
        p.source_ton = r.ton;
        auto in = classify(p, s);
        ASSERT_TRUE(std::get_if<sms_in_part>(&in));
        EXPECT_EQ(phones.to_e164(std::get<sms_in_part>(in).phone), "+996555123456") << r.address;
    }
    EXPECT_EQ(to_destination("+996555123456"), "996555123456");
    EXPECT_EQ(to_destination("+79161234567"), "79161234567");
}

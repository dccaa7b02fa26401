#include "smpp/pdu.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>

extern "C" {
// The order matters: params.h needs the structs.
// clang-format off
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
#include <smpp34_heap.h>
// clang-format on
}

namespace gw::smpp {
namespace {

// libsmpp34 reports errors through globals (smpp34_errno, smpp34_strerror):
// one call at a time.
std::mutex library_mutex;

// Tags libsmpp34 reads as 16-bit integers (host order) in the PDUs used
// here; every other TLV it keeps as octets. Kept in wire order in `tlv`.
bool is_u16_tag(std::uint16_t t) {
    switch (t) {
        case 0x0204:  // user_message_reference
        case 0x020A:  // source_port
        case 0x020B:  // destination_port
        case tag::sar_msg_ref_num:
        case tag::its_session_info:
            return true;
        default:
            return false;
    }
}

std::string c_string(const std::uint8_t* field, std::size_t size) {
    const auto* end = std::find(field, field + size, std::uint8_t{0});
    return std::string(reinterpret_cast<const char*>(field), reinterpret_cast<const char*>(end));
}

template <std::size_t N>
void put(std::uint8_t (&field)[N], const std::string& value, const char* name) {
    if (value.size() >= N || value.find('\0') != std::string::npos)
        throw std::invalid_argument(std::string("SMPP field too long: ") + name);
    std::memcpy(field, value.data(), value.size());
    field[value.size()] = 0;
}

std::vector<tlv> read_tlvs(const tlv_t* head) {
    std::vector<tlv> out;
    for (const tlv_t* t = head; t != nullptr; t = t->next) {
        tlv v;
        v.tag = t->tag;
        if (t->length == 2 && is_u16_tag(t->tag)) {
            v.value = {static_cast<char>(t->value.val16 >> 8),
                       static_cast<char>(t->value.val16 & 0xFF)};
        } else {
            const std::size_t n = std::min<std::size_t>(t->length, MAX_TLV_SIZE);
            v.value.assign(reinterpret_cast<const char*>(t->value.octet), n);
        }
        out.push_back(std::move(v));
    }
    return out;
}

// A TLV list in libsmpp34's form, freed with the holder.
struct tlv_list {
    tlv_t* head = nullptr;
    explicit tlv_list(const std::vector<tlv>& tlvs) {
        for (const auto& v : tlvs) {
            if (v.value.size() > MAX_TLV_SIZE) throw std::invalid_argument("SMPP TLV too long");
            tlv_t t{};
            t.tag = v.tag;
            t.length = static_cast<std::uint16_t>(v.value.size());
            if (v.value.size() == 2 && is_u16_tag(v.tag))
                t.value.val16 =
                    static_cast<std::uint16_t>((static_cast<unsigned char>(v.value[0]) << 8) |
                                               static_cast<unsigned char>(v.value[1]));
            else
                std::memcpy(t.value.octet, v.value.data(), v.value.size());
            build_tlv(&head, &t);
        }
    }
    ~tlv_list() { destroy_tlv(head); }
    tlv_list(const tlv_list&) = delete;
    tlv_list& operator=(const tlv_list&) = delete;
};

template <class S>
void read_sm(const S& s, pdu& p) {
    p.service_type = c_string(s.service_type, sizeof s.service_type);
    p.source_ton = s.source_addr_ton;
    p.source_npi = s.source_addr_npi;
    p.source_addr = c_string(s.source_addr, sizeof s.source_addr);
    p.dest_ton = s.dest_addr_ton;
    p.dest_npi = s.dest_addr_npi;
    p.destination_addr = c_string(s.destination_addr, sizeof s.destination_addr);
    p.esm_class = s.esm_class;
    p.protocol_id = s.protocol_id;
    p.priority_flag = s.priority_flag;
    p.registered_delivery = s.registered_delivery;
    p.data_coding = s.data_coding;
    const std::size_t n = std::min<std::size_t>(s.sm_length, sizeof s.short_message);
    p.short_message.assign(reinterpret_cast<const char*>(s.short_message), n);
    p.tlvs = read_tlvs(s.tlv);
}

template <class S>
void write_sm(S& s, const pdu& p) {
    put(s.service_type, p.service_type, "service_type");
    s.source_addr_ton = p.source_ton;
    s.source_addr_npi = p.source_npi;
    put(s.source_addr, p.source_addr, "source_addr");
    s.dest_addr_ton = p.dest_ton;
    s.dest_addr_npi = p.dest_npi;
    put(s.destination_addr, p.destination_addr, "destination_addr");
    s.esm_class = p.esm_class;
    s.protocol_id = p.protocol_id;
    s.priority_flag = p.priority_flag;
    s.registered_delivery = p.registered_delivery;
    s.data_coding = p.data_coding;
    if (p.short_message.size() > sizeof s.short_message)
        throw std::invalid_argument("SMPP short_message longer than 254 bytes");
    s.sm_length = static_cast<std::uint8_t>(p.short_message.size());
    std::memcpy(s.short_message, p.short_message.data(), p.short_message.size());
}

template <class S>
void read_bind(const S& s, pdu& p) {
    p.system_id = c_string(s.system_id, sizeof s.system_id);
    p.password = c_string(s.password, sizeof s.password);
    p.system_type = c_string(s.system_type, sizeof s.system_type);
    p.interface_version = s.interface_version;
}

template <class S>
void write_bind(S& s, const pdu& p) {
    put(s.system_id, p.system_id, "system_id");
    put(s.password, p.password, "password");
    put(s.system_type, p.system_type, "system_type");
    s.interface_version = p.interface_version;
}

template <class S>
void write_header(S& s, const pdu& p) {
    s.command_length = 0;  // libsmpp34 fills it in
    s.command_id = p.command_id;
    s.command_status = p.command_status;
    s.sequence_number = p.sequence;
}

template <class S>
void read_header(const S& s, pdu& p) {
    p.command_id = s.command_id;
    p.command_status = s.command_status;
    p.sequence = s.sequence_number;
}

std::uint32_t be32(const unsigned char* b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
}

// libsmpp34 leaks the TLV node it was filling when a PDU turns out
// malformed (found by fuzzing: 1 KB per bad PDU, which a faulty SMSC could
// send forever). Its allocations go through these functions; while an
// unpack runs (under library_mutex) they are recorded, and a failed
// unpack frees all of them.
std::vector<void*>* unpack_allocations = nullptr;

void* tracked_malloc(std::size_t n) {
    void* p = std::malloc(n);
    if (p && unpack_allocations) unpack_allocations->push_back(p);
    return p;
}
void* tracked_realloc(void* old, std::size_t n) {
    void* p = std::realloc(old, n);
    if (p && unpack_allocations) {
        auto& v = *unpack_allocations;
        v.erase(std::remove(v.begin(), v.end(), old), v.end());
        v.push_back(p);
    }
    return p;
}
void tracked_free(void* p) {
    if (p && unpack_allocations) {
        auto& v = *unpack_allocations;
        v.erase(std::remove(v.begin(), v.end(), p), v.end());
    }
    std::free(p);
}
void install_allocator() {
    static std::once_flag once;
    std::call_once(once, [] {
        static const smpp34_memory_functions functions{tracked_malloc, tracked_realloc,
                                                       tracked_free};
        smpp34_set_memory_functions(&functions);
    });
}

// Unpacks into S (zeroed); frees what it allocated on every path.
template <class S, class F>
result<pdu> unpack(std::uint32_t id, std::string_view bytes, F&& fill) {
    install_allocator();
    S s{};
    std::lock_guard lock(library_mutex);
    std::vector<void*> allocations;
    unpack_allocations = &allocations;
    const int rc = smpp34_unpack(id, &s, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
    unpack_allocations = nullptr;
    if (rc != 0) {
        for (void* p : allocations) std::free(p);  // reachable or not: none survives
        return failure{"malformed " + command_name(id)};
    }
    struct freer {
        S& s;
        ~freer() {
            if constexpr (requires { s.tlv; }) destroy_tlv(s.tlv);
        }
    } free_tlvs{s};
    pdu p;
    read_header(s, p);
    fill(s, p);
    return p;
}

template <class S, class F>
std::string pack(const pdu& p, F&& fill) {
    S s{};
    write_header(s, p);
    fill(s);
    std::string out(max_pdu_size, '\0');
    int len = 0;
    std::lock_guard lock(library_mutex);
    if (smpp34_pack(p.command_id, reinterpret_cast<std::uint8_t*>(out.data()),
                    static_cast<int>(out.size()), &len, &s) != 0)
        throw std::invalid_argument("cannot encode " + command_name(p.command_id) + ": " +
                                    smpp34_strerror);
    out.resize(static_cast<std::size_t>(len));
    return out;
}

result<pdu> decode_known(std::uint32_t id, std::string_view bytes);

// libsmpp34 describes every field it reads in a 2 KB global buffer without
// checking the space left: about 570 bytes for the mandatory fields and 55
// per TLV, so some 27 TLVs overflow it (found by fuzzing: a crash). No
// SMSC sends more than a handful; more than this is refused unread.
constexpr std::size_t max_tlvs = 16;

// Where the TLVs of a PDU start, skipping its mandatory fields the way
// SMPP 3.4 lays them out, and how many there are: only to keep libsmpp34
// within its limits. nullopt when the shape is broken.
std::optional<std::size_t> tlv_count(std::uint32_t id, std::string_view body) {
    std::size_t at = 0;
    auto c_string = [&](std::size_t max) {
        const std::size_t end = body.find('\0', at);
        if (end == std::string_view::npos || end - at >= max) return false;
        at = end + 1;
        return true;
    };
    auto skip = [&](std::size_t n) {
        if (at + n > body.size()) return false;
        at += n;
        return true;
    };
    switch (id) {
        case cmd::deliver_sm:
        case cmd::submit_sm: {
            if (!c_string(6) || !skip(2) || !c_string(21) || !skip(2) || !c_string(21) ||
                !skip(3) || !c_string(17) || !c_string(17) || !skip(4) || !skip(1))
                return std::nullopt;
            const std::size_t sm_length = static_cast<unsigned char>(body[at - 1]);
            if (!skip(sm_length)) return std::nullopt;
            break;
        }
        case cmd::bind_transceiver_resp:
        case cmd::bind_transmitter_resp:
        case cmd::bind_receiver_resp:
            if (!c_string(16)) return std::nullopt;
            break;
        default:
            return 0;  // no TLVs in the PDUs libsmpp34 reads for us otherwise
    }
    std::size_t n = 0;
    while (at < body.size()) {
        if (at + 4 > body.size()) return std::nullopt;
        const std::size_t length = (static_cast<unsigned char>(body[at + 2]) << 8) |
                                   static_cast<unsigned char>(body[at + 3]);
        at += 4;
        if (!skip(length)) return std::nullopt;
        ++n;
    }
    return n;
}

}  // namespace

const tlv* pdu::find(std::uint16_t t) const {
    for (const auto& v : tlvs)
        if (v.tag == t) return &v;
    return nullptr;
}

std::optional<std::uint8_t> pdu::octet(std::uint16_t t) const {
    const tlv* v = find(t);
    if (!v || v->value.empty()) return std::nullopt;
    return static_cast<std::uint8_t>(v->value.back());  // a 2-octet form keeps it last
}

void pdu::set(std::uint16_t t, std::string value) {
    for (auto& v : tlvs)
        if (v.tag == t) {
            v.value = std::move(value);
            return;
        }
    tlvs.push_back({t, std::move(value)});
}

std::uint32_t peek_length(const unsigned char* header) {
    return be32(header);
}

result<pdu> decode(std::string_view bytes) {
    if (bytes.size() < header_size) return failure{"PDU shorter than its header"};
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::uint32_t length = be32(b);
    if (length != bytes.size()) return failure{"command_length does not match the PDU"};
    if (length > max_pdu_size) return failure{"PDU too large"};
    const std::uint32_t id = be32(b + 4);
    auto header = [&] {
        pdu p;
        p.command_id = id;
        p.command_status = be32(b + 8);
        p.sequence = be32(b + 12);
        return p;
    };
    // A refused bind or submit comes back with its header alone (5.2.x),
    // or, from some SMSCs, with an empty body that libsmpp34 then refuses:
    // the status is what matters.
    if (cmd::is_response(id) && (length == header_size || be32(b + 8) != status::ok)) {
        if (auto full = decode_known(id, bytes)) return full;
        return header();
    }
    return decode_known(id, bytes);
}

namespace {
result<pdu> decode_known(std::uint32_t id, std::string_view bytes) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    auto sm = [](const auto& s, pdu& p) { read_sm(s, p); };
    auto bind = [](const auto& s, pdu& p) { read_bind(s, p); };
    auto bind_resp = [](const auto& s, pdu& p) {
        p.system_id = c_string(s.system_id, sizeof s.system_id);
        p.tlvs = read_tlvs(s.tlv);
    };
    auto header_only = [](const auto&, pdu&) {};
    auto header = [&] {
        pdu p;
        p.command_id = id;
        p.command_status = be32(b + 8);
        p.sequence = be32(b + 12);
        return p;
    };
    if (bytes.size() == header_size && cmd::is_response(id)) return header();
    const auto tlvs = tlv_count(id, bytes.substr(header_size));
    if (!tlvs) return failure{"malformed " + command_name(id)};
    if (*tlvs > max_tlvs) return failure{command_name(id) + " with too many optional parameters"};
    switch (id) {
        case cmd::deliver_sm:
            return unpack<deliver_sm_t>(id, bytes, sm);
        case cmd::submit_sm:
            return unpack<submit_sm_t>(id, bytes, sm);
        case cmd::submit_sm_resp:
            return unpack<submit_sm_resp_t>(id, bytes, [](const auto& s, pdu& p) {
                p.message_id = c_string(s.message_id, sizeof s.message_id);
            });
        case cmd::deliver_sm_resp:
            return unpack<deliver_sm_resp_t>(id, bytes, header_only);
        case cmd::bind_transceiver:
            return unpack<bind_transceiver_t>(id, bytes, bind);
        case cmd::bind_transmitter:
            return unpack<bind_transmitter_t>(id, bytes, bind);
        case cmd::bind_receiver:
            return unpack<bind_receiver_t>(id, bytes, bind);
        case cmd::bind_transceiver_resp:
        case cmd::bind_transmitter_resp:
        case cmd::bind_receiver_resp:
            if (id == cmd::bind_transceiver_resp)
                return unpack<bind_transceiver_resp_t>(id, bytes, bind_resp);
            if (id == cmd::bind_transmitter_resp)
                return unpack<bind_transmitter_resp_t>(id, bytes, bind_resp);
            return unpack<bind_receiver_resp_t>(id, bytes, bind_resp);
        case cmd::unbind:
            return unpack<unbind_t>(id, bytes, header_only);
        case cmd::unbind_resp:
            return unpack<unbind_resp_t>(id, bytes, header_only);
        case cmd::enquire_link:
            return unpack<enquire_link_t>(id, bytes, header_only);
        case cmd::enquire_link_resp:
            return unpack<enquire_link_resp_t>(id, bytes, header_only);
        case cmd::generic_nack:
            return unpack<generic_nack_t>(id, bytes, header_only);
        default:
            return header();  // not ours to read: the header is enough to answer it
    }
}
}  // namespace

std::string encode(const pdu& p) {
    // Packing describes every field in the same unbounded buffer as unpacking.
    if (p.tlvs.size() > max_tlvs) throw std::invalid_argument("SMPP PDU with too many TLVs");
    auto with_tlvs = [&]<class S>(S*) {
        tlv_list list(p.tlvs);
        return pack<S>(p, [&](S& s) {
            write_sm(s, p);
            s.tlv = list.head;
        });
    };
    switch (p.command_id) {
        case cmd::submit_sm:
            return with_tlvs(static_cast<submit_sm_t*>(nullptr));
        case cmd::deliver_sm:
            return with_tlvs(static_cast<deliver_sm_t*>(nullptr));
        case cmd::submit_sm_resp:
            return pack<submit_sm_resp_t>(
                p, [&](submit_sm_resp_t& s) { put(s.message_id, p.message_id, "message_id"); });
        case cmd::deliver_sm_resp:
            return pack<deliver_sm_resp_t>(p, [](deliver_sm_resp_t&) {});
        case cmd::bind_transceiver:
            return pack<bind_transceiver_t>(p, [&](bind_transceiver_t& s) { write_bind(s, p); });
        case cmd::bind_transmitter:
            return pack<bind_transmitter_t>(p, [&](bind_transmitter_t& s) { write_bind(s, p); });
        case cmd::bind_receiver:
            return pack<bind_receiver_t>(p, [&](bind_receiver_t& s) { write_bind(s, p); });
        case cmd::bind_transceiver_resp:
            return pack<bind_transceiver_resp_t>(
                p, [&](bind_transceiver_resp_t& s) { put(s.system_id, p.system_id, "system_id"); });
        case cmd::bind_transmitter_resp:
            return pack<bind_transmitter_resp_t>(
                p, [&](bind_transmitter_resp_t& s) { put(s.system_id, p.system_id, "system_id"); });
        case cmd::bind_receiver_resp:
            return pack<bind_receiver_resp_t>(
                p, [&](bind_receiver_resp_t& s) { put(s.system_id, p.system_id, "system_id"); });
        case cmd::unbind:
            return pack<unbind_t>(p, [](unbind_t&) {});
        case cmd::unbind_resp:
            return pack<unbind_resp_t>(p, [](unbind_resp_t&) {});
        case cmd::enquire_link:
            return pack<enquire_link_t>(p, [](enquire_link_t&) {});
        case cmd::enquire_link_resp:
            return pack<enquire_link_resp_t>(p, [](enquire_link_resp_t&) {});
        case cmd::generic_nack:
            return pack<generic_nack_t>(p, [](generic_nack_t&) {});
        default:
            throw std::invalid_argument("cannot encode " + command_name(p.command_id));
    }
}

namespace {
// A value without a name, as SMPP documents write it: 0x00000103.
std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}
}  // namespace

std::string command_name(std::uint32_t id) {
    switch (id) {
        case cmd::generic_nack:
            return "generic_nack";
        case cmd::bind_receiver:
            return "bind_receiver";
        case cmd::bind_receiver_resp:
            return "bind_receiver_resp";
        case cmd::bind_transmitter:
            return "bind_transmitter";
        case cmd::bind_transmitter_resp:
            return "bind_transmitter_resp";
        case cmd::submit_sm:
            return "submit_sm";
        case cmd::submit_sm_resp:
            return "submit_sm_resp";
        case cmd::deliver_sm:
            return "deliver_sm";
        case cmd::deliver_sm_resp:
            return "deliver_sm_resp";
        case cmd::unbind:
            return "unbind";
        case cmd::unbind_resp:
            return "unbind_resp";
        case cmd::bind_transceiver:
            return "bind_transceiver";
        case cmd::bind_transceiver_resp:
            return "bind_transceiver_resp";
        case cmd::enquire_link:
            return "enquire_link";
        case cmd::enquire_link_resp:
            return "enquire_link_resp";
        default:
            return hex32(id);
    }
}

std::string status_name(std::uint32_t s) {
    switch (s) {
        case status::ok:
            return "ESME_ROK";
        case status::invalid_command_length:
            return "ESME_RINVCMDLEN";
        case status::invalid_command_id:
            return "ESME_RINVCMDID";
        case status::incorrect_bind_status:
            return "ESME_RINVBNDSTS";
        case status::system_error:
            return "ESME_RSYSERR";
        case status::bind_failed:
            return "ESME_RBINDFAIL";
        case status::invalid_password:
            return "ESME_RINVPASWD";
        case status::invalid_system_id:
            return "ESME_RINVSYSID";
        case status::message_queue_full:
            return "ESME_RMSGQFUL";
        case status::throttled:
            return "ESME_RTHROTTLED";
        case status::temporary_app_error:
            return "ESME_RX_T_APPN";
        default:
            return hex32(s);
    }
}

}  // namespace gw::smpp

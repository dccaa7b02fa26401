#include "service/session_codec.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/text.hpp"

namespace gw::service {

namespace {

// Appends `s` as a JSON string: what nlohmann's dump() writes for valid
// UTF-8 (only '"', '\\' and control characters escaped).
void put_string(std::string& out, const std::string& s) {
    static const char* const hex = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void put_map(std::string& out, const std::map<std::string, std::string>& m) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : m) {
        if (!first) out += ',';
        first = false;
        put_string(out, k);
        out += ':';
        put_string(out, v);
    }
    out += '}';
}

bool all_valid_utf8(const stored_state& st) {
    const menu::session_state& s = st.engine;
    auto ok = [](const std::string& x) { return is_valid_utf8(x); };
    if (!ok(s.language) || !ok(s.screen)) return false;
    for (const auto& [screen, page] : s.history)
        if (!ok(screen)) return false;
    for (const auto& t : s.trail)
        if (!ok(t)) return false;
    for (const auto* m : {&s.vars, &st.fields})
        for (const auto& [k, v] : *m)
            if (!ok(k) || !ok(v)) return false;
    return true;
}

}  // namespace

// Every hop that is stored encodes its state: written by hand (keys in
// nlohmann's order, the same bytes) rather than through a JSON tree, which
// cost about 8 % of a hop. Invalid UTF-8 takes the library's path below.
std::string encode_state(const stored_state& st) {
    if (!all_valid_utf8(st)) return encode_state_with_library(st);
    const menu::session_state& s = st.engine;
    std::string out;
    out.reserve(512);
    out += "{\"fields\":";
    put_map(out, st.fields);
    out += s.finished ? ",\"finished\":true" : ",\"finished\":false";
    out += ",\"history\":[";
    for (std::size_t i = 0; i < s.history.size(); ++i) {
        if (i) out += ',';
        out += '[';
        put_string(out, s.history[i].first);
        out += ',';
        out += std::to_string(s.history[i].second);
        out += ']';
    }
    out += "],\"language\":";
    put_string(out, s.language);
    out += ",\"page\":";
    out += std::to_string(s.page);
    out += ",\"screen\":";
    put_string(out, s.screen);
    out += ",\"trail\":[";
    for (std::size_t i = 0; i < s.trail.size(); ++i) {
        if (i) out += ',';
        put_string(out, s.trail[i]);
    }
    out += "],\"vars\":";
    put_map(out, s.vars);
    out += '}';
    return out;
}

std::string encode_state_with_library(const stored_state& st) {
    const menu::session_state& s = st.engine;
    nlohmann::json history = nlohmann::json::array();
    for (const auto& [screen, page] : s.history) history.push_back({screen, page});
    nlohmann::json j = {{"language", s.language}, {"screen", s.screen}, {"page", s.page},
                        {"history", history},     {"vars", s.vars},     {"finished", s.finished},
                        {"trail", s.trail},       {"fields", st.fields}};
    // Inputs come from aggregators and may hold invalid UTF-8: replace it
    // rather than refuse to save the session.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

stored_state decode_state(const std::string& text) {
    try {
        auto j = nlohmann::json::parse(text);
        stored_state st;
        menu::session_state& s = st.engine;
        s.language = j.at("language").get<std::string>();
        s.screen = j.at("screen").get<std::string>();
        s.page = j.at("page").get<int>();
        for (const auto& h : j.at("history"))
            s.history.emplace_back(h.at(0).get<std::string>(), h.at(1).get<int>());
        s.vars = j.at("vars").get<std::map<std::string, std::string>>();
        s.finished = j.at("finished").get<bool>();
        s.trail = j.value("trail", std::vector<std::string>{});
        st.fields = j.value("fields", std::map<std::string, std::string>{});
        return st;
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(std::string("bad session state: ") + e.what());
    }
}

}  // namespace gw::service

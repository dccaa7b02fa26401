#include "service/session_codec.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace gw::service {

std::string encode_state(const stored_state& st) {
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

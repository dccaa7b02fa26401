#include "service/menu_actions.hpp"

#include <cctype>

#include "common/log.hpp"
#include "common/phone.hpp"
#include "common/text.hpp"

namespace gw::service {

std::string normalize_reference(const std::string& typed) {
    std::string digits;
    std::string_view t = trim(typed);
    if (!t.empty() && (t[0] == 'R' || t[0] == 'r')) t.remove_prefix(1);
    if (!t.empty() && (t[0] == '-' || t[0] == ' ')) t.remove_prefix(1);
    for (char c : t) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return {};
        digits += c;
    }
    if (digits.empty() || digits.size() > 7) return {};
    return "R-" + std::string(7 - digits.size(), '0') + digits;
}

std::string lookup_status_key(store::store& store, const std::string& typed,
                              const std::string& phone) {
    const std::string ref = normalize_reference(typed);
    if (ref.empty()) return "lookup_not_found";
    auto c = store.find_case(ref);
    if (!c || c->phone.empty() || c->phone != phone) return "lookup_not_found";
    if (c->status == store::case_status::closed) return "lookup_closed";
    bool with_partner = false;
    for (const auto& r : store.case_referrals(c->id)) {
        if (r.status == store::referral_status::accepted ||
            r.status == store::referral_status::in_progress)
            return "lookup_accepted";
        if (!r.partner.empty() && r.status == store::referral_status::new_) with_partner = true;
    }
    return with_partner ? "lookup_with_partner" : "lookup_registered";
}

namespace {
// At most `segments` SMS segments, cut at a word.
std::string fit_sms(const std::string& text, std::size_t segments) {
    auto fits = [&](const std::string& t) {
        text_size size = measure_text(t);
        const std::size_t per = size.encoding == text_encoding::gsm7 ? 153 : 67;
        const std::size_t single = size.encoding == text_encoding::gsm7 ? 160 : 70;
        return size.units <= (segments <= 1 ? single : per * segments);
    };
    if (fits(text)) return text;
    std::string cut = text;
    while (!cut.empty() && !fits(cut + "…")) {
        auto space = cut.find_last_of(" \n");
        cut = space == std::string::npos ? std::string() : cut.substr(0, space);
    }
    return cut.empty() ? cut : cut + "…";
}
}  // namespace

std::string send_info_sms(store::store& store, const menu::engine& engine,
                          const menu::session_state& state, const menu::action_request& action,
                          const std::string& phone, const info_sms_settings& settings,
                          long long now, const std::function<void()>& queued) {
    if (settings.channel.empty() || action.info_screen.empty()) return "sms_not_sent";
    const menu::screen* info = engine.layout().source().find(action.info_screen);
    // Never put a sensitive topic in writing on her phone.
    if (!info || info->sensitive) return "sms_not_sent";
    const std::string body =
        fit_sms(engine.text_of(state, action.info_screen), settings.max_segments);
    if (body.empty()) return "sms_not_sent";
    store::outbound_message m;
    m.channel = settings.channel;
    m.recipient = phone;
    m.body = body;
    m.purpose = "info_sms";
    m.next_attempt_at_ms = now * 1000;
    m.created_at = now;
    if (store.enqueue_outbound(m) == 0) return "sms_not_sent";  // she sent STOP
    spdlog::info("menu: info screen {} queued by SMS to {}", action.info_screen, mask_phone(phone));
    if (queued) queued();
    return "sms_queued";
}

std::optional<menu::reply> run_status_action(store::store& store, const menu::engine& engine,
                                             menu::session_state& state,
                                             const menu::action_request& action,
                                             const std::string& phone, const info_sms_settings& sms,
                                             long long now, const std::function<void()>& queued) {
    std::string key;
    if (action.kind == "lookup_case") {
        auto typed = state.vars.find("lookup_ref");
        key = lookup_status_key(store, typed == state.vars.end() ? "" : typed->second, phone);
        state.vars.erase("lookup_ref");  // not kept with the session
    } else if (action.kind == "send_info_sms") {
        key = send_info_sms(store, engine, state, action, phone, sms, now, queued);
    } else {
        return std::nullopt;
    }
    return engine.complete_action_with_status(state, engine.ui(state, key));
}

}  // namespace gw::service

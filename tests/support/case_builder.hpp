#pragma once
// A case as her walk through the menus would leave it, for tests that
// need one without walking: USSD, Russian, legal aid in Osh, a Kyrgyz
// number; each field changed by name.
//
//   auto rec = test::a_case("o1").topic("urgent").urgent().store_in(db, now);
//   store::new_case c = test::a_case("o2").phone(her).consent();
#include <string>
#include <utility>

#include "service/case_from_session.hpp"
#include "store/store.hpp"

namespace gw::test {

class case_builder {
  public:
    // `origin_key`: one per event that makes a case (the same key, the same case).
    explicit case_builder(std::string origin_key) {
        c_.origin_key = std::move(origin_key);
        c_.phone = "+996555000001";
        c_.channel = "ussd";
        c_.language = "ru";
        c_.topic = "legal_aid";
        c_.oblast = "osh";
    }

    case_builder& phone(std::string v) { return set(c_.phone, std::move(v)); }
    case_builder& channel(std::string v) { return set(c_.channel, std::move(v)); }
    case_builder& language(std::string v) { return set(c_.language, std::move(v)); }
    case_builder& topic(std::string v) { return set(c_.topic, std::move(v)); }
    case_builder& subtopic(std::string v) { return set(c_.subtopic, std::move(v)); }
    case_builder& oblast(std::string v) { return set(c_.oblast, std::move(v)); }
    case_builder& target_group(std::string v) { return set(c_.target_group, std::move(v)); }
    case_builder& details(std::string v) { return set(c_.details, std::move(v)); }
    case_builder& contact(std::string v) { return set(c_.contact, std::move(v)); }
    case_builder& session_id(std::string v) { return set(c_.session_id, std::move(v)); }
    case_builder& sms_channel(std::string v) { return set(c_.sms_channel, std::move(v)); }
    case_builder& transcript(std::string v) { return set(c_.transcript, std::move(v)); }
    // Only for store-level tests: the service chooses it (store_in).
    case_builder& status(store::case_status v) { return set(c_.status, v); }
    case_builder& consent(bool v = true) { return set(c_.consent, v); }
    case_builder& urgent(bool v = true) { return set(c_.urgent, v); }
    case_builder& notify_sms(bool v = true) { return set(c_.notify_sms, v); }
    case_builder& safe_to_call(bool v) { return set(c_.safe_to_call, std::optional<bool>(v)); }

    operator store::new_case() const { return c_; }  // NOLINT: reads as a record
    // Stored as the service stores hers: a reference drawn, the first status set.
    store::case_record store_in(store::case_store& cases, long long now) const {
        return service::store_case(cases, c_, now);
    }

  private:
    template <class T, class V>
    case_builder& set(T& field, V&& v) {
        field = std::forward<V>(v);
        return *this;
    }
    store::new_case c_;
};

inline case_builder a_case(std::string origin_key) {
    return case_builder(std::move(origin_key));
}

}  // namespace gw::test

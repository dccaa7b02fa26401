// Statuses are enums inside the gateway and names outside it: every name
// parses back to its value, an unknown one is refused, and a status never
// leaves as a number.
#include "domain/status.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <type_traits>

#include "store/records.hpp"

using namespace gw;
using domain::case_status;
using domain::message_status;
using domain::referral_status;
using domain::session_status;

TEST(Status, EveryNameReadsBackAsItsValue) {
    for (auto s :
         {case_status::new_, case_status::escalated, case_status::claimed, case_status::closed})
        EXPECT_EQ(domain::case_status_named(name(s)), s) << s;
    for (auto s : {referral_status::new_, referral_status::accepted, referral_status::in_progress,
                   referral_status::declined, referral_status::closed, referral_status::revoked,
                   referral_status::overdue, referral_status::escalated})
        EXPECT_EQ(domain::referral_status_named(name(s)), s) << s;
    for (auto s : {session_status::active, session_status::finished, session_status::abandoned,
                   session_status::resumed, session_status::closed})
        EXPECT_EQ(domain::session_status_named(name(s)), s) << s;
    for (auto s : {message_status::queued, message_status::sending, message_status::sent,
                   message_status::delivered, message_status::failed, message_status::dead})
        EXPECT_EQ(domain::message_status_named(name(s)), s) << s;
    // The store's and the APIs' words, not the enumerators' spelling.
    EXPECT_EQ(name(case_status::new_), "new");
    EXPECT_EQ(name(referral_status::in_progress), "in_progress");
}

TEST(Status, AnUnknownNameIsRefusedAndAStoredOneIsACorruptRow) {
    EXPECT_FALSE(domain::referral_status_named("pending"));
    EXPECT_FALSE(domain::case_status_named("New")) << "names are exact";
    EXPECT_FALSE(domain::case_status_named(""));
    EXPECT_THROW(store::stored_referral_status("pending"), store::store_error);
    EXPECT_EQ(store::stored_case_status("claimed"), case_status::claimed);
    EXPECT_THROW(store::stored_session_status("expired"), store::store_error);
    EXPECT_EQ(store::stored_session_status("abandoned"), session_status::abandoned);
}

TEST(Status, OnlyDeliveredAndFailedSettleAMessage) {
    EXPECT_TRUE(is_final_report(message_status::delivered));
    EXPECT_TRUE(is_final_report(message_status::failed));
    for (auto s : {message_status::queued, message_status::sending, message_status::sent,
                   message_status::dead})
        EXPECT_FALSE(is_final_report(s)) << s;
    EXPECT_THROW(store::stored_message_status("undelivered"), store::store_error);
}

TEST(Status, OnlyNewAcceptedAndInProgressAreOpen) {
    EXPECT_TRUE(is_open(referral_status::new_));
    EXPECT_TRUE(is_open(referral_status::accepted));
    EXPECT_TRUE(is_open(referral_status::in_progress));
    for (auto s : {referral_status::declined, referral_status::closed, referral_status::revoked,
                   referral_status::overdue, referral_status::escalated})
        EXPECT_FALSE(is_open(s)) << s;
}

// JSON_DISABLE_ENUM_SERIALIZATION is set for the whole build: an enum put
// into JSON without its name does not compile (it would go out as 0, 1, ...).
TEST(Status, AnEnumCannotBecomeAJsonNumber) {
    EXPECT_FALSE((std::is_constructible_v<nlohmann::json, case_status>));
    EXPECT_EQ(nlohmann::json(name(case_status::closed)).dump(), "\"closed\"");
}

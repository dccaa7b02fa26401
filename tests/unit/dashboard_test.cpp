// The programme dashboard's service (issue #15): the period asked for, and
// the tables built from the store's counts, suppressed as one problem.
#include "service/dashboard.hpp"

#include <gtest/gtest.h>

#include <tuple>

using gw::domain::message_status;

using namespace gw;
using namespace gw::service;

namespace {

// Counts as a store would give them; nothing else is asked for.
class fake_reporting : public store::reporting_store {
  public:
    std::vector<store::case_count> cases;
    std::vector<store::partner_funnel> funnel;
    std::vector<store::sms_count> sms;
    store::dashboard_filter asked;

    std::vector<store::stat_row> statistics() override { return {}; }
    std::vector<store::case_count> case_counts(const store::dashboard_filter& f) override {
        asked = f;
        return cases;
    }
    std::vector<store::partner_funnel> referral_funnel(const store::dashboard_filter&,
                                                       long long) override {
        return funnel;
    }
    std::vector<store::sms_count> sms_counts(const store::dashboard_filter&) override {
        return sms;
    }
    store::retention_report purge_personal_data(long long, long long) override { return {}; }
    store::commit_stats commit_counts() const override { return {}; }
    bool hold_lease(const std::string&, const std::string&, long long, long long) override {
        return true;
    }
};

const long long wednesday = 1705492800;  // 2024-01-17T12:00Z

dashboard_period period(const std::string& from, const std::string& to,
                        const std::string& oblast = "") {
    std::string error;
    auto p = dashboard_period_of(from, to, oblast, wednesday, error);
    EXPECT_TRUE(p) << error;
    return p.value_or(dashboard_period{});
}

store::case_count cases(const std::string& week, const std::string& topic,
                        const std::string& oblast, long long n) {
    return {week, topic, oblast, "ussd", "", n};
}

}  // namespace

TEST(DashboardPeriod, DefaultsToTwelveIsoWeeksUpToToday) {
    auto p = period("", "");
    EXPECT_EQ(p.to, "2024-01-17");
    EXPECT_EQ(p.from, "2023-10-30");  // a Monday, 11 weeks before 2024-01-15
    EXPECT_EQ(p.oblast, "");
    EXPECT_EQ(period("", "", "all").oblast, "");
    EXPECT_EQ(period("", "", "jalal_abad").oblast, "jalal_abad");
    EXPECT_EQ(period("", "2024-01-07").from, "2023-10-16");
}

TEST(DashboardPeriod, RefusesWhatIsNotAPeriod) {
    for (auto [from, to, oblast] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"2024-02-30", "", ""},
             {"2024-1-01", "", ""},
             {"", "17.01.2024", ""},
             {"2024-01-18", "2024-01-17", ""},
             {"2022-01-01", "2024-01-17", ""},
             {"", "", "Osh"},
             {"", "", "osh;drop"}}) {
        std::string error;
        EXPECT_FALSE(dashboard_period_of(from, to, oblast, wednesday, error))
            << from << " " << to << " " << oblast;
        EXPECT_FALSE(error.empty());
    }
    std::string error;
    EXPECT_TRUE(dashboard_period_of("2022-01-18", "2024-01-17", "", wednesday, error)) << error;
}

TEST(Dashboard, AskTheStoreForWholeDaysAndListEveryWeek) {
    fake_reporting store;
    auto d = build_dashboard(store, period("2024-01-03", "2024-01-17", "osh"), wednesday);
    EXPECT_EQ(store.asked.from, 1704240000);  // 2024-01-03T00:00Z
    EXPECT_EQ(store.asked.to, 1705536000);    // 2024-01-18T00:00Z
    EXPECT_EQ(store.asked.oblast, "osh");
    EXPECT_EQ(d.weeks, (std::vector<std::string>{"2024-01-01", "2024-01-08", "2024-01-15"}));
    EXPECT_TRUE(d.by_topic.columns.empty());
    EXPECT_EQ(d.by_topic.total.state, cell_state::small);
}

TEST(Dashboard, AWeekTotalIsHiddenInEveryTableOrInNone) {
    fake_reporting store;
    // Week 1: Osh 2, Batken 20 (topic legal_aid for all); week 2: Osh 30.
    store.cases = {cases("2024-01-08", "legal_aid", "batken", 20),
                   cases("2024-01-08", "legal_aid", "osh", 2),
                   cases("2024-01-15", "legal_aid", "osh", 30)};
    auto d = build_dashboard(store, period("2024-01-08", "2024-01-21"), wednesday);
    const auto& o = d.by_oblast;
    ASSERT_EQ(o.columns, (std::vector<std::string>{"batken", "osh"}));
    EXPECT_EQ(o.cells[0][1].state, cell_state::small);  // Osh, week 1: 2
    EXPECT_NE(o.cells[0][0].state, cell_state::shown);  // Batken, week 1: 20 - 2 = ...
    EXPECT_NE(o.cells[1][1].state, cell_state::shown);  // Osh, week 2: column Osh
    for (std::size_t w = 0; w < 2; ++w) {
        EXPECT_EQ(d.by_topic.week_totals[w].state, o.week_totals[w].state) << w;
        EXPECT_EQ(d.by_channel.week_totals[w].state, o.week_totals[w].state) << w;
    }
    // Topic: one column, each cell equal to its week total: shown or hidden alike.
    for (std::size_t w = 0; w < 2; ++w)
        EXPECT_EQ(d.by_topic.cells[w][0].state, d.by_topic.week_totals[w].state);
    EXPECT_EQ(d.by_topic.total.state, cell_state::shown);
    EXPECT_EQ(d.by_topic.total.value, 52);
    EXPECT_EQ(d.by_target_group.columns, (std::vector<std::string>{unspecified_value}));
}

TEST(Dashboard, AFunnelStageHidesWhenTheDifferenceWouldBeSmall) {
    fake_reporting store;
    store::partner_funnel a;
    a.partner = "legal_osh";
    a.created = 20, a.accepted = 18, a.done = 10, a.declined = 2, a.overdue = 0;
    a.rerouted = 2, a.answered = 20, a.answer_hours = 3.25, a.sla_total = 20, a.sla_kept = 17;
    store::partner_funnel b = a;
    b.partner = "crisis_batken";
    b.created = 40, b.accepted = 30, b.done = 20, b.answered = 25, b.sla_total = 10, b.sla_kept = 8;
    store.funnel = {b, a};
    auto d = build_dashboard(store, period("2024-01-08", "2024-01-14"), wednesday);
    ASSERT_EQ(d.referrals.size(), 2u);
    const auto& ra = d.referrals[1];
    EXPECT_EQ(ra.partner, "legal_osh");
    EXPECT_EQ(ra.created.state, cell_state::shown);
    // 20 created, 18 accepted: 2 not accepted; accepted must not be shown.
    EXPECT_NE(ra.accepted.state, cell_state::shown);
    EXPECT_EQ(ra.done.state, cell_state::shown);
    EXPECT_EQ(ra.declined.state, cell_state::small);
    ASSERT_TRUE(ra.first_contact_hours);
    EXPECT_DOUBLE_EQ(*ra.first_contact_hours, 3.3);
    // 20 with a deadline, 17 kept: 3 missed is small, so kept hides too.
    EXPECT_EQ(ra.sla_missed.state, cell_state::small);
    EXPECT_NE(ra.sla_kept.state, cell_state::shown);
    EXPECT_FALSE(ra.sla_kept_percent);
    // All partners: 60 created, the sum of the partners' rows.
    EXPECT_EQ(d.referrals_total.created.value, 60);
    EXPECT_EQ(d.referrals_total.created.state, cell_state::shown);
    EXPECT_EQ(d.referrals_total.answered.value, 45);

    // Fewer than 5 answers: no mean, and the other partner's answers (45
    // minus them) hide too, and with them its mean.
    store.funnel[0].answered = 3;
    d = build_dashboard(store, period("2024-01-08", "2024-01-14"), wednesday);
    EXPECT_EQ(d.referrals[0].answered.state, cell_state::small);
    EXPECT_FALSE(d.referrals[0].first_contact_hours) << "a mean over fewer than 5 answers";
    EXPECT_EQ(d.referrals[1].answered.state, cell_state::hidden);
    EXPECT_FALSE(d.referrals[1].first_contact_hours);
}

TEST(Dashboard, SmsRatesAreShownOnlyFromShownCounts) {
    fake_reporting store;
    store.sms = {{"africastalking", message_status::delivered, 90},
                 {"africastalking", message_status::failed, 10},
                 {"africastalking", message_status::sent, 20},
                 {"africastalking", message_status::queued, 6},
                 {"africastalking", message_status::sending, 1},
                 {"africastalking", message_status::dead, 7},
                 {"kannel", message_status::delivered, 50},
                 {"kannel", message_status::failed, 5},
                 {"kannel", message_status::sent, 5},
                 {"kannel", message_status::queued, 5},
                 {"kannel", message_status::dead, 5}};
    auto d = build_dashboard(store, period("2024-01-08", "2024-01-14"), wednesday);
    ASSERT_EQ(d.sms.size(), 2u);
    const auto& at = d.sms[0];
    EXPECT_EQ(at.channel, "africastalking");
    EXPECT_EQ(at.messages.value, 134);
    EXPECT_EQ(at.sent.value, 120);
    EXPECT_EQ(at.queued.value, 7);
    EXPECT_EQ(at.no_report.value, 20);
    EXPECT_EQ(at.messages.state, cell_state::shown);
    ASSERT_TRUE(at.delivery_rate_percent);
    EXPECT_DOUBLE_EQ(*at.delivery_rate_percent, 75.0);
    ASSERT_TRUE(d.sms[1].delivery_rate_percent);
    EXPECT_DOUBLE_EQ(*d.sms[1].delivery_rate_percent, 83.3);
    ASSERT_TRUE(d.sms_total.delivery_rate_percent);
    EXPECT_DOUBLE_EQ(*d.sms_total.delivery_rate_percent, 77.8);  // 140 / 180

    // A third channel with 3 delivered: all channels' 143 minus the others
    // would give the 3 away, so the smallest other (kannel's 50) hides, and
    // with it kannel's rate.
    store.sms.push_back({"twilio", message_status::delivered, 3});
    d = build_dashboard(store, period("2024-01-08", "2024-01-14"), wednesday);
    ASSERT_EQ(d.sms.size(), 3u);
    EXPECT_EQ(d.sms[2].delivered.state, cell_state::small);
    EXPECT_EQ(d.sms[1].delivered.state, cell_state::hidden);
    EXPECT_FALSE(d.sms[1].delivery_rate_percent);
    EXPECT_FALSE(d.sms[2].delivery_rate_percent);
    EXPECT_EQ(d.sms_total.delivered.value, 143);
}

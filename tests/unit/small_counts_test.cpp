// The suppression rule of what the programme publishes (issue #15): counts
// under 5 are suppressed, and complementary cells too, so that no
// suppressed count can be worked out from a total and the shown cells.
#include "service/small_counts.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace gw::service;

namespace {

using S = cell_state;

// A rows x columns table with a total per row, per column and a grand
// total, tied together by sums as the dashboard's tables are.
struct grid {
    count_table t;
    std::vector<std::vector<std::size_t>> cell;
    std::vector<std::size_t> row_total, column_total;
    std::size_t grand = 0;

    explicit grid(const std::vector<std::vector<long long>>& v) {
        const std::size_t rows = v.size(), cols = v.at(0).size();
        cell.assign(rows, std::vector<std::size_t>(cols));
        std::vector<long long> col_sum(cols, 0);
        long long all = 0;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) {
                cell[r][c] = t.add(v[r][c]);
                col_sum[c] += v[r][c];
                all += v[r][c];
            }
        for (std::size_t r = 0; r < rows; ++r) {
            long long sum = 0;
            for (long long x : v[r]) sum += x;
            row_total.push_back(t.add(sum));
            t.add_sum(row_total[r], cell[r]);
        }
        for (std::size_t c = 0; c < cols; ++c) {
            column_total.push_back(t.add(col_sum[c]));
            std::vector<std::size_t> parts;
            for (std::size_t r = 0; r < rows; ++r) parts.push_back(cell[r][c]);
            t.add_sum(column_total[c], parts);
        }
        grand = t.add(all);
        t.add_sum(grand, row_total);
        t.add_sum(grand, column_total);
    }
};

// For every sum: a single suppressed member can be computed as the total
// minus the shown parts (or as the sum of the parts, for a total). Returns
// each such leak, described; empty when nothing can be derived this way.
std::vector<std::string> single_relation_leaks(const count_table& t,
                                               const std::vector<cell_state>& s) {
    std::vector<std::string> leaks;
    for (const auto& sum : t.sums()) {
        std::vector<std::size_t> suppressed;
        long long shown_parts = 0;
        if (s[sum.total] != S::shown) suppressed.push_back(sum.total);
        for (std::size_t p : sum.parts) {
            if (s[p] != S::shown)
                suppressed.push_back(p);
            else
                shown_parts += t.values()[p];
        }
        if (suppressed.size() != 1) continue;
        const std::size_t cell = suppressed[0];
        const long long derived =
            cell == sum.total ? shown_parts : t.values()[sum.total] - shown_parts;
        std::ostringstream what;
        what << "cell " << cell << " = " << derived << " (really " << t.values()[cell]
             << ") from the sum with total cell " << sum.total;
        leaks.push_back(what.str());
    }
    return leaks;
}

void expect_nothing_derivable(const count_table& t, const std::vector<cell_state>& s) {
    for (const auto& leak : single_relation_leaks(t, s)) ADD_FAILURE() << leak;
    EXPECT_TRUE(derivable_cells(t, s).empty()) << "derivable from several sums together";
    // And every count under 5 is suppressed, whatever else happened.
    for (std::size_t i = 0; i < s.size(); ++i)
        if (t.values()[i] < suppress_below) EXPECT_EQ(s[i], S::small) << "cell " << i;
}

std::size_t count(const std::vector<cell_state>& s, cell_state which) {
    std::size_t n = 0;
    for (auto x : s) n += x == which ? 1 : 0;
    return n;
}

}  // namespace

TEST(SmallCounts, CountsUnderFiveAreSuppressedAndTheRestShown) {
    count_table t;
    std::vector<std::size_t> cells;
    for (long long v : {0, 1, 4, 5, 6, 100}) cells.push_back(t.add(v));
    auto s = suppress_small_counts(t);  // no sums: nothing to derive from
    EXPECT_EQ(s, (std::vector<S>{S::small, S::small, S::small, S::shown, S::shown, S::shown}));
}

TEST(SmallCounts, ALoneSmallCellInARowHidesTheSmallestOtherCellOfTheRow) {
    // One row, no columns: total 30 = 3 + 7 + 20. Showing 7 and 20 next to
    // the total would give the 3 away; 7 is the cheapest to hide.
    count_table t;
    auto a = t.add(3), b = t.add(7), c = t.add(20), total = t.add(30);
    t.add_sum(total, {a, b, c});
    auto s = suppress_small_counts(t);
    EXPECT_EQ(s[a], S::small);
    EXPECT_EQ(s[b], S::hidden);
    EXPECT_EQ(s[c], S::shown);
    EXPECT_EQ(s[total], S::shown);
    expect_nothing_derivable(t, s);
}

TEST(SmallCounts, ALoneSmallCellInAColumnHidesAnotherOfTheColumn) {
    // A column: one topic's weeks adding up to its total over the period.
    count_table t;
    auto w1 = t.add(9), w2 = t.add(2), w3 = t.add(15), all = t.add(26);
    t.add_sum(all, {w1, w2, w3});
    auto s = suppress_small_counts(t);
    EXPECT_EQ(s[w2], S::small);
    EXPECT_EQ(s[w1], S::hidden);  // 9 < 15
    EXPECT_EQ(s[w3], S::shown);
    expect_nothing_derivable(t, s);
}

TEST(SmallCounts, InAGridRowsAndColumnsAreBothProtected) {
    grid g({{2, 10, 20}, {8, 12, 30}, {9, 15, 40}});
    auto s = suppress_small_counts(g.t);
    EXPECT_EQ(s[g.cell[0][0]], S::small);
    // Row 0: the 10 (cheapest of 10, 20) hides with the 2.
    EXPECT_EQ(s[g.cell[0][1]], S::hidden);
    // Column 0: the 8 (cheapest of 8, 9) hides with the 2.
    EXPECT_EQ(s[g.cell[1][0]], S::hidden);
    // Then row 1 and column 1 each had one hidden cell: more hid.
    EXPECT_GE(count(s, S::hidden), 3u);
    EXPECT_EQ(s[g.grand], S::shown);
    expect_nothing_derivable(g.t, s);
}

TEST(SmallCounts, AComplementaryCellCascadesIntoTheNextSum) {
    // b is a part of two sums. Row A hides its 6 for the 2; that leaves the
    // 6 alone hidden in column B, which hides its 9 in turn.
    count_table t;
    auto a = t.add(2), b = t.add(6), c = t.add(20), row = t.add(28);
    auto d = t.add(9), e = t.add(30), column = t.add(45);
    t.add_sum(row, {a, b, c});
    t.add_sum(column, {b, d, e});
    auto s = suppress_small_counts(t);
    EXPECT_EQ(s[a], S::small);
    EXPECT_EQ(s[b], S::hidden);
    EXPECT_EQ(s[d], S::hidden);
    EXPECT_EQ(s[c], S::shown);
    EXPECT_EQ(s[e], S::shown);
    EXPECT_EQ(s[row], S::shown);
    EXPECT_EQ(s[column], S::shown);
    expect_nothing_derivable(t, s);
}

TEST(SmallCounts, InAGridTheCascadeGoesOnUntilEverySumHasTwoHiddenOrNone) {
    grid g({{1, 6, 50}, {30, 7, 8}, {40, 60, 70}});
    auto s = suppress_small_counts(g.t);
    EXPECT_EQ(s[g.cell[0][0]], S::small);
    EXPECT_EQ(s[g.cell[0][1]], S::hidden);  // row 0's cheapest other cell
    EXPECT_EQ(s[g.cell[1][0]], S::hidden);  // column 0's
    EXPECT_EQ(s[g.cell[1][1]], S::hidden);  // column 1's, for the 6 hidden above
    EXPECT_EQ(count(s, S::hidden), 3u);
    expect_nothing_derivable(g.t, s);
}

TEST(SmallCounts, ATotalUnderFiveIsSuppressedAndSoIsWhatWouldGiveItAway) {
    // Two rows: the first has 3 cases in all (its cells too are small); the
    // grand total and the second row's total would give the 3 away.
    grid g({{1, 2}, {20, 30}});
    auto s = suppress_small_counts(g.t);
    EXPECT_EQ(s[g.row_total[0]], S::small);
    EXPECT_EQ(s[g.cell[0][0]], S::small);
    EXPECT_EQ(s[g.cell[0][1]], S::small);
    EXPECT_NE(s[g.row_total[1]], S::shown);  // 3 = grand - 50 otherwise
    expect_nothing_derivable(g.t, s);
}

TEST(SmallCounts, AHiddenTotalWithAllItsPartsShownHidesAPart) {
    // A funnel stage: accepted 12 = done 9 + not done 3. The 3 is small;
    // 9 hides with it; nothing more is needed.
    count_table t;
    auto accepted = t.add(12), done = t.add(9), open = t.add(3);
    t.add_sum(accepted, {done, open});
    auto s = suppress_small_counts(t);
    EXPECT_EQ(s, (std::vector<S>{S::shown, S::hidden, S::small}));
    // A total hidden by another sum, its parts all shown: a part hides too.
    count_table u;
    auto whole = u.add(30), a = u.add(10), b = u.add(20), other = u.add(2), top = u.add(32);
    u.add_sum(whole, {a, b});
    u.add_sum(top, {whole, other});
    auto v = suppress_small_counts(u);
    EXPECT_EQ(v[other], S::small);
    EXPECT_EQ(v[whole], S::hidden);
    EXPECT_EQ(v[a], S::hidden);
    EXPECT_EQ(v[b], S::shown);
    expect_nothing_derivable(u, v);
}

TEST(SmallCounts, SumsTakenTogetherGiveNothingAwayEither) {
    // Two blocks of small cells joined by one small cell (row 1, column 2):
    // every row and column has two hidden cells or more, yet rows 0 and 1
    // minus columns 0 and 1 leave that cell alone, computable. The last
    // pass hides more until nothing follows.
    grid g({{1, 1, 30, 40}, {1, 1, 2, 60}, {70, 80, 2, 2}, {90, 95, 2, 2}});
    std::vector<S> primary(g.t.values().size(), S::shown);
    for (std::size_t i = 0; i < primary.size(); ++i)
        if (g.t.values()[i] < suppress_below) primary[i] = S::small;
    EXPECT_TRUE(single_relation_leaks(g.t, primary).empty());
    EXPECT_EQ(derivable_cells(g.t, primary), std::vector<std::size_t>{g.cell[1][2]});
    auto s = suppress_small_counts(g.t);
    EXPECT_GE(count(s, S::hidden), 1u);
    expect_nothing_derivable(g.t, s);
}

TEST(SmallCounts, NothingIsDerivableInManyTables) {
    // A deterministic spread of tables like a dashboard's: sparse weeks,
    // zero cells, a few big ones.
    unsigned seed = 12345;
    auto next = [&] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) & 0x7fff;
    };
    for (int round = 0; round < 300; ++round) {
        const std::size_t rows = 1 + next() % 8, cols = 1 + next() % 6;
        std::vector<std::vector<long long>> v(rows, std::vector<long long>(cols));
        for (auto& row : v)
            for (auto& x : row) {
                const unsigned k = next() % 10;
                x = k < 3 ? 0 : k < 6 ? next() % 5 : k < 9 ? 5 + next() % 20 : 50 + next() % 200;
            }
        grid g(v);
        auto s = suppress_small_counts(g.t);
        SCOPED_TRACE("round " + std::to_string(round));
        expect_nothing_derivable(g.t, s);
    }
}

TEST(SmallCounts, ALargeTableWithoutSmallCountsIsShownWhole) {
    grid g({{10, 20}, {30, 40}});
    auto s = suppress_small_counts(g.t);
    EXPECT_EQ(count(s, S::shown), s.size());
}

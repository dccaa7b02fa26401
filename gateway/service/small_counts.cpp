#include "service/small_counts.hpp"

#include <cmath>
#include <optional>

namespace gw::service {
namespace {

bool is_shown(const std::vector<cell_state>& s, std::size_t i) {
    return s[i] == cell_state::shown;
}

// The shown part of `sum` with the smallest value (the first on a tie), or
// its total when no part is shown; nullopt when nothing of it is shown.
std::optional<std::size_t> cheapest_shown(const count_table& t, const count_table::sum& sum,
                                          const std::vector<cell_state>& s) {
    std::optional<std::size_t> best;
    for (std::size_t p : sum.parts)
        if (is_shown(s, p) && (!best || t.values()[p] < t.values()[*best])) best = p;
    if (!best && is_shown(s, sum.total)) best = sum.total;
    return best;
}

// The rule of thumb: a sum with exactly one hidden member gives it away.
// Returns true when it hid anything.
bool complete_sums(const count_table& t, std::vector<cell_state>& s) {
    bool any = false;
    for (bool changed = true; changed;) {
        changed = false;
        for (const auto& sum : t.sums()) {
            std::size_t hidden = is_shown(s, sum.total) ? 0 : 1;
            for (std::size_t p : sum.parts) hidden += is_shown(s, p) ? 0 : 1;
            if (hidden != 1) continue;
            if (auto next = cheapest_shown(t, sum, s)) {
                s[*next] = cell_state::hidden;
                changed = any = true;
            }
        }
    }
    return any;
}

}  // namespace

std::size_t count_table::add(long long value) {
    values_.push_back(value);
    return values_.size() - 1;
}

void count_table::add_sum(std::size_t total, std::vector<std::size_t> parts) {
    if (!parts.empty()) sums_.push_back({total, std::move(parts)});
}

std::vector<std::size_t> derivable_cells(const count_table& t,
                                         const std::vector<cell_state>& states) {
    // Unknowns: the hidden cells. Each sum is one equation over them
    // (+1 for a hidden total, -1 for each hidden part; the shown members are
    // known). A hidden cell is determined exactly when its unit vector is
    // in the equations' row space, i.e. when the reduced row echelon form
    // has a row that is that unit vector. Coefficients are small integers
    // and tables small: doubles with a tolerance are exact enough.
    std::vector<std::size_t> unknown;
    std::vector<long> column(t.values().size(), -1);
    for (std::size_t i = 0; i < states.size(); ++i)
        if (!is_shown(states, i)) {
            column[i] = static_cast<long>(unknown.size());
            unknown.push_back(i);
        }
    const std::size_t n = unknown.size();
    std::vector<std::vector<double>> rows;
    for (const auto& sum : t.sums()) {
        std::vector<double> row(n, 0.0);
        bool any = false;
        if (column[sum.total] >= 0) row[column[sum.total]] += 1, any = true;
        for (std::size_t p : sum.parts)
            if (column[p] >= 0) row[column[p]] -= 1, any = true;
        if (any) rows.push_back(std::move(row));
    }
    constexpr double eps = 1e-9;
    std::size_t rank = 0;
    std::vector<std::size_t> pivot_of_row;
    for (std::size_t c = 0; c < n && rank < rows.size(); ++c) {
        std::size_t pivot = rank;
        for (std::size_t r = rank + 1; r < rows.size(); ++r)
            if (std::fabs(rows[r][c]) > std::fabs(rows[pivot][c])) pivot = r;
        if (std::fabs(rows[pivot][c]) < eps) continue;
        std::swap(rows[pivot], rows[rank]);
        const double lead = rows[rank][c];
        for (double& v : rows[rank]) v /= lead;
        for (std::size_t r = 0; r < rows.size(); ++r) {
            if (r == rank || std::fabs(rows[r][c]) < eps) continue;
            const double f = rows[r][c];
            for (std::size_t k = 0; k < n; ++k) rows[r][k] -= f * rows[rank][k];
        }
        pivot_of_row.push_back(c);
        ++rank;
    }
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < rank; ++r) {
        bool unit = true;
        for (std::size_t k = 0; k < n && unit; ++k)
            if (k != pivot_of_row[r] && std::fabs(rows[r][k]) > eps) unit = false;
        if (unit) out.push_back(unknown[pivot_of_row[r]]);
    }
    return out;
}

std::vector<cell_state> suppress_small_counts(const count_table& t) {
    std::vector<cell_state> s(t.values().size(), cell_state::shown);
    for (std::size_t i = 0; i < s.size(); ++i)
        if (t.values()[i] < suppress_below) s[i] = cell_state::small;
    complete_sums(t, s);
    // Sums taken together: while a hidden cell still follows from them,
    // hide the cheapest shown member of a sum it is in, and start over.
    for (;;) {
        auto given_away = derivable_cells(t, s);
        if (given_away.empty()) break;
        std::optional<std::size_t> next;
        for (std::size_t d : given_away) {
            for (const auto& sum : t.sums()) {
                bool has_d = sum.total == d;
                for (std::size_t p : sum.parts) has_d = has_d || p == d;
                if (!has_d) continue;
                auto c = cheapest_shown(t, sum, s);
                if (c && (!next || t.values()[*c] < t.values()[*next])) next = c;
            }
            if (next) break;
        }
        if (!next) break;  // nothing shown is left to hide
        s[*next] = cell_state::hidden;
        complete_sums(t, s);
    }
    return s;
}

}  // namespace gw::service

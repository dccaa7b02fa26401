#pragma once
// Small-count suppression for anything the programme publishes (the
// dashboard, its CSV): pure, no store, no I/O. A table is a list of counts
// and the sums that tie them together (a row's cells add up to the row
// total, a column's to the column total, the totals to the grand total, a
// funnel stage to its sub-stages). Every count under 5 (totals included) is
// suppressed; then, as long as some sum has exactly one hidden member
// (total or part), the smallest other shown part of it is hidden too
// (complementary suppression), so total minus the shown parts gives no
// hidden count away. A last pass solves all the sums together and hides
// more while any hidden count still follows from the shown ones (two sums
// combined can give away what neither gives alone). Only equalities are
// solved, not the bounds counts have (>= 0): hidden cells whose sum is
// known to be 0 are known to be 0 each, which tells of no one.
#include <cstddef>
#include <vector>

namespace gw::service {

// Counts below this are never shown.
inline constexpr long long suppress_below = 5;

enum class cell_state {
    shown,
    small,   // under suppress_below: published as "<5"
    hidden,  // 5 or more, hidden so that a small one cannot be worked out
};

class count_table {
  public:
    struct sum {
        std::size_t total;
        std::vector<std::size_t> parts;
    };

    // A new cell holding `value`; returns its index.
    std::size_t add(long long value);
    // Declares values[total] == sum of values[parts] (checked by the caller's
    // arithmetic, not here). A sum without parts is ignored.
    void add_sum(std::size_t total, std::vector<std::size_t> parts);

    const std::vector<long long>& values() const { return values_; }
    const std::vector<sum>& sums() const { return sums_; }

  private:
    std::vector<long long> values_;
    std::vector<sum> sums_;
};

// The state of every cell of `t` (same indexes).
std::vector<cell_state> suppress_small_counts(const count_table& t);

// Hidden cells (small or hidden) whose value follows exactly from the shown
// cells through the sums of `t`, all sums solved together. Empty after
// suppress_small_counts; tests use it to prove so.
std::vector<std::size_t> derivable_cells(const count_table& t,
                                         const std::vector<cell_state>& states);

}  // namespace gw::service

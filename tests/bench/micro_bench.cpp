// Micro-benchmarks (Google Benchmark) for the menu engine: one hop
// (input -> next page rendered) and laying out the shipped menus (screen
// fitting); sealing; the store's group commit (cases per fsync at 1, 8
// and 64 waiting writers). Run by hand or by tests/bench/run.sh; never a timed test.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "app/gateway.hpp"
#include "common/sealing.hpp"
#include "menu/loader.hpp"
#include "store/store.hpp"
#include "support/case_builder.hpp"

namespace {

gw::app::config shipped() {
    return gw::app::load_config(std::string(GW_SOURCE_DIR) + "/config/gateway.yaml").value;
}

void engine_hop(benchmark::State& state) {
    auto bundle = gw::app::load_menus(shipped());
    const gw::menu::engine& eng = *bundle.ussd_engine;
    const std::vector<std::string> path = {"3", "4", "3", "2", "1", "2"};
    std::size_t i = 0;
    gw::menu::session_state s;
    eng.start(s, "ru");
    for (auto _ : state) {
        if (i == path.size()) {
            eng.start(s, "ru");
            i = 0;
        }
        auto step = eng.input(s, path[i++]);
        benchmark::DoNotOptimize(step.out.text);
    }
}
BENCHMARK(engine_hop);

void screen_fitting(benchmark::State& state) {
    auto cfg = shipped();
    auto loaded = gw::menu::load_menu(cfg.menu_directory);
    auto source = std::make_shared<const gw::menu::menu>(std::move(loaded.value));
    for (auto _ : state) {
        gw::menu::laid_out_menu layout(source, gw::app::ussd_profile(cfg.ussd));
        benchmark::DoNotOptimize(layout.diagnostics());
    }
    state.counters["screens"] =
        static_cast<double>(source->screens.size() * source->languages.size());
}
BENCHMARK(screen_fitting)->Unit(benchmark::kMillisecond);

}  // namespace

// Sealing a typical session state (what every session write now costs),
// opening it again, and the keyed hash of a number (every look-up).
static void seal_session_state(benchmark::State& state) {
    auto sealer = *gw::data_sealer::from_hex(gw::data_sealer::generate_hex_key());
    const std::string plain(350, 'x');
    for (auto _ : state) benchmark::DoNotOptimize(sealer.open(sealer.seal(plain)));
}
BENCHMARK(seal_session_state);

static void phone_lookup_hash(benchmark::State& state) {
    auto sealer = *gw::data_sealer::from_hex(gw::data_sealer::generate_hex_key());
    for (auto _ : state) benchmark::DoNotOptimize(sealer.lookup_hash("+996555123456"));
}
BENCHMARK(phone_lookup_hash);

// Group commit: `threads` callers each storing cases as fast as the store
// takes them. Cases per fsync shows how many cases one commit carries.
namespace {
std::unique_ptr<gw::store::store> bench_store;
std::string bench_dir;
}  // namespace

static void group_commit_cases(benchmark::State& state) {
    if (state.thread_index() == 0) {
        char tmpl[] = "/tmp/gw-group-commit-XXXXXX";
        bench_dir = mkdtemp(tmpl);
        auto sealer = *gw::data_sealer::from_hex(gw::data_sealer::generate_hex_key());
        bench_store = gw::store::open_sqlite_store(bench_dir + "/g.db", sealer);
    }
    long long n = 0;
    for (auto _ : state) {
        auto c = gw::test::a_case("bench:" + std::to_string(state.thread_index()) + ":" +
                                  std::to_string(n++))
                     .phone("+996555123456")
                     .language("ky");
        benchmark::DoNotOptimize(c.store_in(*bench_store, 1700000000));
    }
    if (state.thread_index() == 0) {
        const auto stats = bench_store->commit_counts();
        state.counters["fsyncs"] = static_cast<double>(stats.durable_commits);
        state.counters["cases_per_fsync"] =
            stats.durable_commits ? static_cast<double>(stats.writes) / stats.durable_commits : 0;
        bench_store.reset();
        std::filesystem::remove_all(bench_dir);
    }
}
BENCHMARK(group_commit_cases)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

BENCHMARK_MAIN();

// Restore drill: the real gateway takes USSD cases from several phones at
// once while `hotline-gateway backup` copies its database (one page per
// step, so the copy takes a while and the traffic goes on through it).
// The copy is private (0600) and sound, holds every case whose reference
// reached a phone before the backup began, with her number as she sent it,
// opens with the gateway's key and no other, and is restored as documented
// (stop, copy into place, start): the gateway serves from it.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "store/store.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct run_result {
    int exit_code;
    std::string output;
};

run_result run(const std::vector<std::string>& args) {
    std::string cmd = GW_GATEWAY_BINARY;
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " 2>&1 </dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 4096> buf;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
        out.append(buf.data(), n);
    int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

struct acknowledged_case {
    std::string phone;
    clock_type::time_point at;  // when the END quoting it reached the phone
};

struct acknowledged {
    std::mutex m;
    std::map<std::string, acknowledged_case> cases;  // by reference
};

// A legal-aid referral as in the crash loop: Russian, lawyer/family, need a
// lawyer, oblast and situation at random, call me, consent at random; the
// last answer makes the case and its END quotes the reference.
void ussd_case(unsigned short port, const std::string& session, const std::string& phone,
               std::mt19937& random, acknowledged& ack) {
    auto pick = [&](int n) {
        return std::to_string(std::uniform_int_distribution<>(1, n)(random));
    };
    const std::vector<std::string> inputs = {"2", "2", "1", pick(5), pick(5), "1", pick(2)};
    std::string text;
    for (std::size_t hop = 0; hop <= inputs.size(); ++hop) {
        if (hop > 0) text += (hop > 1 ? "*" : "") + inputs[hop - 1];
        auto r = test::post_form(
            port, test::ussd_path,
            test::form({{"sessionId", session}, {"phoneNumber", phone}, {"text", text}}));
        if (r.status != 200) return;
        if (r.body.rfind("END ", 0) == 0) {
            std::smatch m;
            if (std::regex_search(r.body, m, std::regex("R-[0-9]{7}"))) {
                const auto at = clock_type::now();
                std::lock_guard lock(ack.m);
                ack.cases[m.str()] = {phone, at};
            }
            return;
        }
    }
}

}  // namespace

TEST(BackupRestoreDrill, CasesAcknowledgedBeforeTheBackupAreInItAndItRestores) {
    test::temp_dir dir;
    const auto config = test::write_test_config(dir);
    const std::string backup = dir.file("backups/gateway-backup.db");
    std::filesystem::create_directories(dir.path() / "backups");

    acknowledged ack;
    std::atomic<bool> stop{false};
    std::atomic<int> cases_during_backup{0};
    std::atomic<bool> backing_up{false};
    auto gw = std::make_unique<test::gateway_process>(config, dir.file("gateway.log"));
    const unsigned short port = gw->port();
    std::vector<std::thread> drivers;
    for (int d = 0; d < 3; ++d)
        drivers.emplace_back([&, d] {
            std::mt19937 random(20261129 + d);
            for (int i = 0; !stop; ++i) {
                // A first-time caller each time: her own number, her own session.
                const std::string phone = "+99655" + std::to_string(1000000 + d * 100000 + i);
                try {
                    ussd_case(port, "drill-" + std::to_string(d) + "-" + std::to_string(i), phone,
                              random, ack);
                } catch (const std::exception&) {
                }
                if (backing_up) ++cases_during_backup;
            }
        });
    auto count = [&] {
        std::lock_guard lock(ack.m);
        return ack.cases.size();
    };
    for (auto until = clock_type::now() + 20s; count() < 30 && clock_type::now() < until;)
        std::this_thread::sleep_for(10ms);
    ASSERT_GE(count(), 30u) << "the traffic did not get going";

    const auto backup_started = clock_type::now();
    backing_up = true;
    const auto r = run(
        {"backup", "--config", config, "--to", backup, "--step-pages", "1", "--pause-ms", "10"});
    backing_up = false;
    const auto backup_ended = clock_type::now();
    std::this_thread::sleep_for(200ms);  // and the traffic goes on after it
    stop = true;
    for (auto& t : drivers) t.join();
    EXPECT_EQ(gw->terminate(), 0);
    gw.reset();

    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("integrity ok"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("sealed with the configured data key"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("the data key is not in the backup"), std::string::npos) << r.output;
    EXPECT_GT(cases_during_backup.load(), 0) << "no case was made while the backup ran";

    struct stat st;
    ASSERT_EQ(::stat(backup.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Only the copy: no key file, no journal beside it.
    for (const auto& e : std::filesystem::directory_iterator(dir.path() / "backups"))
        EXPECT_EQ(e.path().filename(), "gateway-backup.db");
    {
        SQLite::Database raw(backup);
        EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
        EXPECT_EQ(raw.execAndGet("PRAGMA user_version").getInt(), store::sqlite_schema_version());
    }

    // Every case she was told about before the backup began is in it, and
    // reads back with her number.
    std::size_t before = 0, during = 0, in_backup_after_start = 0;
    std::size_t backup_cases = 0, live_cases = 0;
    {
        auto copy = store::open_sqlite_store(backup, test::test_sealer());
        backup_cases = copy->count_cases();
        for (const auto& [reference, c] : ack.cases) {
            auto found = copy->find_case(reference);
            if (c.at < backup_started) {
                ++before;
                ASSERT_TRUE(found) << reference << " was acknowledged before the backup began";
                EXPECT_EQ(found->phone, c.phone) << reference;
                EXPECT_EQ(found->topic, "legal_aid") << reference;
                EXPECT_NE(found->transcript, "") << reference;
            } else {
                if (c.at < backup_ended) ++during;
                if (found) ++in_backup_after_start;
            }
        }
        auto live = store::open_sqlite_store(dir.file("gateway.db"), test::test_sealer());
        live_cases = live->count_cases();
    }
    EXPECT_GE(before, 30u);
    EXPECT_GT(live_cases, backup_cases) << "nothing was written after the snapshot";
    // The copy is sealed: another key opens nothing.
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    EXPECT_THROW(store::open_sqlite_store(backup, other), store::store_error);

    // Never over an existing file.
    const auto again = run({"backup", "--config", config, "--to", backup});
    EXPECT_NE(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("exists"), std::string::npos) << again.output;

    // The restore, as documented: gateway stopped, the copy into place
    // (the old database's -wal and -shm gone with it), started again.
    for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(dir.file(std::string("gateway.db") + suffix));
    std::filesystem::copy_file(backup, dir.file("gateway.db"));
    {
        test::gateway_process restored(config, dir.file("gateway.log"));
        EXPECT_EQ(test::get(restored.port(), "/healthz").status, 200);
        std::mt19937 random(7);
        ussd_case(restored.port(), "after-restore", "+996559999999", random, ack);
        EXPECT_EQ(restored.terminate(), 0);
    }
    {
        auto db = store::open_sqlite_store(dir.file("gateway.db"), test::test_sealer());
        EXPECT_EQ(db->count_cases(), backup_cases + 1);
        for (const auto& [reference, c] : ack.cases)
            if (c.at < backup_started) EXPECT_TRUE(db->find_case(reference)) << reference;
    }
    std::cout << "restore drill: " << before << " cases acknowledged before the backup, all in it; "
              << during << " acknowledged while it ran (" << in_backup_after_start
              << " of those after its start in the copy); copy " << backup_cases
              << " cases, live database " << live_cases << "\n";
}

TEST(BackupRestoreDrill, NeverBesideTheKeyFile) {
    test::temp_dir dir;
    const std::string key = dir.write("keys/gateway.key", std::string(test::test_data_key) + "\n");
    const auto config = test::write_test_config(dir, "privacy:\n  data_key_file: " + key + "\n");
    { store::open_sqlite_store(dir.file("gateway.db"), test::test_sealer()); }
    auto onto_key = run({"backup", "--config", config, "--to", key});
    EXPECT_NE(onto_key.exit_code, 0);
    EXPECT_NE(onto_key.output.find("is the data key file"), std::string::npos) << onto_key.output;
    auto beside_key = run({"backup", "--config", config, "--to", dir.file("keys/backup.db")});
    EXPECT_NE(beside_key.exit_code, 0);
    EXPECT_NE(beside_key.output.find("folder of the data key file"), std::string::npos)
        << beside_key.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("keys/backup.db")));
    EXPECT_EQ(std::filesystem::file_size(key), 65u);
    auto elsewhere = run({"backup", "--config", config, "--to", dir.file("backup.db")});
    EXPECT_EQ(elsewhere.exit_code, 0) << elsewhere.output;
    EXPECT_NE(elsewhere.output.find("sealed with the configured data key"), std::string::npos)
        << elsewhere.output;
}

TEST(BackupRestoreDrill, BothCommandsSayTheyAreForSQLiteWhenTheStoreIsPostgres) {
    test::temp_dir dir;
    auto config = test::write_test_config(dir);
    std::string yaml;
    {
        std::ifstream in(config);
        yaml.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string sqlite_line = "  sqlite_path: " + dir.file("gateway.db") + "\n";
    ASSERT_NE(yaml.find(sqlite_line), std::string::npos);
    yaml.replace(yaml.find(sqlite_line), sqlite_line.size(),
                 sqlite_line + "  postgres:\n    url: postgresql://127.0.0.1:1/none\n");
    config = dir.write("gateway.yaml", yaml);
    auto backup = run({"backup", "--config", config, "--to", dir.file("copy.db")});
    EXPECT_NE(backup.exit_code, 0);
    EXPECT_NE(backup.output.find("pg_dump"), std::string::npos) << backup.output;
    EXPECT_FALSE(std::filesystem::exists(dir.file("copy.db")));
    const auto key = dir.write("new.key", std::string(64, 'a') + "\n");
    auto rotate = run({"rotate-key", "--config", config, "--new-key-file", key});
    EXPECT_NE(rotate.exit_code, 0);
    EXPECT_NE(rotate.output.find("SQLite databases only"), std::string::npos) << rotate.output;
}

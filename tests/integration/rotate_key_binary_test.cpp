// `hotline-gateway rotate-key` as an operator runs it: refused while the
// gateway serves; killed with SIGKILL half-way, it leaves a database no
// gateway starts on, and running it again finishes the rotation.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>

#include "store/store.hpp"
#include "support/case_builder.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;
using namespace std::chrono_literals;

namespace {

const char* const new_hex = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

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

std::string phone_of(int i) {
    return "+99655" + std::to_string(1000000 + i);
}

}  // namespace

TEST(RotateKeyBinary, RefusedWhileTheGatewayServes) {
    test::temp_dir dir;
    const auto config = test::write_test_config(dir);
    const auto key = dir.write("new.key", std::string(new_hex) + "\n");
    test::gateway_process gw(config, dir.file("gateway.log"));
    auto r = run({"rotate-key", "--config", config, "--new-key-file", key});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("is the gateway running?"), std::string::npos) << r.output;
    EXPECT_EQ(gw.terminate(), 0);
    // Nothing was begun: the gateway's key still opens it.
    EXPECT_NO_THROW(store::open_sqlite_store(dir.file("gateway.db"), test::test_sealer()));
}

TEST(RotateKeyBinary, KilledHalfWayThenRunAgainFinishes) {
    test::temp_dir dir;
    const auto config = test::write_test_config(dir);
    const auto key = dir.write("new.key", std::string(new_hex) + "\n");
    const std::string path = dir.file("gateway.db");
    const int sessions = 20000;
    std::vector<std::string> references;
    {
        auto db = store::open_sqlite_store(path, test::test_sealer());
        std::vector<store::session_record> batch;
        for (int i = 0; i < sessions; ++i)
            batch.push_back({"africastalking:s" + std::to_string(i), phone_of(i), "ussd",
                             "{\"screen\":\"main\"}", gw::store::session_status::active, 100, 100});
        db->save_sessions(batch);
        for (int i = 0; i < 20; ++i) {
            references.push_back(test::a_case("o" + std::to_string(i))
                                     .phone(phone_of(i))
                                     .language("ky")
                                     .oblast("")
                                     .details("her words " + std::to_string(i))
                                     .session_id("africastalking:s" + std::to_string(i))
                                     .store_in(*db, 100)
                                     .reference);
        }
    }

    // Killed as the power going would: no clean-up of any kind.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::execl(GW_GATEWAY_BINARY, GW_GATEWAY_BINARY, "rotate-key", "--config", config.c_str(),
                "--new-key-file", key.c_str(), "--batch-rows", "20", nullptr);
        ::_exit(127);
    }
    std::this_thread::sleep_for(400ms);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    // Where the kill landed: before the rotation began, half-way, or after.
    std::string target;
    {
        SQLite::Database raw(path);
        SQLite::Statement st(raw, "SELECT value FROM meta WHERE key = 'rotation_target_key_id'");
        if (st.executeStep()) target = st.getColumn(0).getString();
    }
    const bool half_way = !target.empty();
    if (half_way) {
        EXPECT_EQ(target, data_sealer::from_hex(new_hex)->key_id());
        // Half-rotated: the gateway refuses to start on it.
        try {
            test::gateway_process gw(config, dir.file("gateway.log"));
            ADD_FAILURE() << "the gateway started on a half-rotated database";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("rotation was started and not finished"),
                      std::string::npos)
                << e.what();
        }
    } else {
        std::cout << "the kill did not land inside the rotation (this run proves less)\n";
    }

    auto again = run({"rotate-key", "--config", config, "--new-key-file", key});
    ASSERT_EQ(again.exit_code, 0) << again.output;
    if (half_way)
        EXPECT_NE(again.output.find("continued the unfinished rotation"), std::string::npos)
            << again.output;
    EXPECT_NE(again.output.find("opens with the new key (20 cases)"), std::string::npos)
        << again.output;

    const auto next = *data_sealer::from_hex(new_hex);
    {
        auto db = store::open_sqlite_store(path, next);
        for (int i = 0; i < 20; ++i) {
            auto c = db->find_case(references[i]);
            ASSERT_TRUE(c);
            EXPECT_EQ(c->phone, phone_of(i));
            EXPECT_EQ(c->details, "her words " + std::to_string(i));
            auto s = db->case_session(c->id);
            ASSERT_TRUE(s);
            EXPECT_EQ(s->phone, phone_of(i));
        }
        for (int i = 0; i < sessions; i += 997) {
            auto s = db->find_session("africastalking:s" + std::to_string(i));
            ASSERT_TRUE(s) << i;
            EXPECT_EQ(s->phone, phone_of(i));
            EXPECT_EQ(db->find_resumable_session(phone_of(i), 0, "x")->id,
                      "africastalking:s" + std::to_string(i));
        }
    }
    EXPECT_THROW(store::open_sqlite_store(path, test::test_sealer()), store::store_error);
    // The config still names the old key: the gateway refuses to start
    // until the new one is put in its place.
    EXPECT_THROW(test::gateway_process(config, dir.file("gateway.log")), std::runtime_error);
    std::cout << (half_way ? "killed half-way, then: " : "") << again.output;
}

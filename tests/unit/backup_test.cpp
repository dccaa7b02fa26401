// The online backup of the SQLite store: a private, checked copy that opens
// with the database's key and no other, never written over anything.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "store/store.hpp"
#include "support/case_builder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_sealer.hpp"

using namespace gw;

namespace {

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

store::case_record add_case(store::store& db, const std::string& origin, const std::string& phone) {
    return test::a_case(origin)
        .phone(phone)
        .oblast("")
        .details("words of " + origin)
        .store_in(db, 100);
}

}  // namespace

TEST(BackupStore, PrivateCheckedCopyThatOpensOnlyWithItsKey) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db"), copy = dir.file("copy.db");
    std::string reference;
    {
        auto db = store::open_sqlite_store(path, test::test_sealer());
        reference = add_case(*db, "o1", "+996555123456").reference;
        // The gateway stays open: the copy is taken from a live database.
        auto r = store::backup_sqlite_store(path, copy, {2, 0});
        EXPECT_GT(r.pages, 2);
        EXPECT_EQ(r.schema_version, store::sqlite_schema_version());
        EXPECT_EQ(r.data_key_id, test::test_sealer().key_id());
        EXPECT_FALSE(r.rotation_unfinished);
        EXPECT_EQ(r.bytes, static_cast<long long>(std::filesystem::file_size(copy)));
    }
    struct stat st;
    ASSERT_EQ(::stat(copy.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(std::filesystem::exists(copy + "-journal"));
    EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
    EXPECT_EQ(file_bytes(copy).find("+996555123456"), std::string::npos);
    {
        SQLite::Database raw(copy);
        EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
    }
    {
        auto restored = store::open_sqlite_store(copy, test::test_sealer());
        auto c = restored->find_case(reference);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->phone, "+996555123456");
        EXPECT_EQ(c->details, "words of o1");
    }
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    EXPECT_THROW(store::open_sqlite_store(copy, other), store::store_error);
}

TEST(BackupStore, NeverOverwritesAFile) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    { store::open_sqlite_store(path, test::test_sealer()); }
    const std::string taken = dir.write("taken.db", "something precious");
    EXPECT_THROW(store::backup_sqlite_store(path, taken), store::store_error);
    EXPECT_EQ(file_bytes(taken), "something precious");
    EXPECT_THROW(store::backup_sqlite_store(path, path), store::store_error);
    // A stale journal under the new name would be replayed into the copy.
    dir.write("fresh.db-journal", "stale");
    EXPECT_THROW(store::backup_sqlite_store(path, dir.file("fresh.db")), store::store_error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("fresh.db")));
    EXPECT_EQ(file_bytes(dir.file("fresh.db-journal")), "stale");
    // Not a gateway database: nothing is left behind.
    SQLite::Database(dir.file("other.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE)
        .exec("CREATE TABLE t (x)");
    EXPECT_THROW(store::backup_sqlite_store(dir.file("other.db"), dir.file("o.db")),
                 store::store_error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("o.db")));
}

TEST(BackupStore, OneSnapshotWhileWritesGoOn) {
    // One page per step and a pause between steps: the writer commits many
    // times during the copy, which must still be one consistent snapshot.
    test::temp_dir dir;
    const std::string path = dir.file("g.db"), copy = dir.file("copy.db");
    auto db = store::open_sqlite_store(path, test::test_sealer());
    for (int i = 0; i < 50; ++i) add_case(*db, "before" + std::to_string(i), "+996555000001");
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        for (int i = 0; !stop; ++i) {
            add_case(*db, "during" + std::to_string(i), "+996555000002");
            ++written;
        }
    });
    auto r = store::backup_sqlite_store(path, copy, {1, 5});
    stop = true;
    writer.join();
    EXPECT_GT(written.load(), 5) << "no writes overlapped the copy";
    auto restored = store::open_sqlite_store(copy, test::test_sealer());
    const std::size_t n = restored->count_cases();
    EXPECT_GE(n, 50u);
    // A snapshot: the cases it has are exactly the first n ever written.
    SQLite::Database raw(copy);
    EXPECT_EQ(raw.execAndGet("SELECT max(id) FROM cases").getInt64(), static_cast<long long>(n));
    std::cout << "backup: " << r.pages << " pages in one-page steps while " << written
              << " cases were written; the copy holds " << n << "\n";
}

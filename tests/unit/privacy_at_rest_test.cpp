// A woman's number must not be readable from the database file: every
// place it is stored is sealed, and look-ups go through a keyed hash.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "store/store.hpp"
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

bool any_file_contains(const test::temp_dir& dir, const std::string& needle) {
    for (const char* suffix : {"", "-wal", "-shm"})
        if (file_bytes(dir.file(std::string("g.db") + suffix)).find(needle) != std::string::npos)
            return true;
    return false;
}

}  // namespace

TEST(PrivacyAtRest, NoNumberOrFreeTextInTheFile) {
    test::temp_dir dir;
    const std::string phone = "+996555123456";
    {
        auto db = store::open_sqlite_store(dir.file("g.db"), test::test_sealer());
        db->set_subscriber_language(phone, "ky");
        db->set_no_sms("+79161234567", true);
        db->save_session({"sms:" + phone, phone, "sms", "{\"vars\":{\"details\":\"my words\"}}",
                          "active", 100, 100});
        store::new_case c;
        c.origin_key = "o1";
        c.phone = phone;
        c.channel = "ussd";
        c.language = "ky";
        c.topic = "urgent";
        c.details = "call me at 0555123456";
        c.session_id = "sms:" + phone;
        auto rec = db->create_case(c, 100);
        store::outbound_message m;
        m.channel = "kannel";
        m.recipient = phone;
        m.body = "Ваше обращение получено";
        m.purpose = "operator_reply";
        db->commit_inbound({"kannel", "m1", phone, "", 100}, nullptr, {m});
        db->add_case_note({0, rec.id, "aida", "she said 0555123456 is safe", 101},
                          {101, "operator:aida", "noted", rec.id, ""});

        // Everything reads back in clear through the store.
        EXPECT_EQ(db->subscriber_language(phone).value(), "ky");
        EXPECT_TRUE(db->no_sms("+79161234567"));
        EXPECT_EQ(db->find_session("sms:" + phone)->phone, phone);
        EXPECT_EQ(db->find_session("sms:" + phone)->id, "sms:" + phone);
        EXPECT_EQ(db->find_resumable_session(phone, 0, "other")->id, "sms:" + phone);
        auto back = db->find_case(rec.reference);
        EXPECT_EQ(back->phone, phone);
        EXPECT_EQ(back->details, "call me at 0555123456");
        EXPECT_EQ(db->case_session(rec.id)->state.find("my words") != std::string::npos, true);
        ASSERT_EQ(db->outbound_to(phone).size(), 1u);
        EXPECT_EQ(db->outbound_to(phone)[0].recipient, phone);
        EXPECT_EQ(db->find_inbound("kannel", "m1")->phone, phone);
        EXPECT_EQ(db->case_notes(rec.id).at(0).text, "she said 0555123456 is safe");
    }
    for (const char* needle : {"996555123456", "555123456", "9161234567", "my words", "she said"})
        EXPECT_FALSE(any_file_contains(dir, needle)) << needle << " is readable in the file";
}

TEST(PrivacyAtRest, AnotherKeyIsRefused) {
    test::temp_dir dir;
    { store::open_sqlite_store(dir.file("g.db"), test::test_sealer()); }
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    try {
        store::open_sqlite_store(dir.file("g.db"), other);
        FAIL() << "a database sealed with another key was opened";
    } catch (const store::store_error& e) {
        EXPECT_NE(std::string(e.what()).find("data key does not match"), std::string::npos);
    }
}

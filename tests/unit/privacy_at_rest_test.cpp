// A woman's number must not be readable from the database file: every
// place it is stored is sealed, and look-ups go through a keyed hash.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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
                          gw::store::session_status::active, 100, 100});
        auto rec = test::a_case("o1")
                       .phone(phone)
                       .language("ky")
                       .topic("urgent")
                       .oblast("")
                       .details("call me at 0555123456")
                       .session_id("sms:" + phone)
                       .store_in(*db, 100);
        store::outbound_message m;
        m.channel = "kannel";
        m.recipient = phone;
        m.body = "Ваше обращение получено";
        m.purpose = "operator_reply";
        db->commit_inbound({"kannel", "m1", phone, "", 100}, nullptr, {m});
        db->add_case_note({0, rec.id, "aida", "she said 0555123456 is safe", 101},
                          {101, "operator:aida", "noted", rec.id, ""});
        // Partners' and operators' free text: a revocation reason.
        store::referral_record ref;
        ref.case_id = rec.id;
        ref.partner = "legal_aid_osh";
        ref.status = store::referral_status::new_;
        ref.created_at = 102;
        ref =
            db->create_referral(ref, {0, "system", "created", "to legal_aid_osh", 102}, {}, false);
        ASSERT_TRUE(db->transition_referral(
            ref.id, {store::referral_status::new_}, store::referral_status::revoked,
            {ref.id, "operator:aida", "revoked", "husband reads mail", 103}, {},
            "husband reads mail", ""));
        EXPECT_EQ(db->find_referral(ref.id)->reason, "husband reads mail");
        EXPECT_EQ(db->referral_events(ref.id).back().detail, "husband reads mail");
        bool in_trail = false;
        for (const auto& a : db->audit_trail(rec.id, 50))
            in_trail = in_trail || a.detail == "husband reads mail";
        EXPECT_TRUE(in_trail);

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
    for (const char* needle :
         {"996555123456", "555123456", "9161234567", "my words", "she said", "husband reads"})
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

TEST(PrivacyAtRest, RowsFromBeforeSealingAreSealedByTheMigration) {
    // A database as the gateway left it before schema 4: numbers in clear.
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    store::create_legacy_sqlite_store(path, 3);
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec(
            "INSERT INTO subscribers (phone, language, created_at, updated_at, no_sms) VALUES "
            "('+996555123456', 'ky', 1, 1, 1)");
        db.exec(
            "INSERT INTO sessions VALUES ('africastalking:S1', '+996555123456', 'ussd', "
            "'{\"language\":\"ky\",\"screen\":\"main\",\"page\":0,\"history\":[],\"vars\":{},"
            "\"finished\":false,\"fields\":{}}', 'active', 1, 2)");
        db.exec(
            "INSERT INTO cases (reference, origin_key, phone, channel, language, topic, details, "
            "consent, urgent, status, created_at) VALUES ('R-0000001', 'o1', '+996555123456', "
            "'ussd', 'ky', 'legal_aid', 'my words', 0, 0, 'new', 1)");
        db.exec("INSERT INTO inbound_messages VALUES ('kannel', 'm1', '+996555123456', '', 1)");
        db.exec(
            "INSERT INTO referrals (case_id, partner, status, reason, outcome, created_at, "
            "updated_at) VALUES (1, 'legal_aid_osh', 'declined', 'no lawyer free', '', 1, 1)");
        db.exec(
            "INSERT INTO referral_events (referral_id, actor, action, detail, at) VALUES (1, "
            "'partner:legal_aid_osh', 'declined', 'no lawyer free', 1)");
        db.exec(
            "INSERT INTO outbox (channel, recipient, body, purpose, status, next_attempt_at_ms, "
            "created_at, updated_at) VALUES ('kannel', '+996555123456', 'hi', 'menu_reply', "
            "'queued', 0, 1, 1)");
    }
    {
        auto s = store::open_sqlite_store(path, test::test_sealer());
        EXPECT_EQ(s->subscriber_language("+996555123456").value(), "ky");
        EXPECT_TRUE(s->no_sms("+996555123456"));
        auto session = s->find_session("africastalking:S1");
        ASSERT_TRUE(session);
        EXPECT_EQ(session->phone, "+996555123456");
        EXPECT_NE(session->state.find("\"screen\":\"main\""), std::string::npos);
        EXPECT_EQ(s->find_resumable_session("+996555123456", 0, "x")->id, "africastalking:S1");
        auto c = s->find_case("R-0000001");
        ASSERT_TRUE(c);
        EXPECT_EQ(c->phone, "+996555123456");
        EXPECT_EQ(c->details, "my words");
        EXPECT_EQ(s->find_inbound("kannel", "m1")->phone, "+996555123456");
        ASSERT_EQ(s->outbound_to("+996555123456").size(), 1u);
        EXPECT_EQ(s->find_referral(1)->reason, "no lawyer free");
        EXPECT_EQ(s->referral_events(1).at(0).detail, "no lawyer free");
    }
    for (const char* needle : {"996555123456", "my words", "no lawyer free"})
        EXPECT_FALSE(any_file_contains(dir, needle))
            << needle << " left in clear after the migration";
}

// Data key rotation: every sealed column and keyed hash moves to the new
// key, look-ups by number and session work afterwards, a rotation stopped
// anywhere goes on when run again, and the old key opens nothing after.
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

const std::string her = "+996555123456";        // a case, a USSD session, an SMS to her
const std::string writer = "+79161234567";      // wrote by SMS, then STOP
const std::string forgotten = "+996700111222";  // "no SMS", her number stored nowhere else

struct filled {
    std::string reference;         // her case
    std::string purged_reference;  // a case whose session retention purged
    long long case_id = 0;
    long long referral_id = 0;
};

// One row of every kind the store seals or hashes, and rows retention blanked.
filled fill(store::store& db) {
    filled f;
    // A session retention forgets (updated long ago), with a case that points to it.
    db.save_session({"africastalking:old", her, "ussd", "{\"screen\":\"old\"}",
                     gw::store::session_status::finished, 1, 1});
    db.save_session({"africastalking:S1", her, "ussd", "{\"vars\":{\"details\":\"my words\"}}",
                     gw::store::session_status::active, 100, 100, "ky"});
    db.save_session({"sms:" + writer, writer, "sms", "{\"screen\":\"sms_home\"}",
                     gw::store::session_status::active, 100, 100});

    auto rec = test::a_case("o1")
                   .phone(her)
                   .language("ky")
                   .oblast("")
                   .details("call me after six")
                   .transcript("main > legal_aid > call")
                   .session_id("africastalking:S1")
                   .store_in(db, 100);
    f.reference = rec.reference;
    f.case_id = rec.id;
    f.purged_reference = test::a_case("o2")
                             .phone(her)
                             .language("ky")
                             .oblast("")
                             .transcript("main > legal_aid > call")
                             .session_id("africastalking:old")
                             .store_in(db, 100)
                             .reference;

    store::outbound_message m;
    m.channel = "kannel";
    m.recipient = writer;
    m.body = "menu";
    m.purpose = "menu_reply";
    m.created_at = 100;
    db.commit_inbound({"kannel", "m1", writer, "", 100}, nullptr, {m});
    db.commit_inbound({"twilio", "m2", writer, "", 101}, nullptr, {});
    db.set_no_sms(writer, true);
    db.set_no_sms(forgotten, true);
    m.recipient = her;
    m.purpose = "notification";
    db.enqueue_outbound(m);

    db.add_case_note({0, rec.id, "aida", "she said the evening is safe", 101},
                     {101, "operator:aida", "noted", rec.id, ""});
    store::referral_record ref;
    ref.case_id = rec.id;
    ref.partner = "legal_aid_osh";
    ref.status = store::referral_status::new_;
    ref.created_at = 102;
    ref = db.create_referral(ref, {0, "system", "created", "to legal_aid_osh", 102}, {}, false);
    f.referral_id = ref.id;
    EXPECT_TRUE(db.transition_referral(
        ref.id, {store::referral_status::new_}, store::referral_status::declined,
        {ref.id, "partner:legal_aid_osh", "declined", "no lawyer free", 103}, {}, "no lawyer free",
        ""));
    store::case_update u;
    u.status = store::case_status::closed;
    u.outcome = "referred to the bar";
    EXPECT_TRUE(db.update_case(rec.id, u, {104, "operator:aida", "closed", rec.id, ""}, {}));
    // Only the old session is old enough to be forgotten.
    db.purge_personal_data(50, 200);
    return f;
}

// Everything reads back in clear through the store, and every look-up by
// number or session id finds its rows.
void expect_all_readable(store::store& db, const filled& f) {
    EXPECT_EQ(db.subscriber_language(her).value_or(""), "ky");
    EXPECT_TRUE(db.no_sms(writer));
    auto s = db.find_session("africastalking:S1");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->phone, her);
    EXPECT_NE(s->state.find("my words"), std::string::npos);
    EXPECT_EQ(db.find_session("sms:" + writer)->phone, writer);
    auto resumable = db.find_resumable_session(her, 0, "other");
    ASSERT_TRUE(resumable);
    EXPECT_EQ(resumable->id, "africastalking:S1");

    auto c = db.find_case(f.reference);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->phone, her);
    EXPECT_EQ(c->details, "call me after six");
    EXPECT_EQ(c->transcript, "main > legal_aid > call");
    EXPECT_EQ(c->outcome, "referred to the bar");
    auto session = db.case_session(f.case_id);
    ASSERT_TRUE(session);
    EXPECT_EQ(session->id, "africastalking:S1");
    // The purged session still belongs to its case, with nothing left in it.
    auto purged = db.find_case(f.purged_reference);
    ASSERT_TRUE(purged);
    EXPECT_EQ(purged->phone, her);
    auto purged_session = db.case_session(purged->id);
    ASSERT_TRUE(purged_session);
    EXPECT_EQ(purged_session->state, "");

    ASSERT_EQ(db.outbound_to(her).size(), 1u);
    EXPECT_EQ(db.outbound_to(her)[0].recipient, her);
    ASSERT_EQ(db.outbound_to(writer).size(), 1u);
    EXPECT_EQ(db.find_inbound("kannel", "m1")->phone, writer);
    EXPECT_EQ(db.find_inbound("twilio", "m2")->phone, writer);
    ASSERT_EQ(db.case_notes(f.case_id).size(), 1u);
    EXPECT_EQ(db.case_notes(f.case_id)[0].text, "she said the evening is safe");
    EXPECT_EQ(db.find_referral(f.referral_id)->reason, "no lawyer free");
    auto events = db.referral_events(f.referral_id);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events[0].detail, "to legal_aid_osh");
    EXPECT_EQ(events[1].detail, "no lawyer free");
}

const data_sealer& new_key() {
    static const data_sealer key =
        *data_sealer::from_hex("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
    return key;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Every value the old key made: sealed blobs and keyed hashes.
std::vector<std::string> old_key_values(const std::string& path) {
    SQLite::Database db(path);
    std::vector<std::string> out;
    SQLite::Statement st(db,
                         "SELECT phone FROM subscribers UNION ALL SELECT id FROM sessions UNION "
                         "ALL SELECT phone FROM sessions UNION ALL SELECT id_sealed FROM sessions "
                         "UNION ALL SELECT phone_sealed FROM sessions UNION ALL SELECT state FROM "
                         "sessions UNION ALL SELECT phone FROM cases UNION ALL SELECT phone_sealed "
                         "FROM cases UNION ALL SELECT details FROM cases UNION ALL SELECT outcome "
                         "FROM cases UNION ALL SELECT transcript FROM cases UNION ALL SELECT "
                         "session_id FROM cases UNION ALL SELECT phone FROM inbound_messages UNION "
                         "ALL SELECT recipient FROM outbox UNION ALL SELECT recipient_sealed FROM "
                         "outbox UNION ALL SELECT reason FROM referrals UNION ALL SELECT detail "
                         "FROM referral_events UNION ALL SELECT text FROM case_notes");
    while (st.executeStep())
        if (st.getColumn(0).getBytes() >= 16) out.push_back(st.getColumn(0).getString());
    return out;
}

void expect_refused(const std::string& path, const data_sealer& key, const std::string& why) {
    try {
        store::open_sqlite_store(path, key);
        FAIL() << "opened; expected: " << why;
    } catch (const store::store_error& e) {
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(RotateKey, EverythingReadableWithTheNewKeyAndNothingWithTheOld) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    filled f;
    {
        auto db = store::open_sqlite_store(path, test::test_sealer());
        f = fill(*db);
        expect_all_readable(*db, f);
    }
    const auto old_values = old_key_values(path);
    ASSERT_GT(old_values.size(), 20u);
    auto count_left = [&] {
        const std::string bytes = file_bytes(path) + file_bytes(path + "-wal");
        std::size_t left = 0;
        for (const auto& v : old_values) left += bytes.find(v) != std::string::npos;
        return left;
    };
    ASSERT_EQ(count_left(), old_values.size()) << "the search does not find what is there";

    store::key_rotation_options options;
    options.batch_rows = 2;  // many batches, each table more than one
    auto report = store::rotate_sqlite_data_key(path, test::test_sealer(), new_key(), options);
    EXPECT_FALSE(report.already_done);
    EXPECT_FALSE(report.resumed);
    EXPECT_EQ(report.rows["subscribers"], 3u);
    EXPECT_EQ(report.rows["sessions"], 3u);
    EXPECT_EQ(report.rows["cases"], 2u);
    EXPECT_EQ(report.rows["inbound_messages"], 2u);
    EXPECT_EQ(report.rows["outbox"], 2u);
    EXPECT_EQ(report.rows["referrals"], 1u);
    EXPECT_EQ(report.rows["referral_events"], 2u);
    EXPECT_EQ(report.rows["case_notes"], 1u);
    // Her number is nowhere but in the hash of "no SMS": it cannot follow.
    EXPECT_EQ(report.unmatched_subscribers, 1u);
    EXPECT_EQ(report.unmatched_no_sms, 1u);

    {
        auto db = store::open_sqlite_store(path, new_key());
        expect_all_readable(*db, f);
        // The audit trail is still append-only.
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        EXPECT_THROW(raw.exec("UPDATE referral_events SET detail = 'changed'"), SQLite::Exception);
        EXPECT_THROW(raw.exec("DELETE FROM referral_events"), SQLite::Exception);
        EXPECT_FALSE(raw.tableExists("rotation_subscribers"));
        EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM meta WHERE key LIKE 'rotation%'").getInt(),
                  0);
    }
    expect_refused(path, test::test_sealer(), "data key does not match");

    // Every column of every table, whatever this test knows of them: no
    // value opens with the old key (a sealed column the rotation missed).
    {
        SQLite::Database raw(path);
        SQLite::Statement tables(raw, "SELECT name FROM sqlite_schema WHERE type = 'table'");
        std::size_t values = 0;
        while (tables.executeStep()) {
            SQLite::Statement rows(raw,
                                   "SELECT * FROM \"" + tables.getColumn(0).getString() + "\"");
            while (rows.executeStep())
                for (int i = 0; i < rows.getColumnCount(); ++i) {
                    const auto col = rows.getColumn(i);
                    if (col.getBytes() == 0) continue;
                    ++values;
                    EXPECT_FALSE(test::test_sealer().open(col.getString()))
                        << tables.getColumn(0).getString() << "." << rows.getColumnName(i)
                        << " still sealed with the old key";
                }
        }
        EXPECT_GT(values, 100u);
    }
    // Nothing the old key sealed or hashed is left in the files.
    EXPECT_EQ(count_left(), 0u) << "values made with the old key are still in the file";

    // Run again: nothing to do.
    EXPECT_TRUE(store::rotate_sqlite_data_key(path, test::test_sealer(), new_key()).already_done);
}

TEST(RotateKey, StoppedInEveryBatchGoesOnWhenRunAgain) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    filled f;
    {
        auto db = store::open_sqlite_store(path, test::test_sealer());
        f = fill(*db);
    }
    // Each run commits one batch and dies inside the next (its transaction
    // never commits), as a kill -9 would: every table, every boundary.
    struct crash : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    store::key_rotation_options options;
    options.batch_rows = 1;
    bool checked_lock = false;
    options.before_commit = [&](const std::string&, std::size_t batch) {
        if (!checked_lock) {
            // Meanwhile nobody else may open the database.
            checked_lock = true;
            store::sqlite_options quick;
            quick.busy_timeout = std::chrono::milliseconds(50);
            EXPECT_THROW(store::open_sqlite_store(path, test::test_sealer(), quick),
                         store::store_error);
        }
        if (batch == 2) throw crash("killed");
    };
    int runs = 0;
    for (;; ++runs) {
        ASSERT_LT(runs, 200) << "the rotation never finished";
        try {
            auto report =
                store::rotate_sqlite_data_key(path, test::test_sealer(), new_key(), options);
            EXPECT_EQ(report.resumed, runs > 0);
            break;
        } catch (const crash&) {
        }
        // Half-way, neither key opens the database for the gateway.
        expect_refused(path, test::test_sealer(), "rotation was started and not finished");
        expect_refused(path, new_key(), "rotation was started and not finished");
        // Another new key cannot take over a rotation under way.
        auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
        EXPECT_THROW(store::rotate_sqlite_data_key(path, test::test_sealer(), other),
                     store::store_error);
    }
    EXPECT_TRUE(checked_lock);
    EXPECT_GT(runs, 14) << "fewer stops than the rows to rotate";
    {
        auto db = store::open_sqlite_store(path, new_key());
        expect_all_readable(*db, f);
    }
    expect_refused(path, test::test_sealer(), "data key does not match");
}

TEST(RotateKey, RefusedWhileTheDatabaseIsOpen) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    auto db = store::open_sqlite_store(path, test::test_sealer());
    db->set_subscriber_language(her, "ru");
    try {
        store::rotate_sqlite_data_key(path, test::test_sealer(), new_key());
        FAIL() << "rotated under a running gateway";
    } catch (const store::store_error& e) {
        EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    }
    // Nothing was started: the gateway goes on with its key.
    EXPECT_EQ(db->subscriber_language(her).value_or(""), "ru");
    db.reset();
    EXPECT_NO_THROW(store::open_sqlite_store(path, test::test_sealer()));
}

TEST(RotateKey, RefusesTheWrongCurrentKeyAndTheSameKey) {
    test::temp_dir dir;
    const std::string path = dir.file("g.db");
    { store::open_sqlite_store(path, test::test_sealer()); }
    auto other = *data_sealer::from_hex(data_sealer::generate_hex_key());
    EXPECT_THROW(store::rotate_sqlite_data_key(path, other, new_key()), store::store_error);
    EXPECT_THROW(store::rotate_sqlite_data_key(path, test::test_sealer(), test::test_sealer()),
                 store::store_error);
    EXPECT_NO_THROW(store::open_sqlite_store(path, test::test_sealer()));
}

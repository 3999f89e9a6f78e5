// A folder's batch writes each contact's activity once per (account, address, direction) —
// and must leave exactly what recording every message's touch in order would have left,
// including over what the store already held and for equal times (the first one stays).
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "app/mail_batch.hpp"
#include "test_process.hpp"

using namespace rapport;
using rapport::test::TempDir;

namespace {

TimePoint at(int64_t s) { return TimePoint{Seconds{s}}; }

MessageDecision message(const std::string& id, std::vector<ContactTouch> contacts) {
    MessageDecision d;
    d.message_id = id;
    d.subject = "about " + id;
    d.contacts = std::move(contacts);
    return d;
}

// Every row of contact_activity, in key order, as one string.
std::string dump_contacts(const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT account || '|' || address || '|' || COALESCE(last_in, '-') || '|' || "
                       "COALESCE(last_in_id, '-') || '|' || COALESCE(last_out, '-') || '|' || COALESCE(last_out_id, '-') "
                       "FROM contact_activity ORDER BY account, address",
                       -1, &stmt, nullptr);
    std::string out;
    while (sqlite3_step(stmt) == SQLITE_ROW) out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) + "\n";
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

}  // namespace

TEST_CASE("a batch records each contact's latest touch as writing them one by one would", "[store][batch]") {
    const std::vector<MessageDecision> decisions = {
        message("<1@x>", {{"acme", "jane@acme.example", true, at(300)}, {"acme", "joe@acme.example", false, at(300)}}),
        message("<2@x>", {{"acme", "jane@acme.example", true, at(500)}}),
        message("<3@x>", {{"acme", "jane@acme.example", true, at(500)}}),   // a tie: <2@x> stays
        message("<4@x>", {{"acme", "jane@acme.example", true, at(100)}}),   // older: changes nothing
        message("<5@x>", {{"acme", "jane@acme.example", false, at(400)}}),  // the other direction
        message("<6@x>", {{"globex", "jane@acme.example", true, at(50)}}),  // another account
        message("<7@x>", {{"acme", "joe@acme.example", false, at(150)}}),   // older than what is stored
    };
    const auto seed = [](WriteTx& tx) {
        tx.record_contact("acme", "joe@acme.example", false, at(200), "<0@x>");
        tx.record_contact("acme", "jane@acme.example", true, at(600), "<old@x>");  // newer than the batch
        tx.record_contact("acme", "jane@acme.example", true, at(100), "<older@x>");
    };

    TempDir dir;
    StateStore one_by_one(dir / "reference");
    one_by_one.write([&](WriteTx& tx) {
        seed(tx);
        for (const auto& d : decisions)
            for (const auto& c : d.contacts) tx.record_contact(c.account, c.address, c.inbound, c.when, d.message_id);
    });

    StateStore batched(dir / "batched");
    batched.write(seed);
    MailBatch batch("work", "INBOX");
    uint32_t uid = 1;
    for (const auto& d : decisions) batch.add(uid++, d);
    int64_t added = 0;
    batched.write([&](WriteTx& tx) { batch.write(tx, SyncMark{7, uid - 1, 0, 1, true}, at(1000), nullptr, &added); });

    CHECK(added == static_cast<int64_t>(decisions.size()));
    const std::string expected = dump_contacts(one_by_one.path());
    CHECK(expected.find("<old@x>") != std::string::npos);  // the reference did what the seed says
    CHECK(dump_contacts(batched.path()) == expected);
    // Every message's touch is still kept as an account message.
    batched.read([](ReadTx& tx) {
        CHECK(tx.account_messages("acme", at(0), 100).size() == 6);
        CHECK(tx.account_messages("globex", at(0), 100).size() == 1);
    });

    SECTION("a touch older than the recent-messages window updates the contact, not the account's list") {
        MailBatch old("work", "INBOX");
        ContactTouch touch{"initech", "peter@initech.example", true, at(900)};
        touch.recent = false;
        old.add(uid, message("<8@x>", {touch}));
        batched.write([&](WriteTx& tx) { old.write(tx, SyncMark{7, uid, 0, 1, true}, at(1000)); });
        batched.read([](ReadTx& tx) {
            CHECK(tx.account_messages("initech", at(0), 100).empty());
            CHECK(tx.last_contact("initech", "peter@initech.example") == at(900));
            CHECK(tx.message_seen("work", "INBOX", "<8@x>"));
        });
    }

    SECTION("on an empty store, too") {
        TempDir fresh;
        StateStore reference(fresh / "reference");
        reference.write([&](WriteTx& tx) {
            for (const auto& d : decisions)
                for (const auto& c : d.contacts) tx.record_contact(c.account, c.address, c.inbound, c.when, d.message_id);
        });
        StateStore other(fresh / "batched");
        other.write([&](WriteTx& tx) { batch.write(tx, SyncMark{7, uid - 1, 0, 1, true}, at(1000)); });
        const std::string want = dump_contacts(reference.path());
        CHECK(want.find("<2@x>") != std::string::npos);
        CHECK(dump_contacts(other.path()) == want);
    }
}

// The state database as the daemon relies on it: private, migrated once, refused when a newer
// rapportd wrote it; whole transactions only, so that a write that fails (thrown, refused at
// commit, disk full, locked) takes back its own work and nothing else; clear errors naming the
// file and what to do; one daemon per state directory.
#include <algorithm>
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "store/state_dir_lock.hpp"
#include "store/state_store.hpp"
#include "test_process.hpp"

using namespace rapport;
using rapport::test::TempDir;

namespace {
TimePoint at(int64_t s) { return TimePoint{Seconds{s}}; }
int mode_of(const std::string& path) {
    struct stat st {};
    stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

// A second connection to the same file, as another process would have.
struct OtherConnection {
    sqlite3* db = nullptr;
    explicit OtherConnection(const std::string& path) { sqlite3_open(path.c_str(), &db); }
    ~OtherConnection() { sqlite3_close(db); }
    std::string scalar(const char* sql) {
        sqlite3_stmt* stmt = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
        std::string out;
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
            out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
        return out;
    }
    int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
};

PlannedNudge planned(const std::string& account, int64_t due) { return {account, "follow_up", at(due), "Follow up"}; }

int64_t count_notifications(StateStore& store) {
    return store.read([](ReadTx& tx) { return static_cast<int64_t>(tx.notifications_after(0, 100000).size()); });
}

}  // namespace

TEST_CASE("a new state database is private, in WAL mode and at the current schema", "[store]") {
    TempDir dir;
    const std::string state = dir / "state";
    StateStore store(state);
    CHECK(store.schema_version() == StateStore::kSchemaVersion);
    CHECK(mode_of(state) == 0700);
    CHECK(mode_of(store.path()) == 0600);
    OtherConnection other(store.path());
    CHECK(other.scalar("PRAGMA journal_mode") == "wal");
    CHECK(other.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'journal'") == "0");
}

TEST_CASE("what is stored survives a reopen, and ids keep increasing after pruning", "[store]") {
    TempDir dir;
    int64_t first_id = 0;
    {
        StateStore store(dir / "state");
        store.write([&](WriteTx& tx) {
            first_id = tx.add_notification("config", at(100), "", "hello", {{"ok", true}}).id;
            tx.add_nudge(planned("acme", 1000), at(100));
            tx.set_folder_mark("work", "INBOX", {42, 7, 0, 5, true});
        });
    }
    StateStore again(dir / "state");
    again.read([&](ReadTx& tx) {
        auto list = tx.notifications_after(0, 10);
        REQUIRE(list.size() == 1);
        CHECK(list[0].id == first_id);
        CHECK(list[0].to_json()["ok"] == true);
        CHECK(tx.nudges(NudgeFilter::open).size() == 1);
        auto mark = tx.folder_mark("work", "INBOX");
        REQUIRE(mark);
        CHECK(*mark == SyncMark{42, 7, 0, 5, true});
    });
    again.write([&](WriteTx& tx) {
        CHECK(tx.ack_notification(first_id, at(150)));
        CHECK(tx.prune_notifications(at(200)) == 1);
    });
    // The newest notification was pruned; the next id still goes up, and the newest id known
    // to subscribers does not go back.
    CHECK(again.read([](ReadTx& tx) { return tx.last_notification_id(); }) == first_id);
    const auto next = again.write([](WriteTx& tx) { return tx.add_notification("config", at(300), "", "next", {}).id; });
    CHECK(next > first_id);
}

TEST_CASE("a database written by a newer rapportd is refused, not altered", "[store]") {
    TempDir dir;
    { StateStore store(dir / "state"); }
    {
        OtherConnection other(dir / "state/state.sqlite");
        other.exec("PRAGMA user_version = 99");
    }
    try {
        StateStore newer(dir / "state");
        FAIL("opened a schema-99 database");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("was written by a newer rapportd (schema 99)"));
    }
    OtherConnection other(dir / "state/state.sqlite");
    CHECK(other.scalar("PRAGMA user_version") == "99");
}

TEST_CASE("a write that throws takes back its own work and nothing else", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    store.write([](WriteTx& tx) {
        tx.add_notification("customer_mail", at(1), "acme", "first", {});
        tx.set_folder_mark("work", "INBOX", {1, 100, 0, 50, false});
    });
    // One folder's batch fails half-way (here: thrown by the caller)...
    CHECK_THROWS_AS(store.write([](WriteTx& tx) {
                        tx.add_notification("customer_mail", at(2), "acme", "second", {});
                        tx.record_message("work", "Sent", "<a@x>", at(2));
                        tx.set_folder_mark("work", "Sent", {9, 7, 0, 8, false});
                        throw StoreError("injected");
                    }),
                    StoreError);
    // ...and an API write that comes next is its own, committed transaction.
    const auto nudge = store.write([](WriteTx& tx) { return tx.add_nudge(planned("acme", 500), at(3)); });
    store.read([&](ReadTx& tx) {
        CHECK(tx.notifications_after(0, 10).size() == 1);
        CHECK(tx.folder_mark("work", "INBOX")->last_uid == 100);
        CHECK_FALSE(tx.folder_mark("work", "Sent"));
        CHECK_FALSE(tx.message_seen("work", "Sent", "<a@x>"));
        CHECK(tx.nudge(nudge.id));
    });
}

TEST_CASE("a commit that SQLite refuses leaves every other writer's data intact", "[store]") {
    TempDir dir;
    bool refuse = false;
    StateStore::Faults faults;
    faults.refuse_commit = [&] { return refuse; };
    StateStore store(dir / "state", faults);

    // Three writers, as in the daemon: two folders and the API.
    store.write([](WriteTx& tx) {
        tx.record_message("work", "INBOX", "<1@x>", at(1));
        tx.set_folder_mark("work", "INBOX", {1, 1, 0, 10, false});
    });
    const auto lost = store.write([](WriteTx& tx) { return tx.add_nudge(planned("acme", 900), at(1)); });

    refuse = true;
    try {
        store.write([](WriteTx& tx) {
            tx.record_message("work", "Archive", "<2@x>", at(2));
            tx.set_folder_mark("work", "Archive", {3, 2, 0, 10, false});
            tx.add_notification("customer_mail", at(2), "acme", "from Archive", {});
        });
        FAIL("the refused commit did not throw");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains(store.path()));
    }
    refuse = false;

    store.read([&](ReadTx& tx) {
        CHECK(tx.message_seen("work", "INBOX", "<1@x>"));
        CHECK(tx.folder_mark("work", "INBOX")->last_uid == 1);
        CHECK(tx.nudge(lost.id)->state == NudgeState::pending);
        CHECK_FALSE(tx.message_seen("work", "Archive", "<2@x>"));
        CHECK_FALSE(tx.folder_mark("work", "Archive"));
        CHECK(tx.notifications_after(0, 10).empty());
    });
    // The refused writer retries from its own last committed mark and succeeds.
    store.write([](WriteTx& tx) {
        tx.record_message("work", "Archive", "<2@x>", at(3));
        tx.set_folder_mark("work", "Archive", {3, 2, 0, 10, false});
        tx.add_notification("customer_mail", at(3), "acme", "from Archive", {});
    });
    CHECK(count_notifications(store) == 1);
    // The id the refused write would have used is not handed out twice: the one that was
    // broadcast (after commit) is the one stored.
    CHECK(store.read([](ReadTx& tx) { return tx.notifications_after(0, 10).front().text; }) == "from Archive");
}

TEST_CASE("a full disk is a clear, retryable error and loses nothing committed", "[store]") {
    TempDir dir;
    int64_t pages = 0;
    {
        StateStore store(dir / "state");
        store.write([](WriteTx& tx) { tx.add_notification("config", at(1), "", "kept", {}); });
        OtherConnection other(store.path());
        pages = std::stoll(other.scalar("PRAGMA page_count"));
    }
    StateStore::Faults faults;
    faults.max_pages = pages + 2;
    StateStore store(dir / "state", faults);
    const std::string big(64 * 1024, 'x');
    try {
        for (int i = 0; i < 100; ++i)
            store.write([&](WriteTx& tx) { tx.add_notification("config", at(2), "", big, {}); });
        FAIL("the capped database never filled up");
    } catch (const StoreError& e) {
        CHECK(e.kind() == StoreError::Kind::full);
        CHECK_THAT(e.what(), Catch::Contains("is full") && Catch::Contains(store.path()) && Catch::Contains("free some space"));
    }
    CHECK(store.read([](ReadTx& tx) { return tx.notifications_after(0, 1).front().text; }) == "kept");
}

TEST_CASE("a database locked by another process: a clear error within seconds, then writes go on", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    OtherConnection other(store.path());
    REQUIRE(other.exec("BEGIN IMMEDIATE") == SQLITE_OK);
    const auto started = std::chrono::steady_clock::now();
    try {
        store.write([](WriteTx& tx) { tx.add_notification("config", at(1), "", "blocked", {}); });
        FAIL("wrote through another process's lock");
    } catch (const StoreError& e) {
        CHECK(e.kind() == StoreError::Kind::busy);
        CHECK_THAT(e.what(), Catch::Contains("is locked by another process") && Catch::Contains(store.path()));
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    // Reads still work (WAL): the daemon keeps serving what it can.
    CHECK(count_notifications(store) == 0);
    other.exec("ROLLBACK");
    store.write([](WriteTx& tx) { tx.add_notification("config", at(2), "", "after", {}); });
    CHECK(count_notifications(store) == 1);
}

TEST_CASE("a damaged database file is refused with what to do", "[store]") {
    TempDir dir;
    ::mkdir((dir / "state").c_str(), 0700);
    rapport::test::write_file(dir / "state/state.sqlite", std::string(8192, 'Z'));
    try {
        StateStore store(dir / "state");
        FAIL("opened a file that is not a database");
    } catch (const StoreError& e) {
        CHECK(e.kind() == StoreError::Kind::corrupt);
        CHECK_THAT(e.what(), Catch::Contains("is damaged") && Catch::Contains("move it away"));
    }
}

TEST_CASE("a transaction inside another is refused as the bug it is", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    store.write([&](WriteTx& tx) {
        tx.add_notification("config", at(1), "", "outer", {});
        CHECK_THROWS_WITH(store.write([](WriteTx&) {}), Catch::Contains("inside another transaction"));
        CHECK_THROWS_AS(store.read([](ReadTx&) {}), StoreError);
    });
    CHECK(count_notifications(store) == 1);  // the outer write is untouched by the refusal
}

TEST_CASE("nudge states and meeting outcomes are stored as what they are", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    const auto n = store.write([](WriteTx& tx) { return tx.add_nudge(planned("acme", 100), at(0)); });
    store.write([&](WriteTx& tx) {
        CHECK(tx.set_nudge(n.id, NudgeState::snoozed, at(5000)));
        CHECK(tx.record_meeting_end({"work", "uid-1", 1000, MeetingOutcome::fired}, at(2000)));
        CHECK(tx.record_meeting_end({"work", "uid-2", 1000, MeetingOutcome::expired}, at(2000)));
        CHECK_FALSE(tx.record_meeting_end({"work", "uid-1", 1000, MeetingOutcome::expired}, at(3000)));
    });
    store.read([&](ReadTx& tx) {
        const auto stored = tx.nudge(n.id);
        CHECK(stored->state == NudgeState::snoozed);
        CHECK(stored->due == at(5000));
        CHECK(tx.nudges(NudgeFilter::scheduled).size() == 1);
        CHECK(tx.nudges(NudgeFilter::due).empty());
        auto ended = tx.ended_meetings();
        REQUIRE(ended.size() == 2);
        for (const auto& e : ended)
            CHECK(e.outcome == (e.uid == "uid-1" ? MeetingOutcome::fired : MeetingOutcome::expired));
    });
}

TEST_CASE("one state directory, one daemon: a second lock names the holder", "[store]") {
    TempDir dir;
    StateDirLock first(dir / "state");
    try {
        StateDirLock second(dir / "state");
        FAIL("two locks on one state_dir");
    } catch (const StoreError& e) {
        CHECK_THAT(e.what(), Catch::Contains("in use by another rapportd (pid " + std::to_string(::getpid()) + ")"));
    }
}

TEST_CASE("account watches and contact activity survive a reopen", "[store]") {
    TempDir dir;
    const TimePoint t = *rapport::parse_datetime("2026-12-01T10:00:00Z");
    {
        StateStore store(dir.path());
        store.write([&](WriteTx& tx) {
            AccountWatch w;
            w.account = "acme";
            w.owner = "bob";
            w.first_seen = t;
            w.loss_applied = "lost||Hooli|";
            w.silence_told = t - Seconds{86400};
            w.single_threaded_armed = false;
            w.handoffs = 2;
            tx.set_account_watch(w);
            tx.record_contact("acme", "jane@acme.example", true, t, "m1");
            tx.record_contact("acme", "jane@acme.example", false, t + Seconds{60}, "m2");
            tx.record_contact("acme", "carl@acme.example", false, t, "m3");
            tx.record_contact("globex", "hank@globex.example", true, t, "m4");
        });
    }
    StateStore store(dir.path());
    store.read([&](ReadTx& tx) {
        const auto watches = tx.account_watches();
        REQUIRE(watches.size() == 1);
        CHECK(watches[0].owner == "bob");
        CHECK(watches[0].loss_applied == "lost||Hooli|");
        CHECK(watches[0].silence_told == t - Seconds{86400});
        CHECK_FALSE(watches[0].single_threaded_armed);
        CHECK(watches[0].handoffs == 2);
        const auto acme = tx.contacts_seen("acme");
        REQUIRE(acme.size() == 2);
        CHECK(acme[0].address == "carl@acme.example");
        CHECK_FALSE(acme[0].last_in);
        CHECK(acme[1].last_in == t);
        CHECK(acme[1].last_out == t + Seconds{60});
        const auto all = tx.contacts_seen();
        REQUIRE(all.size() == 2);
        CHECK(all[1].account == "globex");
    });
}

TEST_CASE("contact states: set once per change, read back, unknown states read as active", "[store][contact_state]") {
    TempDir dir;
    StateStore store(dir / "state");
    CHECK(store.read([](ReadTx& tx) { return tx.contact_state("jane@acme.example"); }) == std::nullopt);
    // Active is the default: setting it when nothing is known changes nothing.
    CHECK_FALSE(store.write([](WriteTx& tx) {
        return tx.set_contact_state("jane@acme.example", ContactState::active, "", "m0", at(5));
    }));
    CHECK(store.write([](WriteTx& tx) {
        return tx.set_contact_state("jane@acme.example", ContactState::left, "left", "m1", at(10), "raj@acme.example");
    }));
    // The same state again (a second auto-reply): no change, so no second notification.
    CHECK_FALSE(store.write([](WriteTx& tx) {
        return tx.set_contact_state("jane@acme.example", ContactState::left, "left", "m2", at(20));
    }));
    auto s = store.read([](ReadTx& tx) { return tx.contact_state("jane@acme.example"); });
    REQUIRE(s);
    CHECK(s->state == ContactState::left);
    CHECK(s->message_id == "m1");
    CHECK(s->detail == "raj@acme.example");
    CHECK(s->changed == at(10));
    CHECK(store.write([](WriteTx& tx) {
        return tx.set_contact_state("jane@acme.example", ContactState::bounced, "bounce", "m3", at(30), "5.1.1");
    }));
    CHECK(store.read([](ReadTx& tx) { return tx.contact_state("jane@acme.example"); })->state == ContactState::bounced);
    {
        OtherConnection other(store.path());
        other.exec("UPDATE contact_states SET state = 'emigrated'");
    }
    CHECK(store.read([](ReadTx& tx) { return tx.contact_state("jane@acme.example"); })->state == ContactState::active);
}

TEST_CASE("contact states from memory: what was committed, not what rolled back, again after reopening",
          "[store][contact_state]") {
    TempDir dir;
    bool refuse = false;
    StateStore::Faults faults;
    faults.refuse_commit = [&] { return refuse; };
    auto store = std::make_unique<StateStore>(dir / "state", faults);
    CHECK_FALSE(store->contact_state("jane@acme.example"));
    store->write([](WriteTx& tx) {
        tx.set_contact_state("jane@acme.example", ContactState::left, "left", "m1", at(10), "raj@acme.example");
    });
    auto s = store->contact_state("jane@acme.example");
    REQUIRE(s);
    CHECK(s->state == ContactState::left);
    CHECK(s->reason == "left");
    CHECK(s->message_id == "m1");
    CHECK(s->detail == "raj@acme.example");
    CHECK(s->changed == at(10));

    // A write that throws, and a COMMIT that fails: the memory keeps the committed state.
    CHECK_THROWS_AS(store->write([](WriteTx& tx) {
        tx.set_contact_state("jane@acme.example", ContactState::bounced, "bounce", "m2", at(20), "5.1.1");
        throw std::runtime_error("later step failed");
    }), std::runtime_error);
    refuse = true;
    CHECK_THROWS_AS(store->write([](WriteTx& tx) {
        tx.set_contact_state("jane@acme.example", ContactState::bounced, "bounce", "m3", at(30), "5.1.1");
        tx.set_contact_state("carl@acme.example", ContactState::bounced, "bounce", "m3", at(30), "5.1.1");
    }), StoreError);
    refuse = false;
    CHECK(store->contact_state("jane@acme.example")->message_id == "m1");
    CHECK_FALSE(store->contact_state("carl@acme.example"));
    CHECK(store->read([](ReadTx& tx) { return tx.contact_state("jane@acme.example"); })->message_id == "m1");

    // A later transaction's change shows as soon as it committed.
    store->write([](WriteTx& tx) {
        tx.set_contact_state("jane@acme.example", ContactState::bounced, "bounce", "m4", at(40), "5.1.1");
    });
    CHECK(store->contact_state("jane@acme.example")->state == ContactState::bounced);

    // Reopened: loaded from the table, the same as a transaction reads it.
    store.reset();
    store = std::make_unique<StateStore>(dir / "state");
    s = store->contact_state("jane@acme.example");
    REQUIRE(s);
    CHECK(s->state == ContactState::bounced);
    CHECK(s->message_id == "m4");
    CHECK(s->detail == "5.1.1");
    CHECK(s->changed == at(40));
    CHECK_FALSE(store->contact_state("carl@acme.example"));
}

TEST_CASE("body reads: added with the batch, listed per UIDVALIDITY, finished, retried, dropped", "[store][body_reads]") {
    TempDir dir;
    StateStore store(dir / "state");
    store.write([](WriteTx& tx) {
        tx.add_body_read({"work", "INBOX", 7, 12, "b@x", "report", {{"history", true}}, 0, at(1)});
        tx.add_body_read({"work", "INBOX", 7, 10, "a@x", "customer", {}, 0, at(1)});
        tx.add_body_read({"work", "INBOX", 7, 10, "a@x", "customer", {}, 0, at(2)});  // once only
        tx.add_body_read({"work", "INBOX", 6, 3, "old@x", "report", {}, 0, at(1)});
        tx.add_body_read({"work", "Sent", 7, 1, "s@x", "report", {}, 0, at(1)});
    });
    auto reads = store.read([](ReadTx& tx) { return tx.body_reads("work", "INBOX", 7, 10); });
    REQUIRE(reads.size() == 2);
    CHECK(reads[0].uid == 10);
    CHECK(reads[0].reason == "customer");
    CHECK(reads[1].payload.value("history", false));
    CHECK(store.read([](ReadTx& tx) { return tx.body_reads_pending("work", "INBOX"); }) == 3);
    store.write([](WriteTx& tx) {
        tx.retry_body_read("work", "INBOX", 7, 12);
        tx.finish_body_read("work", "INBOX", 7, 10);
        CHECK(tx.drop_body_reads("work", "INBOX", 7) == 1);
    });
    reads = store.read([](ReadTx& tx) { return tx.body_reads("work", "INBOX", 7, 10); });
    REQUIRE(reads.size() == 1);
    CHECK(reads[0].attempts == 1);
    CHECK(store.read([](ReadTx& tx) { return tx.body_reads("work", "INBOX", 6, 10).size(); }) == 0);
}

TEST_CASE("signals are raised once per key; who the user wrote to", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    CHECK(store.write([](WriteTx& tx) { return tx.raise_signal("loss_signal", "m1@x", at(1)); }));
    CHECK_FALSE(store.write([](WriteTx& tx) { return tx.raise_signal("loss_signal", "m1@x", at(2)); }));
    CHECK(store.write([](WriteTx& tx) { return tx.raise_signal("loss_signal", "m2@x", at(2)); }));
    store.write([](WriteTx& tx) {
        tx.record_contact("acme", "jane@acme.example", true, at(5), "in@x");
        tx.record_contact("acme", "raj@acme.example", false, at(6), "out@x");
    });
    store.read([](ReadTx& tx) {
        CHECK_FALSE(tx.wrote_to("acme", "jane@acme.example"));  // she wrote to us, not we to her
        CHECK(tx.wrote_to("acme", "raj@acme.example"));
        CHECK_FALSE(tx.wrote_to("globex", "raj@acme.example"));
    });
}

TEST_CASE("record_message says whether the message is new, so the folder's count can be kept", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    const auto added = store.write([](WriteTx& tx) {
        int n = 0;
        n += tx.record_message("work", "INBOX", "<1@x>", at(1));
        n += tx.record_message("work", "INBOX", "<2@x>", at(1));
        n += tx.record_message("work", "Sent", "<1@x>", at(1));   // another folder: new there
        n += tx.record_message("work", "INBOX", "<1@x>", at(2));  // seen again (under a new UID, say)
        return n;
    });
    CHECK(added == 3);
    store.read([](ReadTx& tx) {
        CHECK(tx.messages_seen("work", "INBOX") == 2);
        CHECK(tx.messages_seen("work", "Sent") == 1);
        CHECK(tx.message_seen("work", "INBOX", "<1@x>"));
    });
}

TEST_CASE("record_messages writes a batch's Message-IDs many to a statement and counts the new ones", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    // 123 ids: two full statements of 50 and 23 single rows; duplicates inside the batch,
    // across its statements, and with what an earlier transaction wrote.
    std::vector<std::string> ids;
    for (int i = 0; i < 120; ++i) ids.push_back("<" + std::to_string(i) + "@x>");
    ids.push_back("<0@x>");
    ids.push_back("<77@x>");
    ids.push_back("<earlier@x>");
    store.write([](WriteTx& tx) { CHECK(tx.record_message("work", "INBOX", "<earlier@x>", at(1))); });
    const std::vector<std::string_view> views(ids.begin(), ids.end());
    const auto added = store.write([&](WriteTx& tx) { return tx.record_messages("work", "INBOX", views, at(2)); });
    CHECK(added == 120);
    // The same ids in another folder and another mailbox are new there.
    CHECK(store.write([&](WriteTx& tx) { return tx.record_messages("work", "Sent", views, at(3)); }) == 121);
    CHECK(store.write([&](WriteTx& tx) { return tx.record_messages("home", "INBOX", views, at(3)); }) == 121);
    CHECK(store.write([&](WriteTx& tx) { return tx.record_messages("work", "INBOX", views, at(4)); }) == 0);
    store.read([](ReadTx& tx) {
        CHECK(tx.messages_seen("work", "INBOX") == 121);
        CHECK(tx.messages_seen("work") == 242);
        CHECK(tx.messages_seen("home") == 121);
        CHECK(tx.message_seen("work", "INBOX", "<119@x>"));
        CHECK_FALSE(tx.message_seen("work", "INBOX", "<120@x>"));
        CHECK_FALSE(tx.message_seen("other", "INBOX", "<1@x>"));
    });
}

TEST_CASE("record_account_messages writes many rows to a statement and keeps the first per id", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    // 2 accounts × 60 messages (every other one written by the account), then the first 10 of
    // acme's again with another subject and a later date: two full statements, then single
    // rows; a repeated id keeps what was written first, later date or not.
    std::vector<std::string> ids;
    for (int i = 0; i < 60; ++i) ids.push_back("<" + std::to_string(i) + "@x>");
    std::vector<AccountMessageRow> rows;
    for (const char* account : {"acme", "globex"})
        for (int i = 0; i < 60; ++i)
            rows.push_back({account, ids[static_cast<std::size_t>(i)], at(i), i % 2 == 0, "jane@acme.example", "first"});
    for (int i = 0; i < 10; ++i)
        rows.push_back({"acme", ids[static_cast<std::size_t>(i)], at(100 + i), true, "raj@acme.example", "again"});
    store.write([&](WriteTx& tx) { tx.record_account_messages(rows); });
    store.read([](ReadTx& tx) {
        // The newest 10 of each account's 60 (dates 50 to 59), in both directions.
        for (const char* account : {"acme", "globex"}) {
            const auto kept = tx.account_messages(account, at(0), 1000);
            CHECK(kept.size() == StateStore::kAccountMessagesKept);
            CHECK(std::all_of(kept.begin(), kept.end(), [](const AccountMessage& m) { return m.subject == "first"; }));
            CHECK(std::all_of(kept.begin(), kept.end(), [](const AccountMessage& m) { return m.date >= at(50); }));
            CHECK(std::count_if(kept.begin(), kept.end(), [](const AccountMessage& m) { return m.inbound; }) == 5);
        }
    });
}

TEST_CASE("an account's messages are kept only as many as a draft shows, and it reads the same", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    // What account_messages would return if every row were kept: the first per id, newest
    // first, then by Message-ID.
    std::vector<AccountMessage> written;
    const auto reference = [&](const std::string& account, TimePoint since, std::size_t limit) {
        std::vector<AccountMessage> all;
        for (const auto& m : written)
            if (m.account == account && m.date >= since) all.push_back(m);
        std::stable_sort(all.begin(), all.end(), [](const AccountMessage& a, const AccountMessage& b) {
            return a.date != b.date ? a.date > b.date : a.message_id < b.message_id;
        });
        std::vector<std::string> out;
        for (std::size_t i = 0; i < all.size() && i < limit; ++i) out.push_back(all[i].message_id);
        return out;
    };
    const auto stored = [&](const std::string& account, TimePoint since, std::size_t limit) {
        std::vector<std::string> out;
        store.read([&](ReadTx& tx) {
            for (const auto& m : tx.account_messages(account, since, limit)) out.push_back(m.message_id);
        });
        return out;
    };
    // Each write: one batch of a scan, oldest first, as a folder is read.
    const auto write = [&](const std::vector<AccountMessage>& batch) {
        std::vector<AccountMessageRow> rows;
        for (const auto& m : batch) rows.push_back({m.account, m.message_id, m.date, m.inbound, m.contact, m.subject});
        store.write([&](WriteTx& tx) { tx.record_account_messages(rows); });
        written.insert(written.end(), batch.begin(), batch.end());
    };
    std::vector<AccountMessage> first, second, third;
    for (int i = 0; i < 25; ++i)
        first.push_back({"acme", "<in" + std::to_string(i) + "@x>", at(100 + i), true, "jane@acme.example", "in"});
    for (int i = 0; i < 5; ++i)
        first.push_back({"acme", "<out" + std::to_string(i) + "@x>", at(110 + i), false, "jane@acme.example", "out"});
    first.push_back({"globex", "<g@x>", at(1), true, "hank@globex.example", "in"});
    // Twelve at one time: which are kept is decided by Message-ID, as the reader orders them.
    for (int i = 0; i < 12; ++i)
        second.push_back({"acme", "<tie" + std::to_string(i % 3) + std::to_string(i) + "@x>", at(130), true,
                          "jane@acme.example", "tie"});
    second.push_back({"acme", "<late@x>", at(90), true, "jane@acme.example", "older than all kept"});
    for (int i = 0; i < 40; ++i)
        third.push_back({"acme", "<sent" + std::to_string(i) + "@x>", at(50 + i), false, "jane@acme.example", "out"});
    third.push_back({"acme", "<new@x>", at(200), true, "jane@acme.example", "newest"});

    for (const auto* batch : {&first, &second, &third}) {
        write(*batch);
        for (const auto since : {at(0), at(60), at(100), at(125), at(130), at(150), at(201)})
            for (const std::size_t limit : {std::size_t{1}, std::size_t{5}, StateStore::kAccountMessagesKept}) {
                INFO("since " << since.time_since_epoch().count() << ", limit " << limit);
                CHECK(stored("acme", since, limit) == reference("acme", since, limit));
            }
    }
    OtherConnection other(store.path());
    CHECK(other.scalar("SELECT count(*) FROM account_messages WHERE account = 'acme'") ==
          std::to_string(StateStore::kAccountMessagesKept));
    CHECK(stored("globex", at(0), 100) == std::vector<std::string>{"<g@x>"});  // another account keeps its own
    // The kept ones are the newest: <new@x> and nine of the twelve at 130.
    CHECK(other.scalar("SELECT min(date) FROM account_messages WHERE account = 'acme'") == "130");
}

TEST_CASE("schema 9 keeps each account's newest messages and indexes them", "[store]") {
    TempDir dir;
    const std::string state = dir / "state";
    { StateStore fresh(state); }
    {
        // A schema 8 file: no index, and every message of an account kept.
        OtherConnection old(state + "/state.sqlite");
        std::string sql = "DROP INDEX account_messages_newest; PRAGMA user_version = 8;";
        for (int i = 0; i < 15; ++i)
            sql += "INSERT INTO account_messages VALUES ('acme', '<" + std::to_string(i) + "@x>', " +
                   std::to_string(100 + i) + ", 1, 'jane@acme.example', 'in');";
        sql += "INSERT INTO account_messages VALUES ('acme', '<sent@x>', 1, 0, 'jane@acme.example', 'out');"
               "INSERT INTO account_messages VALUES ('globex', '<g@x>', 1, 1, 'hank@globex.example', 'in');";
        REQUIRE(old.exec(sql.c_str()) == SQLITE_OK);
    }
    StateStore store(state);
    CHECK(store.schema_version() == StateStore::kSchemaVersion);
    OtherConnection other(store.path());
    CHECK(other.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'account_messages_newest'") == "1");
    // acme's newest 10 (dates 105 to 114; its sent message, dated 1, goes too); globex keeps its one.
    CHECK(other.scalar("SELECT count(*) FROM account_messages WHERE account = 'acme'") == "10");
    CHECK(other.scalar("SELECT min(date) FROM account_messages WHERE account = 'acme'") == "105");
    CHECK(other.scalar("SELECT count(*) FROM account_messages WHERE account = 'globex'") == "1");
}

TEST_CASE("schema 6 rebuilds the per-message tables WITHOUT ROWID and keeps their rows", "[store]") {
    TempDir dir;
    const std::string state = dir / "state";
    {
        // The three tables as schema 5 had them, with a row each, and nothing else: migrations
        // 6 to 9 are the only ones that run on a file at user_version 5.
        StateStore fresh(state);
    }
    {
        OtherConnection old(state + "/state.sqlite");
        REQUIRE(old.exec(
                    "DROP TABLE seen_messages; DROP TABLE folders; DROP TABLE account_messages; DROP TABLE contact_activity;"
                    "CREATE TABLE seen_messages (mailbox TEXT NOT NULL, folder TEXT NOT NULL, message_id TEXT NOT NULL,"
                    " uid INTEGER NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (mailbox, folder, message_id));"
                    "CREATE TABLE account_messages (account TEXT NOT NULL, message_id TEXT NOT NULL, date INTEGER NOT NULL,"
                    " inbound INTEGER NOT NULL, contact TEXT NOT NULL, subject TEXT NOT NULL,"
                    " PRIMARY KEY (account, message_id));"
                    "CREATE INDEX account_messages_by_date ON account_messages (account, date);"
                    "CREATE TABLE contact_activity (account TEXT NOT NULL, address TEXT NOT NULL, last_in INTEGER,"
                    " last_in_id TEXT, last_out INTEGER, last_out_id TEXT, PRIMARY KEY (account, address));"
                    "INSERT INTO seen_messages VALUES ('work', 'INBOX', '<a@x>', 7, 100);"
                    "INSERT INTO account_messages VALUES ('acme', '<a@x>', 100, 1, 'jane@acme.example', 'Hello');"
                    "INSERT INTO contact_activity VALUES ('acme', 'jane@acme.example', 100, '<a@x>', NULL, NULL);"
                    "PRAGMA user_version = 5;") == SQLITE_OK);
    }
    StateStore store(state);
    CHECK(store.schema_version() == StateStore::kSchemaVersion);
    store.read([](ReadTx& tx) {
        CHECK(tx.message_seen("work", "INBOX", "<a@x>"));
        CHECK_FALSE(tx.message_seen("work", "INBOX", "<b@x>"));
        const auto messages = tx.account_messages("acme", at(0), 10);
        REQUIRE(messages.size() == 1);
        CHECK(messages[0].subject == "Hello");
        CHECK(messages[0].inbound);
        CHECK(tx.last_contact("acme", "jane@acme.example") == at(100));
    });
    // Keys still hold: the same message is not recorded twice.
    store.write([](WriteTx& tx) {
        CHECK_FALSE(tx.record_message("work", "INBOX", "<a@x>", at(200)));
        CHECK(tx.record_message("work", "INBOX", "<b@x>", at(200)));
    });
    OtherConnection other(store.path());
    for (const char* table : {"seen_messages", "account_messages", "contact_activity"}) {
        const std::string sql = std::string("SELECT sql FROM sqlite_master WHERE name = '") + table + "'";
        CHECK(other.scalar(sql.c_str()).find("WITHOUT ROWID") != std::string::npos);
    }
    // Schema 7 drops the date index again (a scan paid for it on every recent message).
    CHECK(other.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'account_messages_by_date'") == "0");
    CHECK(other.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v6' OR name LIKE '%_v8'") == "0");
    // Schema 8 keys the seen messages by a folder number; the row kept its folder.
    CHECK(other.scalar("SELECT mailbox || '/' || folder FROM folders") == "work/INBOX");
    CHECK(other.scalar("SELECT count(*) FROM pragma_table_info('seen_messages') WHERE name IN ('uid', 'mailbox')") == "0");
}

TEST_CASE("transactions from two threads run one at a time and all commit", "[store][threads]") {
    // The store writer thread writes a folder's batches while the daemon's thread reads and
    // writes: each transaction waits for the other's, none fails or sees half of one.
    TempDir dir;
    StateStore store(dir / "state");
    constexpr int kEach = 200;
    std::atomic<bool> torn{false};
    auto writer = [&](const char* kind) {
        for (int i = 0; i < kEach; ++i)
            store.write([&](WriteTx& tx) {
                // Two rows per transaction: a reader must see both or neither.
                tx.add_notification(kind, at(i), "", "first", {});
                tx.add_notification(kind, at(i), "", "second", {});
            });
    };
    std::thread other(writer, "other");
    std::thread reader([&] {
        for (int i = 0; i < kEach; ++i)
            if (count_notifications(store) % 2 != 0) torn = true;
    });
    writer("daemon");
    other.join();
    reader.join();
    CHECK_FALSE(torn);
    CHECK(count_notifications(store) == 4 * kEach);
}

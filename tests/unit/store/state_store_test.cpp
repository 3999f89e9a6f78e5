// The state database as the daemon relies on it: created with private permissions, migrated
// once, refused when a newer rapportd wrote it, and notifications/nudges/sync marks that
// survive a reopen.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

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
}  // namespace

TEST_CASE("a new state database is private, in WAL mode and at the current schema", "[store]") {
    TempDir dir;
    const std::string state = dir / "state";
    StateStore store(state);
    CHECK(store.schema_version() == StateStore::kSchemaVersion);
    CHECK(mode_of(state) == 0700);
    CHECK(mode_of(store.path()) == 0600);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(store.handle(), "PRAGMA journal_mode", -1, &stmt, nullptr);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
    sqlite3_finalize(stmt);
}

TEST_CASE("what is stored survives a reopen, and reopening migrates nothing twice", "[store]") {
    TempDir dir;
    int64_t first_id = 0;
    {
        StateStore store(dir / "state");
        first_id = store.add_notification("config", at(100), "", "hello", {{"ok", true}}).id;
        store.add_nudge("acme", "follow_up", at(1000), "Follow up", at(100));
        store.set_folder_mark("work", "INBOX", {42, 7, 0, true});
    }
    StateStore again(dir / "state");
    auto list = again.notifications_after(0, 10);
    REQUIRE(list.size() == 1);
    CHECK(list[0].id == first_id);
    CHECK(list[0].to_json()["ok"] == true);
    CHECK(again.nudges("open").size() == 1);
    auto mark = again.folder_mark("work", "INBOX");
    REQUIRE(mark);
    CHECK(mark->uidvalidity == 42);
    CHECK(mark->last_uid == 7);
    // Ids keep increasing after the newest rows are pruned (AUTOINCREMENT).
    again.ack_notification(first_id);
    CHECK(again.prune_notifications(at(200)) == 1);
    CHECK(again.add_notification("config", at(300), "", "next", {}).id > first_id);
}

TEST_CASE("a database written by a newer rapportd is refused, not altered", "[store]") {
    TempDir dir;
    { StateStore store(dir / "state"); }
    sqlite3* db = nullptr;
    sqlite3_open((dir / "state/state.sqlite").c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    try {
        StateStore newer(dir / "state");
        FAIL("opened a schema-99 database");
    } catch (const StoreError& e) {
        CHECK(std::string(e.what()).find("was written by a newer rapportd (schema 99)") != std::string::npos);
    }
}

TEST_CASE("firing due nudges is atomic with their notifications, and happens once", "[store]") {
    TempDir dir;
    StateStore store(dir / "state");
    store.add_nudge("acme", "follow_up", at(1000), "Follow up", at(0));
    int notified = 0;
    auto fire = [&](const StoredNudge& n) {
        store.add_notification("nudge_due", at(1001), n.account, n.text, {{"nudge", n.to_json()}});
        ++notified;
    };
    CHECK(store.fire_due_nudges(at(999), fire).empty());
    CHECK(store.fire_due_nudges(at(1001), fire).size() == 1);
    CHECK(store.fire_due_nudges(at(5000), fire).empty());
    CHECK(notified == 1);
    CHECK(store.nudges("due").size() == 1);
    // A failure inside the transaction leaves the nudge pending and stores no notification.
    store.add_nudge("globex", "follow_up", at(2000), "Follow up Globex", at(0));
    CHECK_THROWS(store.fire_due_nudges(at(2001), [](const StoredNudge&) { throw StoreError("disk full"); }));
    CHECK(store.nudges("pending").size() == 1);
    CHECK(store.notifications_after(0, 10).size() == 1);
}

#include "store/state_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

namespace rapport {
namespace {

// Schema versions in order; each entry moves the database from version i to i+1. Never edit
// a released entry: add a new one, so an old state file migrates forward.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE folder_sync (
        mailbox TEXT NOT NULL, folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL DEFAULT 0,
        highestmodseq INTEGER, scanned INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mailbox, folder));
    CREATE TABLE seen_messages (
        mailbox TEXT NOT NULL, folder TEXT NOT NULL, message_id TEXT NOT NULL,
        uid INTEGER NOT NULL, seen_at INTEGER NOT NULL,
        PRIMARY KEY (mailbox, folder, message_id));
    CREATE TABLE contact_activity (
        account TEXT NOT NULL, address TEXT NOT NULL,
        last_in INTEGER, last_in_id TEXT, last_out INTEGER, last_out_id TEXT,
        PRIMARY KEY (account, address));
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, time INTEGER NOT NULL,
        account TEXT, text TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}',
        acked INTEGER NOT NULL DEFAULT 0, acked_at INTEGER);
    CREATE TABLE nudges (
        id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, kind TEXT NOT NULL,
        due INTEGER NOT NULL, state TEXT NOT NULL, text TEXT NOT NULL, created INTEGER NOT NULL);
    CREATE INDEX nudges_by_state ON nudges (state, due);
    CREATE TABLE drafts (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, meeting TEXT NOT NULL, mailbox TEXT NOT NULL,
        subject TEXT NOT NULL, created INTEGER NOT NULL);
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT, effect TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',
        created INTEGER NOT NULL, done INTEGER);
    CREATE TABLE deals (
        account TEXT PRIMARY KEY, state TEXT NOT NULL, lost_at INTEGER, competitor TEXT,
        delivery TEXT, note TEXT, updated INTEGER NOT NULL);
    CREATE TABLE meetings_ended (
        calendar TEXT NOT NULL, uid TEXT NOT NULL, occurrence INTEGER NOT NULL,
        ended_at INTEGER NOT NULL, PRIMARY KEY (calendar, uid, occurrence));
    )sql",
};

int64_t to_db(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint from_db(int64_t s) { return TimePoint{Seconds{s}}; }

// A prepared statement from the store's cache: preparing costs more than most of our queries
// (measured: lookup's last_contact query went from ~50 us to ~5 us), so statements are
// prepared once per connection and reset after each use.
class Statement {
public:
    Statement(StateStore& store, const std::string& sql) : db_(store.handle()), stmt_(store.cached(sql)) {}
    ~Statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
    Statement& bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind_null(int i) { sqlite3_bind_null(stmt_, i); return *this; }
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
    }
    int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string text(int col) {
        const auto* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

StoredNotification read_notification(Statement& s) {
    StoredNotification n;
    n.id = s.integer(0);
    n.kind = s.text(1);
    n.time = from_db(s.integer(2));
    n.account = s.text(3);
    n.text = s.text(4);
    n.extra = nlohmann::json::parse(s.text(5), nullptr, false);
    if (n.extra.is_discarded() || !n.extra.is_object()) n.extra = nlohmann::json::object();
    n.acked = s.integer(6) != 0;
    return n;
}

StoredNudge read_nudge(Statement& s) {
    StoredNudge n;
    n.id = s.integer(0);
    n.account = s.text(1);
    n.kind = s.text(2);
    n.due = from_db(s.integer(3));
    n.state = s.text(4);
    n.text = s.text(5);
    n.created = from_db(s.integer(6));
    return n;
}

}  // namespace

nlohmann::json StoredNotification::to_json() const {
    nlohmann::json j = extra;
    j["id"] = id;
    j["kind"] = kind;
    j["time"] = format_datetime(time);
    j["account"] = account.empty() ? nlohmann::json(nullptr) : nlohmann::json(account);
    j["text"] = text;
    return j;
}

nlohmann::json StoredNudge::to_json() const {
    return {{"id", id}, {"account", account}, {"kind", kind}, {"due", format_datetime(due)},
            {"state", state}, {"text", text}};
}

nlohmann::json StoredDraft::to_json() const {
    return {{"id", id}, {"account", account}, {"meeting", meeting}, {"mailbox", mailbox},
            {"subject", subject}, {"created", format_datetime(created)}};
}

StateStore::StateStore(const std::string& state_dir) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) throw StoreError("cannot create state_dir " + state_dir + ": " + ec.message());
    ::chmod(state_dir.c_str(), 0700);  // it holds the mail metadata of one person
    path_ = (std::filesystem::path(state_dir) / "state.sqlite").string();
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("cannot open state database " + path_ + ": " + msg);
    }
    ::chmod(path_.c_str(), 0600);
    sqlite3_busy_timeout(db_, 5000);
    try {
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        migrate();
    } catch (...) {
        close();
        throw;
    }
}

void StateStore::close() {
    // Cached statements keep the connection open: finalize them first.
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
}

StateStore::~StateStore() { close(); }

sqlite3_stmt* StateStore::cached(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        throw StoreError(std::string("state database: ") + sqlite3_errmsg(db_));
    statements_.emplace(sql, stmt);
    return stmt;
}

void StateStore::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw StoreError("state database " + path_ + ": " + msg);
    }
}

int StateStore::schema_version() {
    Statement s(*this, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

void StateStore::migrate() {
    const int current = schema_version();
    if (current > kSchemaVersion)
        throw StoreError("state database " + path_ + " was written by a newer rapportd (schema " +
                         std::to_string(current) + "); upgrade rapportd or move the file away");
    for (int v = current; v < kSchemaVersion; ++v) {
        exec("BEGIN IMMEDIATE");
        try {
            exec(kMigrations[v]);
            exec("PRAGMA user_version = " + std::to_string(v + 1));
            exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
}

void StateStore::begin() { exec("BEGIN IMMEDIATE"); }
void StateStore::commit() { exec("COMMIT"); }
void StateStore::rollback() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

void StateStore::set_meta(const std::string& key, const std::string& value) {
    Statement s(*this, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value).step();
}

std::optional<std::string> StateStore::meta(const std::string& key) {
    Statement s(*this, "SELECT value FROM meta WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

StoredNotification StateStore::add_notification(const std::string& kind, TimePoint time,
                                                const std::string& account,
                                                const std::string& text,
                                                const nlohmann::json& extra) {
    Statement s(*this, "INSERT INTO notifications(kind, time, account, text, extra) VALUES(?, ?, ?, ?, ?)");
    s.bind(1, kind).bind(2, to_db(time));
    if (account.empty()) s.bind_null(3); else s.bind(3, account);
    s.bind(4, text).bind(5, extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    s.step();
    StoredNotification n;
    n.id = sqlite3_last_insert_rowid(db_);
    n.kind = kind;
    n.time = time;
    n.account = account;
    n.text = text;
    n.extra = extra.is_object() ? extra : nlohmann::json::object();
    return n;
}

std::vector<StoredNotification> StateStore::notifications_after(int64_t after, std::size_t limit) {
    Statement s(*this, "SELECT id, kind, time, account, text, extra, acked FROM notifications "
                     "WHERE id > ? ORDER BY id LIMIT ?");
    s.bind(1, after).bind(2, static_cast<int64_t>(limit));
    std::vector<StoredNotification> out;
    while (s.step()) out.push_back(read_notification(s));
    return out;
}

bool StateStore::ack_notification(int64_t id) {
    Statement s(*this, "UPDATE notifications SET acked = 1, acked_at = strftime('%s','now') WHERE id = ?");
    s.bind(1, id).step();
    return sqlite3_changes(db_) > 0;
}

int64_t StateStore::last_notification_id() {
    Statement s(*this, "SELECT COALESCE(MAX(id), 0) FROM notifications");
    s.step();
    return s.integer(0);
}

std::size_t StateStore::prune_notifications(TimePoint acked_before) {
    // AUTOINCREMENT keeps ids increasing even after the newest rows are pruned.
    Statement s(*this, "DELETE FROM notifications WHERE acked = 1 AND time < ?");
    s.bind(1, to_db(acked_before)).step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
}

StoredNudge StateStore::add_nudge(const std::string& account, const std::string& kind,
                                  TimePoint due, const std::string& text, TimePoint created) {
    Statement s(*this, "INSERT INTO nudges(account, kind, due, state, text, created) VALUES(?, ?, ?, 'pending', ?, ?)");
    s.bind(1, account).bind(2, kind).bind(3, to_db(due)).bind(4, text).bind(5, to_db(created)).step();
    StoredNudge n;
    n.id = sqlite3_last_insert_rowid(db_);
    n.account = account;
    n.kind = kind;
    n.due = due;
    n.state = "pending";
    n.text = text;
    n.created = created;
    return n;
}

std::optional<StoredNudge> StateStore::nudge(int64_t id) {
    Statement s(*this, "SELECT id, account, kind, due, state, text, created FROM nudges WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_nudge(s);
}

std::vector<StoredNudge> StateStore::nudges(const std::string& filter) {
    std::string sql = "SELECT id, account, kind, due, state, text, created FROM nudges";
    if (filter == "pending") sql += " WHERE state IN ('pending', 'snoozed')";
    else if (filter == "due") sql += " WHERE state = 'due'";
    else if (filter == "open") sql += " WHERE state IN ('pending', 'snoozed', 'due')";
    sql += " ORDER BY due, id";
    Statement s(*this, sql);
    std::vector<StoredNudge> out;
    while (s.step()) out.push_back(read_nudge(s));
    return out;
}

bool StateStore::update_nudge(int64_t id, const std::string& state, std::optional<TimePoint> due) {
    if (due) {
        Statement s(*this, "UPDATE nudges SET state = ?, due = ? WHERE id = ?");
        s.bind(1, state).bind(2, to_db(*due)).bind(3, id).step();
    } else {
        Statement s(*this, "UPDATE nudges SET state = ? WHERE id = ?");
        s.bind(1, state).bind(2, id).step();
    }
    return sqlite3_changes(db_) > 0;
}

std::size_t StateStore::cancel_nudges(const std::string& account) {
    Statement s(*this, "UPDATE nudges SET state = 'cancelled' WHERE account = ? AND state IN ('pending', 'snoozed', 'due')");
    s.bind(1, account).step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
}

std::vector<StoredNudge> StateStore::nudges_due_by(TimePoint now) {
    Statement s(*this, "SELECT id, account, kind, due, state, text, created FROM nudges "
                     "WHERE state IN ('pending', 'snoozed') AND due <= ? ORDER BY due, id");
    s.bind(1, to_db(now));
    std::vector<StoredNudge> out;
    while (s.step()) out.push_back(read_nudge(s));
    return out;
}

std::vector<StoredNudge> StateStore::record_loss(const std::string& account, TimePoint lost_at,
                                                 const std::string& competitor,
                                                 const std::string& delivery, const std::string& note,
                                                 const std::vector<PlannedNudgeRow>& nudges) {
    begin();
    try {
        cancel_nudges(account);
        Statement s(*this, "INSERT INTO deals(account, state, lost_at, competitor, delivery, note, updated) "
                         "VALUES(?, 'lost', ?, ?, ?, ?, ?) ON CONFLICT(account) DO UPDATE SET state = 'lost', "
                         "lost_at = excluded.lost_at, competitor = excluded.competitor, "
                         "delivery = excluded.delivery, note = excluded.note, updated = excluded.updated");
        s.bind(1, account).bind(2, to_db(lost_at)).bind(3, competitor).bind(4, delivery).bind(5, note)
            .bind(6, to_db(lost_at)).step();
        std::vector<StoredNudge> out;
        for (const auto& n : nudges) out.push_back(add_nudge(account, n.kind, n.due, n.text, lost_at));
        commit();
        return out;
    } catch (...) {
        rollback();
        throw;
    }
}

std::size_t StateStore::reopen_deal(const std::string& account, TimePoint now) {
    begin();
    try {
        const std::size_t cancelled = cancel_nudges(account);
        Statement s(*this, "UPDATE deals SET state = 'reopened', updated = ? WHERE account = ?");
        s.bind(1, to_db(now)).bind(2, account).step();
        commit();
        return cancelled;
    } catch (...) {
        rollback();
        throw;
    }
}

std::optional<TimePoint> StateStore::last_contact(const std::string& account, const std::string& address) {
    Statement s(*this, "SELECT MAX(COALESCE(last_in, 0), COALESCE(last_out, 0)) FROM contact_activity "
                     "WHERE account = ? AND address = ?");
    s.bind(1, account).bind(2, address);
    if (!s.step() || s.is_null(0) || s.integer(0) == 0) return std::nullopt;
    return from_db(s.integer(0));
}

std::vector<StoredNudge> StateStore::fire_due_nudges(TimePoint now, const NudgeFired& on_fired) {
    std::vector<StoredNudge> fired;
    begin();
    try {
        for (auto& n : nudges_due_by(now)) {
            update_nudge(n.id, "due", std::nullopt);
            n.state = "due";
            on_fired(n);  // stores the notification inside this same transaction
            fired.push_back(n);
        }
        commit();
    } catch (...) {
        rollback();
        throw;
    }
    return fired;
}

std::optional<StateStore::FolderMark> StateStore::folder_mark(const std::string& mailbox, const std::string& folder) {
    Statement s(*this, "SELECT uidvalidity, last_uid, COALESCE(highestmodseq, 0), scanned FROM folder_sync "
                     "WHERE mailbox = ? AND folder = ?");
    s.bind(1, mailbox).bind(2, folder);
    if (!s.step()) return std::nullopt;
    FolderMark m;
    m.uidvalidity = static_cast<uint32_t>(s.integer(0));
    m.last_uid = static_cast<uint32_t>(s.integer(1));
    m.highestmodseq = static_cast<uint64_t>(s.integer(2));
    m.scanned = s.integer(3) != 0;
    return m;
}

void StateStore::set_folder_mark(const std::string& mailbox, const std::string& folder, const FolderMark& m) {
    Statement s(*this, "INSERT INTO folder_sync(mailbox, folder, uidvalidity, last_uid, highestmodseq, scanned) "
                     "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(mailbox, folder) DO UPDATE SET "
                     "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
                     "highestmodseq = excluded.highestmodseq, scanned = excluded.scanned");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(m.uidvalidity))
        .bind(4, static_cast<int64_t>(m.last_uid)).bind(5, static_cast<int64_t>(m.highestmodseq))
        .bind(6, m.scanned ? 1 : 0).step();
}

bool StateStore::message_seen(const std::string& mailbox, const std::string& folder, const std::string& message_id) {
    Statement s(*this, "SELECT 1 FROM seen_messages WHERE mailbox = ? AND folder = ? AND message_id = ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, message_id);
    return s.step();
}

void StateStore::record_message(const std::string& mailbox, const std::string& folder,
                                const std::string& message_id, uint32_t uid, TimePoint seen_at) {
    Statement s(*this, "INSERT INTO seen_messages(mailbox, folder, message_id, uid, seen_at) VALUES(?, ?, ?, ?, ?) "
                     "ON CONFLICT(mailbox, folder, message_id) DO UPDATE SET uid = excluded.uid");
    s.bind(1, mailbox).bind(2, folder).bind(3, message_id).bind(4, static_cast<int64_t>(uid))
        .bind(5, to_db(seen_at)).step();
}

int64_t StateStore::messages_seen(const std::string& mailbox) {
    Statement s(*this, "SELECT COUNT(*) FROM seen_messages WHERE mailbox = ?");
    s.bind(1, mailbox);
    s.step();
    return s.integer(0);
}

void StateStore::record_contact(const std::string& account, const std::string& address, bool inbound,
                                TimePoint when, const std::string& message_id) {
    // Keeps the newest date per direction; an older message seen later changes nothing.
    const char* sql = inbound
        ? "INSERT INTO contact_activity(account, address, last_in, last_in_id) VALUES(?, ?, ?, ?) "
          "ON CONFLICT(account, address) DO UPDATE SET last_in = excluded.last_in, last_in_id = excluded.last_in_id "
          "WHERE last_in IS NULL OR excluded.last_in > last_in"
        : "INSERT INTO contact_activity(account, address, last_out, last_out_id) VALUES(?, ?, ?, ?) "
          "ON CONFLICT(account, address) DO UPDATE SET last_out = excluded.last_out, last_out_id = excluded.last_out_id "
          "WHERE last_out IS NULL OR excluded.last_out > last_out";
    Statement s(*this, sql);
    s.bind(1, account).bind(2, address).bind(3, to_db(when)).bind(4, message_id).step();
}

std::vector<StateStore::EndedMeeting> StateStore::ended_meetings() {
    Statement s(*this, "SELECT calendar, uid, occurrence FROM meetings_ended");
    std::vector<EndedMeeting> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.integer(2)});
    return out;
}

bool StateStore::record_meeting_end(const std::string& calendar, const std::string& uid, TimePoint occurrence,
                                    TimePoint ended_at) {
    Statement s(*this, "INSERT OR IGNORE INTO meetings_ended(calendar, uid, occurrence, ended_at) VALUES(?, ?, ?, ?)");
    s.bind(1, calendar).bind(2, uid).bind(3, to_db(occurrence)).bind(4, to_db(ended_at)).step();
    return sqlite3_changes(db_) > 0;
}

std::size_t StateStore::prune_ended_meetings(TimePoint occurrence_before) {
    Statement s(*this, "DELETE FROM meetings_ended WHERE occurrence < ?");
    s.bind(1, to_db(occurrence_before)).step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
}

std::vector<StoredDraft> StateStore::drafts() {
    Statement s(*this, "SELECT id, account, meeting, mailbox, subject, created FROM drafts ORDER BY created DESC, id");
    std::vector<StoredDraft> out;
    while (s.step()) {
        StoredDraft d;
        d.id = s.text(0);
        d.account = s.text(1);
        d.meeting = s.text(2);
        d.mailbox = s.text(3);
        d.subject = s.text(4);
        d.created = from_db(s.integer(5));
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace rapport

#include "store/state_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

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
    // 2: the first scan's boundary (history vs new mail survives a crash mid-scan); fired and
    // expired meeting ends kept apart; the unused journal table goes (the effects journal
    // brings its own schema).
    R"sql(
    ALTER TABLE folder_sync ADD COLUMN history_below INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE meetings_ended ADD COLUMN outcome TEXT NOT NULL DEFAULT 'fired';
    DROP TABLE journal;
    )sql",
    // 3: the effects journal (intents written with the decision, executed after the commit,
    // found again by their key after a crash); what was written with each account (subjects
    // for a draft's context); draft kinds.
    R"sql(
    CREATE TABLE effects (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        not_before INTEGER NOT NULL, last_error TEXT, created INTEGER NOT NULL, finished INTEGER);
    CREATE INDEX effects_by_state ON effects (state, not_before);
    CREATE TABLE account_messages (
        account TEXT NOT NULL, message_id TEXT NOT NULL, date INTEGER NOT NULL,
        inbound INTEGER NOT NULL, contact TEXT NOT NULL, subject TEXT NOT NULL,
        PRIMARY KEY (account, message_id));
    CREATE INDEX account_messages_by_date ON account_messages (account, date);
    ALTER TABLE drafts ADD COLUMN kind TEXT NOT NULL DEFAULT 'summary';
    )sql",
    // 4: reading what customers write. What each contact's mail told (bounced, left); the
    // bodies a folder still has to read (written with the folder's mark, so a crash or restart
    // reads each exactly once); the signals already raised per message, so a message seen in
    // two folders raises its loss_signal once.
    R"sql(
    CREATE TABLE contact_states (
        address TEXT PRIMARY KEY, state TEXT NOT NULL, reason TEXT NOT NULL, message_id TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '', changed INTEGER NOT NULL);
    CREATE TABLE body_reads (
        mailbox TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        message_id TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
        PRIMARY KEY (mailbox, folder, uidvalidity, uid));
    CREATE TABLE raised_signals (
        kind TEXT NOT NULL, key TEXT NOT NULL, raised INTEGER NOT NULL, PRIMARY KEY (kind, key));
    )sql",
    // 5: what the account review acted on per account (owner, loss, silence, single-threaded;
    // see rapport/account_review.hpp), so that each cause nudges once across restarts.
    R"sql(
    CREATE TABLE account_watch (
        account TEXT PRIMARY KEY, owner TEXT NOT NULL, first_seen INTEGER NOT NULL,
        loss_applied TEXT NOT NULL DEFAULT '', silence_told INTEGER,
        single_threaded_armed INTEGER NOT NULL DEFAULT 1, handoffs INTEGER NOT NULL DEFAULT 0);
    )sql",
    // 6: the tables a scan writes per message become WITHOUT ROWID, keyed by what they are
    // looked up by: a rowid table writes its rows and then its primary key again as a second
    // b-tree, so each message cost one insert more per table (measured: the seen_messages and
    // account_messages inserts were ~19 % of a first scan each). Same columns, same keys.
    R"sql(
    CREATE TABLE seen_messages_v6 (
        mailbox TEXT NOT NULL, folder TEXT NOT NULL, message_id TEXT NOT NULL,
        uid INTEGER NOT NULL, seen_at INTEGER NOT NULL,
        PRIMARY KEY (mailbox, folder, message_id)) WITHOUT ROWID;
    INSERT INTO seen_messages_v6 SELECT mailbox, folder, message_id, uid, seen_at FROM seen_messages;
    DROP TABLE seen_messages;
    ALTER TABLE seen_messages_v6 RENAME TO seen_messages;
    CREATE TABLE account_messages_v6 (
        account TEXT NOT NULL, message_id TEXT NOT NULL, date INTEGER NOT NULL,
        inbound INTEGER NOT NULL, contact TEXT NOT NULL, subject TEXT NOT NULL,
        PRIMARY KEY (account, message_id)) WITHOUT ROWID;
    INSERT INTO account_messages_v6 SELECT account, message_id, date, inbound, contact, subject FROM account_messages;
    DROP TABLE account_messages;
    ALTER TABLE account_messages_v6 RENAME TO account_messages;
    CREATE INDEX account_messages_by_date ON account_messages (account, date);
    CREATE TABLE contact_activity_v6 (
        account TEXT NOT NULL, address TEXT NOT NULL,
        last_in INTEGER, last_in_id TEXT, last_out INTEGER, last_out_id TEXT,
        PRIMARY KEY (account, address)) WITHOUT ROWID;
    INSERT INTO contact_activity_v6 SELECT account, address, last_in, last_in_id, last_out, last_out_id
        FROM contact_activity;
    DROP TABLE contact_activity;
    ALTER TABLE contact_activity_v6 RENAME TO contact_activity;
    )sql",
    // 7: account_messages loses its date index. It cost a second b-tree insert for every
    // recent message a scan writes (measured alone: 0.46 → 0.29 s for 100,000 rows), and what
    // it served is rare: a draft's context reads one account's rows (its primary-key prefix;
    // 90 days at most are kept) and housekeeping prunes by date every 6 hours.
    R"sql(
    DROP INDEX account_messages_by_date;
    )sql",
    // 8: seen_messages is keyed by a folder's number instead of its mailbox and folder names.
    // A scan inserts one row per message, and the two names repeated in every key were most of
    // what each insert compared and wrote (measured alone: 100,000 rows 0.109 → 0.086 s; with
    // several rows per statement 0.063 s). The uid column goes: nothing read it, and a UID is
    // only meaningful with its UIDVALIDITY.
    R"sql(
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, folder TEXT NOT NULL, UNIQUE (mailbox, folder));
    INSERT INTO folders(mailbox, folder) SELECT DISTINCT mailbox, folder FROM seen_messages;
    CREATE TABLE seen_messages_v8 (
        folder INTEGER NOT NULL, message_id TEXT NOT NULL, seen_at INTEGER NOT NULL,
        PRIMARY KEY (folder, message_id)) WITHOUT ROWID;
    INSERT INTO seen_messages_v8 SELECT f.id, s.message_id, s.seen_at
        FROM seen_messages s JOIN folders f ON f.mailbox = s.mailbox AND f.folder = s.folder;
    DROP TABLE seen_messages;
    ALTER TABLE seen_messages_v8 RENAME TO seen_messages;
    )sql",
    // 9: of each account's messages only the newest 10 (kAccountMessagesKept when this was
    // written) are kept: a draft's list shows no more. The index finds them by date for the
    // prune after each write; a write adds at most 10 rows per account, so it costs a few
    // b-tree inserts a batch, not one per message as the index that 7 dropped did.
    R"sql(
    CREATE INDEX account_messages_newest ON account_messages (account, date DESC, message_id);
    DELETE FROM account_messages WHERE (account, message_id) IN (
        SELECT account, message_id FROM (
            SELECT account, message_id,
                   ROW_NUMBER() OVER (PARTITION BY account ORDER BY date DESC, message_id) AS place
            FROM account_messages)
        WHERE place > 10);
    )sql",
};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == rapport::StateStore::kSchemaVersion,
              "one migration per schema version");


int64_t to_db(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint from_db(int64_t s) { return TimePoint{Seconds{s}}; }

const char* deal_state_name(DealState s) { return s == DealState::lost ? "lost" : "reopened"; }

}  // namespace

// A prepared statement from the store's cache: preparing costs more than most of our queries
// (measured: lookup's last_contact query went from ~50 us to ~5 us), so statements are
// prepared once per connection and reset after each use. Keyed by the SQL literal's address:
// each call site passes its own literal.
class Statement {
public:
    Statement(StateStore& store, const char* sql) : store_(store), stmt_(store.cached(sql)) {}
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
    // For the per-message inserts: binds without copying. Only for a string that outlives this
    // Statement (the destructor's reset drops the binding), never a temporary.
    Statement& bind_static(int i, std::string_view v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    Statement& bind_null(int i) { sqlite3_bind_null(stmt_, i); return *this; }
    Statement& bind_text_or_null(int i, const std::string& v) { return v.empty() ? bind_null(i) : bind(i, v); }
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        store_.fail(rc, "a query");
    }
    int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
    bool is_null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string text(int col) {
        const auto* p = sqlite3_column_text(stmt_, col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }
    int64_t changes() { return sqlite3_changes(sqlite3_db_handle(stmt_)); }
    int64_t last_rowid() { return sqlite3_last_insert_rowid(sqlite3_db_handle(stmt_)); }

private:
    StateStore& store_;
    sqlite3_stmt* stmt_;
};

namespace {

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

Nudge read_nudge(Statement& s) {
    Nudge n;
    n.id = s.integer(0);
    n.account = s.text(1);
    n.kind = s.text(2);
    n.due = from_db(s.integer(3));
    // A state this build does not know (written by a newer one) is treated as closed.
    n.state = parse_nudge_state(s.text(4)).value_or(NudgeState::cancelled);
    n.text = s.text(5);
    return n;
}

// state, reason, message_id, detail, changed from column `first` on.
ContactStatus read_contact_status(Statement& s, int first) {
    ContactStatus out;
    // A state this build does not know (written by a newer one) reads as active: never gone
    // on a guess.
    out.state = parse_contact_state(s.text(first)).value_or(ContactState::active);
    out.reason = s.text(first + 1);
    out.message_id = s.text(first + 2);
    out.detail = s.text(first + 3);
    out.changed = from_db(s.integer(first + 4));
    return out;
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

nlohmann::json StoredDraft::to_json() const {
    return {{"id", id}, {"kind", kind}, {"account", account}, {"meeting", meeting}, {"mailbox", mailbox},
            {"subject", subject}, {"created", format_datetime(created)}};
}

std::string_view to_string(EffectKind k) { return k == EffectKind::summary_draft ? "summary_draft" : "fyi_draft"; }

std::string_view to_string(EffectState s) {
    switch (s) {
        case EffectState::pending: return "pending";
        case EffectState::done: return "done";
        case EffectState::failed: return "failed";
    }
    return "failed";
}

namespace {
Effect read_effect(Statement& s) {
    Effect e;
    e.id = s.integer(0);
    e.kind = s.text(1) == "fyi_draft" ? EffectKind::fyi_draft : EffectKind::summary_draft;
    e.key = s.text(2);
    const std::string state = s.text(3);
    e.state = state == "pending" ? EffectState::pending : state == "done" ? EffectState::done : EffectState::failed;
    e.payload = nlohmann::json::parse(s.text(4), nullptr, false);
    if (e.payload.is_discarded()) e.payload = nlohmann::json::object();
    e.attempts = static_cast<int>(s.integer(5));
    e.not_before = from_db(s.integer(6));
    e.last_error = s.text(7);
    e.created = from_db(s.integer(8));
    return e;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Opening, errors, transactions

StateStore::StateStore(const std::string& state_dir, Faults faults) : faults_(std::move(faults)) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec)
        throw StoreError(StoreError::Kind::io, "cannot create state_dir " + state_dir + ": " + ec.message() +
                                                   "; create it, or set state_dir in the settings to a writable folder");
    ::chmod(state_dir.c_str(), 0700);  // it holds the mail metadata of one person
    path_ = (std::filesystem::path(state_dir) / "state.sqlite").string();
    // No allocation statistics: keeping them takes a global mutex around every allocation
    // SQLite makes (measured: ~7 % of a first scan in pthread_mutex_lock/unlock). Only takes
    // effect before SQLite's first use in the process; later calls are refused, harmlessly.
    static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)memstatus_off;
    const int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        try {
            fail(rc, "opening it");
        } catch (...) {
            close();
            throw;
        }
    }
    ::chmod(path_.c_str(), 0600);
    // Another process (a sqlite3 shell, a backup tool) may hold a lock for a moment: wait a
    // little, never long — the daemon's thread also serves the API.
    sqlite3_busy_timeout(db_, 2000);
    if (faults_.refuse_commit)
        sqlite3_commit_hook(db_, [](void* self) -> int {
            return static_cast<StateStore*>(self)->faults_.refuse_commit() ? 1 : 0;
        }, this);
    try {
        // A file that is not a database fails here, not later.
        // WAL with synchronous=NORMAL: a commit appends to the WAL without an fsync (the WAL is
        // synced at checkpoints), which keeps a scan's batch commits cheap. A crash of the
        // process loses nothing committed; a power loss can lose the last transactions, and the
        // database stays consistent. For mail that is safe to lose: a folder's mark commits
        // with its batch, so the folder resumes from the older mark and fetches those messages
        // from the server again (a notification broadcast from a lost batch can be raised once
        // more). Other writers' last transactions are lost the same way.
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        if (faults_.max_pages) exec(("PRAGMA max_page_count=" + std::to_string(*faults_.max_pages)).c_str());
        migrate();
        load_contact_states();
    } catch (...) {
        close();
        throw;
    }
}

void StateStore::load_contact_states() {
    Statement s(*this, "SELECT address, state, reason, message_id, detail, changed FROM contact_states");
    while (s.step())
        contact_states_.emplace(s.text(0), read_contact_status(s, 1));
}

std::optional<ContactStatus> StateStore::contact_state(const std::string& address) const {
    std::lock_guard<std::mutex> lock(contact_states_mutex_);
    const auto it = contact_states_.find(address);
    if (it == contact_states_.end()) return std::nullopt;
    return it->second;
}

void StateStore::close() {
    // Cached statements keep the connection open: finalize them first.
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
}

StateStore::~StateStore() { close(); }

void StateStore::fail(int rc, const std::string& doing) {
    const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const std::string db = "state database " + path_;
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            throw StoreError(StoreError::Kind::busy,
                             db + " is locked by another process (" + detail +
                                 "); close any program that has it open, such as a sqlite3 shell. rapportd retries.");
        case SQLITE_READONLY:
            throw StoreError(StoreError::Kind::read_only,
                             db + " is read-only (" + detail + "); make the file and its folder writable by this user.");
        case SQLITE_FULL:
            throw StoreError(StoreError::Kind::full,
                             "the disk holding " + db + " is full; free some space. rapportd retries; nothing already "
                             "stored is lost.");
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            throw StoreError(StoreError::Kind::corrupt,
                             db + " is damaged (" + detail + "). Stop rapportd and restore the file from a backup, or "
                             "move it away: a new one is made at the next start (folders are scanned again; stored "
                             "nudges and notifications are lost).");
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
            throw StoreError(StoreError::Kind::io, "cannot use " + db + " while " + doing + " (" + detail +
                                                       "); check the disk and the permissions of state_dir.");
        case SQLITE_MISUSE:
            throw StoreError(StoreError::Kind::misuse, db + ": " + detail + " (a bug in rapportd; please report it)");
        default:
            throw StoreError(StoreError::Kind::other, db + ": " + doing + " failed: " + detail);
    }
}

sqlite3_stmt* StateStore::cached(const char* sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, "preparing a query");
    statements_.emplace(sql, stmt);
    return stmt;
}

void StateStore::exec(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, "writing");
}

// BEGIN and COMMIT run once per transaction, and every API request is a read transaction:
// sqlite3_exec would parse them each time (measured: ~7 % of a compose.check round trip,
// half of it in sqlite3_prepare), so they are prepared once like any other statement.
void StateStore::control(const char* sql) {
    struct ResetAfter {
        sqlite3_stmt* stmt;
        ~ResetAfter() { sqlite3_reset(stmt); }  // after fail() has read the error message
    } statement{cached(sql)};
    const int rc = sqlite3_step(statement.stmt);
    if (rc != SQLITE_DONE) fail(rc, "writing");
}

int StateStore::schema_version() {
    Statement s(*this, "PRAGMA user_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

void StateStore::migrate() {
    const int current = schema_version();
    if (current > kSchemaVersion)
        throw StoreError(StoreError::Kind::other,
                         "state database " + path_ + " was written by a newer rapportd (schema " +
                             std::to_string(current) + "); upgrade rapportd or move the file away");
    for (int v = current; v < kSchemaVersion; ++v) {
        run_write([&](WriteTx&) {
            exec(kMigrations[v]);
            exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
        });
    }
}

// One transaction: BEGIN (deferred for a read, IMMEDIATE for a write: it takes the write lock
// at once, so a busy database fails here and not half-way), fn, COMMIT; on any exception the
// transaction is rolled back and the exception goes on. The store's lock is held throughout.
template <class Tx>
void StateStore::transaction(const char* what, const char* begin, const std::function<void(Tx&)>& fn) {
    if (transaction_thread_.load() == std::this_thread::get_id())
        throw StoreError(StoreError::Kind::misuse, "state database " + path_ + ": a " + what +
                                                       " inside another transaction (a bug in rapportd; please report it)");
    std::lock_guard<std::mutex> lock(transaction_mutex_);
    transaction_thread_ = std::this_thread::get_id();
    try {
        uncommitted_contact_states_.clear();
        control(begin);
        Tx tx(*this);
        fn(tx);
        control("COMMIT");
        if (!uncommitted_contact_states_.empty()) {
            std::lock_guard<std::mutex> states_lock(contact_states_mutex_);
            for (auto& [address, status] : uncommitted_contact_states_)
                contact_states_.insert_or_assign(std::move(address), std::move(status));
            uncommitted_contact_states_.clear();
        }
        transaction_thread_ = std::thread::id();
    } catch (...) {
        // A refused COMMIT (commit hook, disk full) may already have ended the transaction.
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        uncommitted_contact_states_.clear();
        transaction_thread_ = std::thread::id();
        throw;
    }
}

void StateStore::run_write(const std::function<void(WriteTx&)>& fn) { transaction("write", "BEGIN IMMEDIATE", fn); }

void StateStore::run_read(const std::function<void(ReadTx&)>& fn) { transaction("read", "BEGIN", fn); }

// ---------------------------------------------------------------------------------------------
// Queries

std::optional<std::string> ReadTx::meta(const std::string& key) {
    Statement s(store_, "SELECT value FROM meta WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
}

std::vector<StoredNotification> ReadTx::notifications_after(int64_t after, std::size_t limit) {
    Statement s(store_, "SELECT id, kind, time, account, text, extra, acked FROM notifications "
                        "WHERE id > ? ORDER BY id LIMIT ?");
    s.bind(1, after).bind(2, static_cast<int64_t>(limit));
    std::vector<StoredNotification> out;
    while (s.step()) out.push_back(read_notification(s));
    return out;
}

int64_t ReadTx::last_notification_id() {
    // The sequence, not MAX(id): after the newest rows were pruned, MAX would go back.
    Statement s(store_, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'notifications'), 0)");
    s.step();
    return s.integer(0);
}

std::optional<Nudge> ReadTx::nudge(int64_t id) {
    Statement s(store_, "SELECT id, account, kind, due, state, text FROM nudges WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_nudge(s);
}

std::vector<Nudge> ReadTx::nudges(NudgeFilter filter) {
    const char* sql = nullptr;
    switch (filter) {
        case NudgeFilter::scheduled:
            sql = "SELECT id, account, kind, due, state, text FROM nudges "
                  "WHERE state IN ('pending', 'snoozed') ORDER BY due, id";
            break;
        case NudgeFilter::due:
            sql = "SELECT id, account, kind, due, state, text FROM nudges WHERE state = 'due' ORDER BY due, id";
            break;
        case NudgeFilter::open:
            sql = "SELECT id, account, kind, due, state, text FROM nudges "
                  "WHERE state IN ('pending', 'snoozed', 'due') ORDER BY due, id";
            break;
        case NudgeFilter::all:
            sql = "SELECT id, account, kind, due, state, text FROM nudges ORDER BY due, id";
            break;
    }
    Statement s(store_, sql);
    std::vector<Nudge> out;
    while (s.step()) out.push_back(read_nudge(s));
    return out;
}

std::optional<DealRecord> ReadTx::deal(const std::string& account) {
    Statement s(store_, "SELECT account, state, COALESCE(lost_at, 0), COALESCE(competitor, ''), "
                        "COALESCE(delivery, ''), COALESCE(note, ''), updated FROM deals WHERE account = ?");
    s.bind(1, account);
    if (!s.step()) return std::nullopt;
    DealRecord d;
    d.account = s.text(0);
    d.state = s.text(1) == "lost" ? DealState::lost : DealState::reopened;
    d.lost_at = from_db(s.integer(2));
    d.competitor = s.text(3);
    d.delivery = s.text(4);
    d.note = s.text(5);
    d.updated = from_db(s.integer(6));
    return d;
}

std::vector<std::string> ReadTx::lost_accounts() {
    Statement s(store_, "SELECT account FROM deals WHERE state = 'lost' ORDER BY account");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::optional<FolderMark> ReadTx::folder_mark(const std::string& mailbox, const std::string& folder) {
    Statement s(store_, "SELECT uidvalidity, last_uid, COALESCE(highestmodseq, 0), history_below, scanned "
                        "FROM folder_sync WHERE mailbox = ? AND folder = ?");
    s.bind(1, mailbox).bind(2, folder);
    if (!s.step()) return std::nullopt;
    FolderMark m;
    m.uidvalidity = static_cast<uint32_t>(s.integer(0));
    m.last_uid = static_cast<uint32_t>(s.integer(1));
    m.highestmodseq = static_cast<uint64_t>(s.integer(2));
    m.history_below = static_cast<uint32_t>(s.integer(3));
    m.scanned = s.integer(4) != 0;
    return m;
}

bool ReadTx::message_seen(const std::string& mailbox, const std::string& folder, const std::string& message_id) {
    Statement s(store_, "SELECT 1 FROM seen_messages WHERE folder = "
                        "(SELECT id FROM folders WHERE mailbox = ? AND folder = ?) AND message_id = ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, message_id);
    return s.step();
}

int64_t ReadTx::messages_seen(const std::string& mailbox) {
    Statement s(store_, "SELECT COUNT(*) FROM seen_messages WHERE folder IN (SELECT id FROM folders WHERE mailbox = ?)");
    s.bind(1, mailbox);
    s.step();
    return s.integer(0);
}

int64_t ReadTx::messages_seen(const std::string& mailbox, const std::string& folder) {
    Statement s(store_, "SELECT COUNT(*) FROM seen_messages WHERE folder = "
                        "(SELECT id FROM folders WHERE mailbox = ? AND folder = ?)");
    s.bind(1, mailbox).bind(2, folder);
    s.step();
    return s.integer(0);
}

std::optional<TimePoint> ReadTx::last_contact(const std::string& account, const std::string& address) {
    Statement s(store_, "SELECT MAX(COALESCE(last_in, 0), COALESCE(last_out, 0)) FROM contact_activity "
                        "WHERE account = ? AND address = ?");
    s.bind(1, account).bind(2, address);
    if (!s.step() || s.is_null(0) || s.integer(0) == 0) return std::nullopt;
    return from_db(s.integer(0));
}

namespace {

ContactSeen read_contact_seen(Statement& s, int first) {
    ContactSeen c;
    c.address = s.text(first);
    if (!s.is_null(first + 1)) c.last_in = from_db(s.integer(first + 1));
    if (!s.is_null(first + 2)) c.last_out = from_db(s.integer(first + 2));
    return c;
}

}  // namespace

std::vector<ContactSeen> ReadTx::contacts_seen(const std::string& account) {
    Statement s(store_, "SELECT address, last_in, last_out FROM contact_activity WHERE account = ? ORDER BY address");
    s.bind(1, account);
    std::vector<ContactSeen> out;
    while (s.step()) out.push_back(read_contact_seen(s, 0));
    return out;
}

std::vector<AccountSeen> ReadTx::contacts_seen() {
    Statement s(store_, "SELECT account, address, last_in, last_out FROM contact_activity ORDER BY account, address");
    std::vector<AccountSeen> out;
    while (s.step()) {
        std::string account = s.text(0);
        if (out.empty() || out.back().account != account) out.push_back({std::move(account), {}});
        out.back().contacts.push_back(read_contact_seen(s, 1));
    }
    return out;
}

bool ReadTx::wrote_to(const std::string& account, const std::string& address) {
    Statement s(store_, "SELECT last_out FROM contact_activity WHERE account = ? AND address = ?");
    s.bind(1, account).bind(2, address);
    return s.step() && !s.is_null(0);
}

std::optional<ContactStatus> ReadTx::contact_state(const std::string& address) {
    Statement s(store_, "SELECT state, reason, message_id, detail, changed FROM contact_states WHERE address = ?");
    s.bind(1, address);
    if (!s.step()) return std::nullopt;
    return read_contact_status(s, 0);
}

std::vector<BodyRead> ReadTx::body_reads(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity,
                                         std::size_t limit) {
    Statement s(store_, "SELECT uid, message_id, reason, payload, attempts, created FROM body_reads "
                        "WHERE mailbox = ? AND folder = ? AND uidvalidity = ? ORDER BY uid LIMIT ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(uidvalidity)).bind(4, static_cast<int64_t>(limit));
    std::vector<BodyRead> out;
    while (s.step()) {
        BodyRead r;
        r.mailbox = mailbox;
        r.folder = folder;
        r.uidvalidity = uidvalidity;
        r.uid = static_cast<uint32_t>(s.integer(0));
        r.message_id = s.text(1);
        r.reason = s.text(2);
        r.payload = nlohmann::json::parse(s.text(3), nullptr, false);
        if (r.payload.is_discarded()) r.payload = nlohmann::json::object();
        r.attempts = static_cast<int>(s.integer(4));
        r.created = from_db(s.integer(5));
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<AccountWatch> ReadTx::account_watches() {
    Statement s(store_, "SELECT account, owner, first_seen, loss_applied, silence_told, single_threaded_armed, handoffs "
                        "FROM account_watch");
    std::vector<AccountWatch> out;
    while (s.step()) {
        AccountWatch w;
        w.account = s.text(0);
        w.owner = s.text(1);
        w.first_seen = from_db(s.integer(2));
        w.loss_applied = s.text(3);
        if (!s.is_null(4)) w.silence_told = from_db(s.integer(4));
        w.single_threaded_armed = s.integer(5) != 0;
        w.handoffs = s.integer(6);
        out.push_back(std::move(w));
    }
    return out;
}

void WriteTx::set_account_watch(const AccountWatch& w) {
    Statement s(store_, "INSERT OR REPLACE INTO account_watch(account, owner, first_seen, loss_applied, silence_told, "
                        "single_threaded_armed, handoffs) VALUES(?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, w.account).bind(2, w.owner).bind(3, to_db(w.first_seen)).bind(4, w.loss_applied);
    if (w.silence_told) s.bind(5, to_db(*w.silence_told)); else s.bind_null(5);
    s.bind(6, int64_t{w.single_threaded_armed ? 1 : 0}).bind(7, w.handoffs).step();
}

int64_t ReadTx::body_reads_pending(const std::string& mailbox, const std::string& folder) {
    Statement s(store_, "SELECT COUNT(*) FROM body_reads WHERE mailbox = ? AND folder = ?");
    s.bind(1, mailbox).bind(2, folder);
    s.step();
    return s.integer(0);
}

std::vector<EndedMeeting> ReadTx::ended_meetings() {
    Statement s(store_, "SELECT calendar, uid, occurrence, outcome FROM meetings_ended");
    std::vector<EndedMeeting> out;
    while (s.step())
        out.push_back({s.text(0), s.text(1), s.integer(2),
                       s.text(3) == "expired" ? MeetingOutcome::expired : MeetingOutcome::fired});
    return out;
}

std::vector<StoredDraft> ReadTx::drafts() {
    Statement s(store_, "SELECT id, account, meeting, mailbox, subject, created, kind FROM drafts ORDER BY created DESC, id");
    std::vector<StoredDraft> out;
    while (s.step()) {
        StoredDraft d;
        d.id = s.text(0);
        d.account = s.text(1);
        d.meeting = s.text(2);
        d.mailbox = s.text(3);
        d.subject = s.text(4);
        d.created = from_db(s.integer(5));
        d.kind = s.text(6);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<Effect> ReadTx::effects(EffectState state) {
    Statement s(store_, "SELECT id, kind, key, state, payload, attempts, not_before, COALESCE(last_error, ''), created "
                        "FROM effects WHERE state = ? ORDER BY not_before, id");
    s.bind(1, std::string(to_string(state)));
    std::vector<Effect> out;
    while (s.step()) out.push_back(read_effect(s));
    return out;
}

std::optional<Effect> ReadTx::effect(const std::string& key) {
    Statement s(store_, "SELECT id, kind, key, state, payload, attempts, not_before, COALESCE(last_error, ''), created "
                        "FROM effects WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return read_effect(s);
}

std::vector<AccountMessage> ReadTx::account_messages(const std::string& account, TimePoint since, std::size_t limit) {
    Statement s(store_, "SELECT message_id, date, inbound, contact, subject FROM account_messages "
                        "WHERE account = ? AND date >= ? ORDER BY date DESC, message_id LIMIT ?");
    s.bind(1, account).bind(2, to_db(since)).bind(3, static_cast<int64_t>(limit));
    std::vector<AccountMessage> out;
    while (s.step()) out.push_back({account, s.text(0), from_db(s.integer(1)), s.integer(2) != 0, s.text(3), s.text(4)});
    return out;
}

// ---------------------------------------------------------------------------------------------
// Changes

void WriteTx::set_meta(const std::string& key, const std::string& value) {
    Statement s(store_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value).step();
}

StoredNotification WriteTx::add_notification(const std::string& kind, TimePoint time, const std::string& account,
                                             const std::string& text, const nlohmann::json& extra) {
    Statement s(store_, "INSERT INTO notifications(kind, time, account, text, extra) VALUES(?, ?, ?, ?, ?)");
    s.bind(1, kind).bind(2, to_db(time)).bind_text_or_null(3, account).bind(4, text);
    s.bind(5, extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    s.step();
    StoredNotification n;
    n.id = s.last_rowid();
    n.kind = kind;
    n.time = time;
    n.account = account;
    n.text = text;
    n.extra = extra.is_object() ? extra : nlohmann::json::object();
    return n;
}

bool WriteTx::ack_notification(int64_t id, TimePoint when) {
    Statement s(store_, "UPDATE notifications SET acked = 1, acked_at = COALESCE(acked_at, ?) WHERE id = ?");
    s.bind(1, to_db(when)).bind(2, id).step();
    return s.changes() > 0;
}

std::size_t WriteTx::prune_notifications(TimePoint acked_before) {
    Statement s(store_, "DELETE FROM notifications WHERE acked = 1 AND time < ?");
    s.bind(1, to_db(acked_before)).step();
    return static_cast<std::size_t>(s.changes());
}

Nudge WriteTx::add_nudge(const PlannedNudge& p, TimePoint created) {
    Statement s(store_, "INSERT INTO nudges(account, kind, due, state, text, created) VALUES(?, ?, ?, 'pending', ?, ?)");
    s.bind(1, p.account).bind(2, p.kind).bind(3, to_db(p.due)).bind(4, p.text).bind(5, to_db(created)).step();
    return Nudge{s.last_rowid(), p.account, p.kind, p.due, NudgeState::pending, p.text};
}

bool WriteTx::set_nudge(int64_t id, NudgeState state, std::optional<TimePoint> due) {
    const std::string name(to_string(state));
    if (due) {
        Statement s(store_, "UPDATE nudges SET state = ?, due = ? WHERE id = ?");
        s.bind(1, name).bind(2, to_db(*due)).bind(3, id).step();
        return s.changes() > 0;
    }
    Statement s(store_, "UPDATE nudges SET state = ? WHERE id = ?");
    s.bind(1, name).bind(2, id).step();
    return s.changes() > 0;
}

std::size_t WriteTx::cancel_open_nudges(const std::string& account) {
    Statement s(store_, "UPDATE nudges SET state = 'cancelled' WHERE account = ? AND state IN ('pending', 'snoozed', 'due')");
    s.bind(1, account).step();
    return static_cast<std::size_t>(s.changes());
}

void WriteTx::set_deal(const DealRecord& d) {
    Statement s(store_, "INSERT INTO deals(account, state, lost_at, competitor, delivery, note, updated) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account) DO UPDATE SET state = excluded.state, "
                        "lost_at = excluded.lost_at, competitor = excluded.competitor, "
                        "delivery = excluded.delivery, note = excluded.note, updated = excluded.updated");
    s.bind(1, d.account).bind(2, std::string(deal_state_name(d.state))).bind(3, to_db(d.lost_at)).bind(4, d.competitor)
        .bind(5, d.delivery).bind(6, d.note).bind(7, to_db(d.updated)).step();
}

void WriteTx::set_folder_mark(const std::string& mailbox, const std::string& folder, const FolderMark& m) {
    Statement s(store_, "INSERT INTO folder_sync(mailbox, folder, uidvalidity, last_uid, highestmodseq, history_below, scanned) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(mailbox, folder) DO UPDATE SET "
                        "uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, "
                        "highestmodseq = excluded.highestmodseq, history_below = excluded.history_below, "
                        "scanned = excluded.scanned");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(m.uidvalidity))
        .bind(4, static_cast<int64_t>(m.last_uid)).bind(5, static_cast<int64_t>(m.highestmodseq))
        .bind(6, static_cast<int64_t>(m.history_below)).bind(7, m.scanned ? 1 : 0).step();
}

namespace {

// Rows per INSERT for the tables a scan writes once per message: one statement's start-up
// (cursor, program) shared by many rows. A batch's remainder goes one row at a time.
constexpr std::size_t kRowsPerInsert = 50;

// `insert`, then kRowsPerInsert rows' placeholders (`row(i)`), comma-separated.
template <class Row>
std::string many_rows(const char* insert, Row row) {
    std::string sql = insert;
    for (std::size_t i = 0; i < kRowsPerInsert; ++i) sql += (i ? ", " : "") + row(i);
    return sql;
}

// ?1 is the folder, ?2 the time, ?3… the Message-IDs.
const std::string& seen_insert_sql(std::size_t rows) {
    static const char* const insert = "INSERT OR IGNORE INTO seen_messages(folder, message_id, seen_at) VALUES ";
    static const std::string many = many_rows(insert, [](std::size_t i) { return "(?1, ?" + std::to_string(i + 3) + ", ?2)"; });
    static const std::string one = std::string(insert) + "(?1, ?3, ?2)";
    return rows == kRowsPerInsert ? many : one;
}

const std::string& account_message_insert_sql(std::size_t rows) {
    static const char* const insert =
        "INSERT OR IGNORE INTO account_messages(account, message_id, date, inbound, contact, subject) VALUES ";
    static const std::string many = many_rows(insert, [](std::size_t) { return std::string("(?, ?, ?, ?, ?, ?)"); });
    static const std::string one = std::string(insert) + "(?, ?, ?, ?, ?, ?)";
    return rows == kRowsPerInsert ? many : one;
}

}  // namespace

std::size_t WriteTx::record_messages(const std::string& mailbox, const std::string& folder,
                                     const std::vector<std::string_view>& message_ids, TimePoint seen_at) {
    if (message_ids.empty()) return 0;
    {
        Statement s(store_, "INSERT OR IGNORE INTO folders(mailbox, folder) VALUES(?, ?)");
        s.bind(1, mailbox).bind(2, folder).step();
    }
    int64_t key = 0;
    {
        Statement s(store_, "SELECT id FROM folders WHERE mailbox = ? AND folder = ?");
        s.bind(1, mailbox).bind(2, folder).step();
        key = s.integer(0);
    }
    std::size_t added = 0;
    for (std::size_t i = 0; i < message_ids.size();) {
        const std::size_t rows = message_ids.size() - i >= kRowsPerInsert ? kRowsPerInsert : 1;
        Statement s(store_, seen_insert_sql(rows).c_str());
        s.bind(1, key).bind(2, to_db(seen_at));
        for (std::size_t r = 0; r < rows; ++r) s.bind_static(static_cast<int>(r + 3), message_ids[i + r]);
        s.step();
        added += static_cast<std::size_t>(s.changes());
        i += rows;
    }
    return added;
}

void WriteTx::record_contact(const std::string& account, const std::string& address, bool inbound, TimePoint when,
                             const std::string& message_id) {
    if (inbound) {
        Statement s(store_, "INSERT INTO contact_activity(account, address, last_in, last_in_id) VALUES(?, ?, ?, ?) "
                            "ON CONFLICT(account, address) DO UPDATE SET last_in = excluded.last_in, "
                            "last_in_id = excluded.last_in_id WHERE last_in IS NULL OR excluded.last_in > last_in");
        s.bind_static(1, account).bind_static(2, address).bind(3, to_db(when)).bind_static(4, message_id).step();
    } else {
        Statement s(store_, "INSERT INTO contact_activity(account, address, last_out, last_out_id) VALUES(?, ?, ?, ?) "
                            "ON CONFLICT(account, address) DO UPDATE SET last_out = excluded.last_out, "
                            "last_out_id = excluded.last_out_id WHERE last_out IS NULL OR excluded.last_out > last_out");
        s.bind_static(1, account).bind_static(2, address).bind(3, to_db(when)).bind_static(4, message_id).step();
    }
}

bool WriteTx::record_meeting_end(const EndedMeeting& m, TimePoint ended_at) {
    Statement s(store_, "INSERT OR IGNORE INTO meetings_ended(calendar, uid, occurrence, ended_at, outcome) "
                        "VALUES(?, ?, ?, ?, ?)");
    s.bind(1, m.calendar).bind(2, m.uid).bind(3, m.occurrence).bind(4, to_db(ended_at))
        .bind(5, std::string(to_string(m.outcome))).step();
    return s.changes() > 0;
}

std::optional<Effect> WriteTx::add_effect(EffectKind kind, const std::string& key, const nlohmann::json& payload,
                                          TimePoint not_before, TimePoint created) {
    Statement s(store_, "INSERT OR IGNORE INTO effects(kind, key, state, payload, not_before, created) "
                        "VALUES(?, ?, 'pending', ?, ?, ?)");
    s.bind(1, std::string(to_string(kind))).bind(2, key)
        .bind(3, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        .bind(4, to_db(not_before)).bind(5, to_db(created)).step();
    if (s.changes() == 0) return std::nullopt;
    Effect e;
    e.id = s.last_rowid();
    e.kind = kind;
    e.key = key;
    e.payload = payload;
    e.not_before = not_before;
    e.created = created;
    return e;
}

void WriteTx::retry_effect(int64_t id, int attempts, TimePoint not_before, const std::string& error) {
    Statement s(store_, "UPDATE effects SET attempts = ?, not_before = ?, last_error = ? WHERE id = ? AND state = 'pending'");
    s.bind(1, attempts).bind(2, to_db(not_before)).bind(3, error).bind(4, id).step();
}

void WriteTx::finish_effect(int64_t id, EffectState state, TimePoint when, const std::string& error) {
    Statement s(store_, "UPDATE effects SET state = ?, finished = ?, last_error = ? WHERE id = ?");
    s.bind(1, std::string(to_string(state))).bind(2, to_db(when)).bind_text_or_null(3, error).bind(4, id).step();
}

void WriteTx::record_draft(const StoredDraft& d) {
    Statement s(store_, "INSERT OR REPLACE INTO drafts(id, account, meeting, mailbox, subject, created, kind) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, d.id).bind(2, d.account).bind(3, d.meeting).bind(4, d.mailbox).bind(5, d.subject)
        .bind(6, to_db(d.created)).bind(7, d.kind).step();
}

namespace {

// The rows worth inserting, by account: the first per Message-ID, and of those only the
// newest `kept`. Any other row would rank behind that many rows of the same write, so the
// prune after the insert would delete it at once.
std::map<std::string_view, std::vector<AccountMessageRow>> rows_worth_writing(const std::vector<AccountMessageRow>& rows,
                                                                              std::size_t kept) {
    std::map<std::string_view, std::vector<AccountMessageRow>> by_account;
    std::set<std::pair<std::string_view, std::string_view>> ids;
    for (const auto& r : rows)
        if (ids.emplace(r.account, r.message_id).second) by_account[r.account].push_back(r);
    const auto newer = [](const AccountMessageRow& a, const AccountMessageRow& b) {
        return a.date != b.date ? a.date > b.date : a.message_id < b.message_id;
    };
    for (auto& [account, written] : by_account) {
        const std::size_t keep = std::min(kept, written.size());
        std::partial_sort(written.begin(), written.begin() + static_cast<std::ptrdiff_t>(keep), written.end(), newer);
        written.resize(keep);
    }
    return by_account;
}

}  // namespace

void WriteTx::record_account_messages(const std::vector<AccountMessageRow>& all_rows) {
    const auto by_account = rows_worth_writing(all_rows, StateStore::kAccountMessagesKept);
    std::vector<AccountMessageRow> rows;
    for (const auto& [account, kept] : by_account) rows.insert(rows.end(), kept.begin(), kept.end());
    for (std::size_t i = 0; i < rows.size();) {
        const std::size_t n = rows.size() - i >= kRowsPerInsert ? kRowsPerInsert : 1;
        Statement s(store_, account_message_insert_sql(n).c_str());
        for (std::size_t r = 0; r < n; ++r) {
            const auto& m = rows[i + r];
            const int p = static_cast<int>(r * 6);
            s.bind_static(p + 1, m.account).bind_static(p + 2, m.message_id).bind(p + 3, to_db(m.date))
                .bind(p + 4, m.inbound ? 1 : 0).bind_static(p + 5, m.contact).bind_static(p + 6, m.subject);
        }
        s.step();
        i += n;
    }
    // Ordered like account_messages() reads them, so the rows kept are the ones it would show.
    for (const auto& [account, kept] : by_account) {
        Statement s(store_, "DELETE FROM account_messages WHERE account = ?1 AND message_id IN ("
                            "SELECT message_id FROM account_messages WHERE account = ?1 "
                            "ORDER BY date DESC, message_id LIMIT -1 OFFSET ?2)");
        s.bind_static(1, account).bind(2, static_cast<int64_t>(StateStore::kAccountMessagesKept)).step();
    }
}

bool WriteTx::set_contact_state(const std::string& address, ContactState state, const std::string& reason,
                                const std::string& message_id, TimePoint when, const std::string& detail) {
    const auto current = contact_state(address);
    if (current ? current->state == state : state == ContactState::active) return false;
    Statement s(store_, "INSERT INTO contact_states(address, state, reason, message_id, detail, changed) "
                        "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET state = excluded.state, "
                        "reason = excluded.reason, message_id = excluded.message_id, detail = excluded.detail, "
                        "changed = excluded.changed");
    s.bind(1, address).bind(2, std::string(to_string(state))).bind(3, reason).bind(4, message_id).bind(5, detail)
        .bind(6, to_db(when)).step();
    // As it reads back (the time in whole seconds), for the mirror once this commits.
    store_.uncommitted_contact_states_.emplace_back(address, ContactStatus{state, reason, message_id, detail, from_db(to_db(when))});
    return true;
}

void WriteTx::add_body_read(const BodyRead& r) {
    Statement s(store_, "INSERT OR IGNORE INTO body_reads(mailbox, folder, uidvalidity, uid, message_id, reason, "
                        "payload, attempts, created) VALUES(?, ?, ?, ?, ?, ?, ?, 0, ?)");
    s.bind(1, r.mailbox).bind(2, r.folder).bind(3, static_cast<int64_t>(r.uidvalidity)).bind(4, static_cast<int64_t>(r.uid))
        .bind(5, r.message_id).bind(6, r.reason).bind(7, r.payload.dump()).bind(8, to_db(r.created)).step();
}

void WriteTx::finish_body_read(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity, uint32_t uid) {
    Statement s(store_, "DELETE FROM body_reads WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(uidvalidity)).bind(4, static_cast<int64_t>(uid)).step();
}

void WriteTx::retry_body_read(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity, uint32_t uid) {
    Statement s(store_, "UPDATE body_reads SET attempts = attempts + 1 WHERE mailbox = ? AND folder = ? AND "
                        "uidvalidity = ? AND uid = ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(uidvalidity)).bind(4, static_cast<int64_t>(uid)).step();
}

std::size_t WriteTx::drop_body_reads(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity) {
    Statement s(store_, "DELETE FROM body_reads WHERE mailbox = ? AND folder = ? AND uidvalidity <> ?");
    s.bind(1, mailbox).bind(2, folder).bind(3, static_cast<int64_t>(uidvalidity)).step();
    return static_cast<std::size_t>(s.changes());
}

bool WriteTx::raise_signal(const std::string& kind, const std::string& key, TimePoint when) {
    Statement s(store_, "INSERT OR IGNORE INTO raised_signals(kind, key, raised) VALUES(?, ?, ?)");
    s.bind(1, kind).bind(2, key).bind(3, to_db(when)).step();
    return s.changes() > 0;
}

std::size_t WriteTx::prune_account_messages(TimePoint before) {
    Statement s(store_, "DELETE FROM account_messages WHERE date < ?");
    s.bind(1, to_db(before)).step();
    return static_cast<std::size_t>(s.changes());
}

std::size_t WriteTx::prune_ended_meetings(TimePoint occurrence_before) {
    Statement s(store_, "DELETE FROM meetings_ended WHERE occurrence < ?");
    s.bind(1, to_db(occurrence_before)).step();
    return static_cast<std::size_t>(s.changes());
}

}  // namespace rapport

#pragma once
// The daemon's memory across restarts: sync marks, notifications, nudges, deals, drafts,
// contact activity, ended meetings. One SQLite file in WAL mode under state_dir.
//
// Whole transactions only. Every change goes through write(): it begins, runs the caller's
// function with a WriteTx, and commits — or rolls back its own work and throws — before it
// returns. Nothing can hold a transaction open across an asynchronous step, and one writer's
// failure can never undo another's work (the old API let a watcher keep BEGIN open across
// network callbacks; a second folder's BEGIN then failed and rolled back the first's batch).
// Reads go through read(), which sees one consistent snapshot.
//
// One transaction at a time, from any thread: read() and write() take the store's lock, so a
// folder's batch can be written on the store writer thread while the daemon's thread parses
// the next one (docs/architecture.md, "Scan speed"); a caller on another thread waits for the
// transaction in progress. The schema lives in this file's .cpp only.
#include <cstdint>
#include <functional>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/account_review.hpp"
#include "rapport/contact_state.hpp"
#include "rapport/folder_sync.hpp"
#include "rapport/meetings.hpp"
#include "rapport/nudges.hpp"
#include "rapport/time.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace rapport {

class StoreError : public std::runtime_error {
public:
    // What went wrong, so callers can tell a busy database (retry soon) from a broken one.
    enum class Kind { busy, read_only, full, corrupt, io, misuse, other };
    StoreError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    explicit StoreError(const std::string& message) : StoreError(Kind::other, message) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

struct StoredNotification {
    int64_t id = 0;
    std::string kind;
    TimePoint time;
    std::string account;  // empty for none
    std::string text;
    nlohmann::json extra = nlohmann::json::object();
    bool acked = false;
    nlohmann::json to_json() const;  // the params of a "notify" message (CONTRACT.md)
};

struct StoredDraft {
    std::string id;       // the X-Rapport-Draft value
    std::string kind = "summary";  // summary | fyi
    std::string account;
    std::string meeting;
    std::string mailbox;
    std::string subject;
    TimePoint created;
    nlohmann::json to_json() const;
};

// Per watched folder, mbsync-style (rapport/folder_sync.hpp).
using FolderMark = SyncMark;

enum class DealState { lost, reopened };

struct DealRecord {
    std::string account;
    DealState state = DealState::lost;
    TimePoint lost_at;
    std::string competitor;
    std::string delivery;  // ISO date or empty
    std::string note;
    TimePoint updated;

    // The record of a loss (deal.lost, or the rules' stage "lost").
    static DealRecord lost(const LossReport& loss, const std::string& note, TimePoint updated) {
        DealRecord d;
        d.account = loss.account;
        d.state = DealState::lost;
        d.lost_at = loss.lost_at;
        d.competitor = loss.competitor;
        d.delivery = loss.delivery ? format_date(*loss.delivery) : "";
        d.note = note;
        d.updated = updated;
        return d;
    }
};

struct EndedMeeting {
    std::string calendar, uid;
    int64_t occurrence = 0;
    MeetingOutcome outcome = MeetingOutcome::fired;
};

// The effects journal, mbsync-style: an intent to touch the outside world (APPEND a draft) is
// written in the same transaction as the decision that wants it, executed after the commit,
// and finished after. Its key is stable (e.g. the meeting occurrence), so a decision taken
// twice adds nothing, and the executor can find what a crash interrupted (the draft's
// X-Rapport-Draft header) before doing it again.
enum class EffectKind { summary_draft, fyi_draft };
enum class EffectState { pending, done, failed };
std::string_view to_string(EffectKind k);
std::string_view to_string(EffectState s);

struct Effect {
    int64_t id = 0;
    EffectKind kind = EffectKind::summary_draft;
    std::string key;
    EffectState state = EffectState::pending;
    nlohmann::json payload = nlohmann::json::object();
    int attempts = 0;
    TimePoint not_before;  // not executed before (delay, backoff)
    std::string last_error;
    TimePoint created;
};

// One message exchanged with an account, for a draft's context ("the last few subjects").
struct AccountMessage {
    std::string account, message_id;
    TimePoint date;
    bool inbound = false;
    std::string contact;  // the contact's address
    std::string subject;
};

// An AccountMessage to write, viewing the caller's strings: a scan writes one for each recent
// message, and copying four strings into each row was most of the store writer's allocations.
struct AccountMessageRow {
    std::string_view account, message_id;
    TimePoint date;
    bool inbound = false;
    std::string_view contact, subject;
};

// A body a folder still has to read (BODY.PEEK[], size-capped): written with the folder's mark
// in the batch that saw the message's header fields, removed in the transaction that stores
// what the body said. So each is read once, also across crashes and restarts, and the header
// sync never waits for a body.
struct BodyRead {
    std::string mailbox, folder;
    uint32_t uidvalidity = 0, uid = 0;
    std::string message_id;
    std::string reason;  // "report" (a bounce or auto-reply by its headers) | "customer" (loss phrases)
    nlohmann::json payload = nlohmann::json::object();  // what the decision needs again (sender, subject)
    int attempts = 0;
    TimePoint created;
};

enum class NudgeFilter { scheduled /* pending + snoozed */, due, open /* + due */, all };

class StateStore;

// Queries, valid only inside read() or write().
class ReadTx {
public:
    std::optional<std::string> meta(const std::string& key);

    std::vector<StoredNotification> notifications_after(int64_t after, std::size_t limit);
    int64_t last_notification_id();

    std::optional<Nudge> nudge(int64_t id);
    std::vector<Nudge> nudges(NudgeFilter filter);
    std::optional<DealRecord> deal(const std::string& account);
    std::vector<std::string> lost_accounts();  // accounts whose deal is lost (not reopened)

    std::optional<FolderMark> folder_mark(const std::string& mailbox, const std::string& folder);
    // True when this Message-ID was already recorded in this folder (any UIDVALIDITY): a
    // rescan after a UIDVALIDITY change must not repeat what it already told.
    bool message_seen(const std::string& mailbox, const std::string& folder, const std::string& message_id);
    int64_t messages_seen(const std::string& mailbox);
    int64_t messages_seen(const std::string& mailbox, const std::string& folder);
    std::optional<TimePoint> last_contact(const std::string& account, const std::string& address);
    // The newest message in and out per address at the account (contact activity).
    std::vector<ContactSeen> contacts_seen(const std::string& account);
    std::vector<AccountSeen> contacts_seen();  // every account's

    std::vector<AccountWatch> account_watches();

    // The user wrote to this contact (the newest outbound mail is recorded).
    bool wrote_to(const std::string& account, const std::string& address);
    // What the mail told about an address (normalised); nullopt: nothing, i.e. active.
    std::optional<ContactStatus> contact_state(const std::string& address);
    // The bodies still to read in this folder (UIDVALIDITY), lowest UID first.
    std::vector<BodyRead> body_reads(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity,
                                     std::size_t limit);
    int64_t body_reads_pending(const std::string& mailbox, const std::string& folder);

    std::vector<EndedMeeting> ended_meetings();
    std::vector<StoredDraft> drafts();

    std::vector<Effect> effects(EffectState state);
    std::optional<Effect> effect(const std::string& key);
    // Newest first, at most limit, dated at or after since. Only the account's newest
    // StateStore::kAccountMessagesKept are kept (see record_account_messages).
    std::vector<AccountMessage> account_messages(const std::string& account, TimePoint since, std::size_t limit);

protected:
    explicit ReadTx(StateStore& store) : store_(store) {}
    StateStore& store_;
    friend class StateStore;
};

// Changes, valid only inside write(); committed together when the function returns.
class WriteTx : public ReadTx {
public:
    void set_meta(const std::string& key, const std::string& value);

    // Ids increase and are never reused (AUTOINCREMENT), also after pruning.
    StoredNotification add_notification(const std::string& kind, TimePoint time, const std::string& account,
                                        const std::string& text, const nlohmann::json& extra);
    bool ack_notification(int64_t id, TimePoint when);
    // Removes acknowledged notifications older than the cutoff.
    std::size_t prune_notifications(TimePoint acked_before);

    Nudge add_nudge(const PlannedNudge& planned, TimePoint created);
    bool set_nudge(int64_t id, NudgeState state, std::optional<TimePoint> due);
    std::size_t cancel_open_nudges(const std::string& account);
    void set_deal(const DealRecord& deal);
    void set_account_watch(const AccountWatch& watch);

    void set_folder_mark(const std::string& mailbox, const std::string& folder, const FolderMark& mark);
    // Records the folder's messages as seen, by Message-ID; returns how many were new to it, so
    // a caller can keep the folder's count without a COUNT(*) per batch. Seen before: no change.
    std::size_t record_messages(const std::string& mailbox, const std::string& folder,
                                const std::vector<std::string_view>& message_ids, TimePoint seen_at);
    bool record_message(const std::string& mailbox, const std::string& folder, std::string_view message_id,
                        TimePoint seen_at) {
        return record_messages(mailbox, folder, {message_id}, seen_at) == 1;
    }
    // Keeps the newest date per direction; an older message seen later changes nothing.
    void record_contact(const std::string& account, const std::string& address, bool inbound, TimePoint when,
                        const std::string& message_id);

    // nullopt when an effect with this key exists already (the decision was taken before).
    std::optional<Effect> add_effect(EffectKind kind, const std::string& key, const nlohmann::json& payload,
                                     TimePoint not_before, TimePoint created);
    void retry_effect(int64_t id, int attempts, TimePoint not_before, const std::string& error);
    void finish_effect(int64_t id, EffectState state, TimePoint when, const std::string& error = "");
    void record_draft(const StoredDraft& draft);
    // The first row per (account, Message-ID) is kept, and of each account's rows only the
    // newest kAccountMessagesKept, by date and then Message-ID: nothing reads more.
    void record_account_messages(const std::vector<AccountMessageRow>& rows);
    std::size_t prune_account_messages(TimePoint before);

    // Records what the mail told about a contact; false (nothing written) when the contact is
    // already in that state: notify only on true.
    bool set_contact_state(const std::string& address, ContactState state, const std::string& reason,
                           const std::string& message_id, TimePoint when, const std::string& detail = "");
    void add_body_read(const BodyRead& read);  // a second add for the same UID changes nothing
    void finish_body_read(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity, uint32_t uid);
    void retry_body_read(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity, uint32_t uid);
    // Body reads of other UIDVALIDITYs (their UIDs mean nothing any more).
    std::size_t drop_body_reads(const std::string& mailbox, const std::string& folder, uint32_t uidvalidity);
    // False when this signal was raised for this key before (e.g. loss_signal per Message-ID).
    bool raise_signal(const std::string& kind, const std::string& key, TimePoint when);

    // False when it was already recorded: act only on true.
    bool record_meeting_end(const EndedMeeting& meeting, TimePoint ended_at);
    std::size_t prune_ended_meetings(TimePoint occurrence_before);

private:
    explicit WriteTx(StateStore& store) : ReadTx(store) {}
    friend class StateStore;
};

class StateStore {
public:
    static constexpr int kSchemaVersion = 9;
    // An account's messages are kept for a draft's "recent mail" list, which shows at most
    // this many: older ones are never read, and a first scan of a busy folder would otherwise
    // write a row per message (measured: 100,000 from one account scanned in 0.44-0.47 s with
    // every row, 0.37-0.42 s with these).
    static constexpr std::size_t kAccountMessagesKept = 10;

    // Faults a test can inject to prove that a failed write leaves everything else intact.
    struct Faults {
        // Asked before each COMMIT; true makes SQLite refuse the commit (the write rolls back
        // and throws, exactly as a real failure would).
        std::function<bool()> refuse_commit;
        // Caps the database's size in pages, so a test can fill the "disk".
        std::optional<int64_t> max_pages;
    };

    // Creates state_dir (0700) and the database if missing, migrates older schemas. Throws
    // StoreError naming the file and what to do when it cannot (locked, read-only, corrupt,
    // written by a newer rapportd).
    explicit StateStore(const std::string& state_dir, Faults faults = {});
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    const std::string& path() const { return path_; }
    int schema_version();

    // What the mail told about an address (normalised), as last committed; nullopt: nothing,
    // i.e. active. The same answer as ReadTx::contact_state, from memory and outside any
    // transaction: compose.check, on the io thread, neither opens a read transaction nor waits
    // behind a folder's batch write (docs/api.md#speed). Any thread.
    std::optional<ContactStatus> contact_state(const std::string& address) const;

    // Runs fn(WriteTx&) in one transaction: committed when fn returns, rolled back when fn or
    // the commit throws (the error is rethrown; StoreError says what to do). Returns fn's
    // result. Calling write() or read() from inside fn is a programming error (StoreError
    // Kind::misuse): there is one transaction at a time, and it is the caller's own.
    template <class F>
    auto write(F&& fn) -> std::invoke_result_t<F, WriteTx&> {
        using R = std::invoke_result_t<F, WriteTx&>;
        if constexpr (std::is_void_v<R>) {
            run_write([&](WriteTx& tx) { fn(tx); });
        } else {
            std::optional<R> result;
            run_write([&](WriteTx& tx) { result.emplace(fn(tx)); });
            return std::move(*result);
        }
    }

    template <class F>
    auto read(F&& fn) -> std::invoke_result_t<F, ReadTx&> {
        using R = std::invoke_result_t<F, ReadTx&>;
        if constexpr (std::is_void_v<R>) {
            run_read([&](ReadTx& tx) { fn(tx); });
        } else {
            std::optional<R> result;
            run_read([&](ReadTx& tx) { result.emplace(fn(tx)); });
            return std::move(*result);
        }
    }

private:
    friend class ReadTx;
    friend class WriteTx;
    friend class Statement;
    void run_write(const std::function<void(WriteTx&)>& fn);
    void run_read(const std::function<void(ReadTx&)>& fn);
    void migrate();
    void close();
    void exec(const char* sql);
    void control(const char* sql);  // BEGIN / COMMIT, through a cached statement
    [[noreturn]] void fail(int rc, const std::string& doing);
    sqlite3_stmt* cached(const char* sql);

    template <class Tx>
    void transaction(const char* what, const char* begin, const std::function<void(Tx&)>& fn);
    // Held for the whole of each transaction. Which thread holds it, to refuse a nested
    // read() or write() (a bug) with an error rather than a deadlock.
    std::mutex transaction_mutex_;
    std::atomic<std::thread::id> transaction_thread_{};

    // The contact_states table, mirrored: loaded when the store opens; after each COMMIT the
    // rows its transaction wrote are applied (a rolled-back write changes nothing). Rows only
    // change through WriteTx::set_contact_state.
    void load_contact_states();
    mutable std::mutex contact_states_mutex_;
    std::unordered_map<std::string, ContactStatus> contact_states_;
    std::vector<std::pair<std::string, ContactStatus>> uncommitted_contact_states_;  // under transaction_mutex_

    std::unordered_map<const char*, sqlite3_stmt*> statements_;
    sqlite3* db_ = nullptr;
    std::string path_;
    Faults faults_;
};

}  // namespace rapport

#pragma once
// The daemon's memory across restarts: sync marks, the effect journal, notifications, nudges,
// drafts, contact activity. One SQLite file in WAL mode under state_dir; every write goes
// through here so the schema lives in one place.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/time.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace rapport {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
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

struct StoredNudge {
    int64_t id = 0;
    std::string account;
    std::string kind;
    TimePoint due;
    std::string state;  // pending | due | snoozed | done | dismissed | cancelled
    std::string text;
    TimePoint created;
    nlohmann::json to_json() const;
};

struct StoredDraft {
    std::string id;
    std::string account;
    std::string meeting;
    std::string mailbox;
    std::string subject;
    TimePoint created;
    nlohmann::json to_json() const;
};

class StateStore {
public:
    static constexpr int kSchemaVersion = 1;

    // Creates state_dir (0700) and the database if missing, migrates older schemas.
    explicit StateStore(const std::string& state_dir);
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    const std::string& path() const { return path_; }
    int schema_version();

    // Key/value for small facts (e.g. when the rules were last loaded).
    void set_meta(const std::string& key, const std::string& value);
    std::optional<std::string> meta(const std::string& key);

    // Notifications: ids increase; pruning removes acknowledged ones older than the cutoff.
    StoredNotification add_notification(const std::string& kind, TimePoint time,
                                        const std::string& account, const std::string& text,
                                        const nlohmann::json& extra);
    std::vector<StoredNotification> notifications_after(int64_t after, std::size_t limit);
    bool ack_notification(int64_t id);
    int64_t last_notification_id();
    std::size_t prune_notifications(TimePoint acked_before);

    // Nudges (deal.lost and friends).
    StoredNudge add_nudge(const std::string& account, const std::string& kind, TimePoint due,
                          const std::string& text, TimePoint created);
    std::optional<StoredNudge> nudge(int64_t id);
    std::vector<StoredNudge> nudges(const std::string& filter);  // pending | due | all | open
    bool update_nudge(int64_t id, const std::string& state, std::optional<TimePoint> due);
    std::size_t cancel_nudges(const std::string& account);
    std::vector<StoredNudge> nudges_due_by(TimePoint now);  // pending/snoozed with due <= now

    // A lost deal: replaces the account's open nudges with these, in one transaction.
    struct PlannedNudgeRow {
        std::string kind;
        TimePoint due;
        std::string text;
    };
    std::vector<StoredNudge> record_loss(const std::string& account, TimePoint lost_at,
                                         const std::string& competitor, const std::string& delivery,
                                         const std::string& note,
                                         const std::vector<PlannedNudgeRow>& nudges);
    std::size_t reopen_deal(const std::string& account, TimePoint now);

    // Marks every nudge whose time has come as due and calls on_fired for each inside the same
    // transaction, so the state change and its notification are stored together or not at all.
    using NudgeFired = std::function<void(const StoredNudge&)>;
    std::vector<StoredNudge> fire_due_nudges(TimePoint now, const NudgeFired& on_fired);

    std::optional<TimePoint> last_contact(const std::string& account, const std::string& address);

    // ---- mail sync (mbsync-style: per folder UIDVALIDITY and last UID seen) ----
    struct FolderMark {
        uint32_t uidvalidity = 0;
        uint32_t last_uid = 0;
        uint64_t highestmodseq = 0;
        bool scanned = false;  // the first full scan finished
    };
    std::optional<FolderMark> folder_mark(const std::string& mailbox, const std::string& folder);
    void set_folder_mark(const std::string& mailbox, const std::string& folder, const FolderMark& mark);
    // True when this Message-ID was already recorded in this folder (any UIDVALIDITY): a
    // rescan after a UIDVALIDITY change must not repeat what it already told.
    bool message_seen(const std::string& mailbox, const std::string& folder, const std::string& message_id);
    void record_message(const std::string& mailbox, const std::string& folder,
                        const std::string& message_id, uint32_t uid, TimePoint seen_at);
    int64_t messages_seen(const std::string& mailbox);
    void record_contact(const std::string& account, const std::string& address, bool inbound,
                        TimePoint when, const std::string& message_id);

    // Meeting occurrences already ended (handled or expired), keyed as in the core.
    struct EndedMeeting {
        std::string calendar, uid;
        int64_t occurrence;
    };
    std::vector<EndedMeeting> ended_meetings();
    // False when it was already recorded (another path got there first): act only on true.
    bool record_meeting_end(const std::string& calendar, const std::string& uid, TimePoint occurrence,
                            TimePoint ended_at);
    std::size_t prune_ended_meetings(TimePoint occurrence_before);

    std::vector<StoredDraft> drafts();

    // Transactions for multi-row updates.
    void begin();
    void commit();
    void rollback();

    // Low-level access for areas that keep their own tables in this database.
    void exec(const std::string& sql);
    sqlite3* handle() { return db_; }

    // A prepared statement for sql, prepared on first use and kept (reset by the caller).
    sqlite3_stmt* cached(const std::string& sql);

private:
    void migrate();
    void close();
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
    sqlite3* db_ = nullptr;
    std::string path_;
};

}  // namespace rapport

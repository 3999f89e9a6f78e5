#pragma once
// What the running daemon knows, owned by the io_context's one thread: settings, rules and
// directory (swapped whole on reload), the store, and the status of every source. Everything
// that reads or changes it runs on that thread, so none of it is locked — except the store,
// which folders also write from the store writer thread (the store locks itself).
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/config_loader.hpp"
#include "app/relayed_messages.hpp"
#include "rapport/directory.hpp"
#include "rapport/time.hpp"
#include "store/state_store.hpp"

namespace rapport {

class WorkerPool;

// Per mailbox or calendar, for `status` (CONTRACT.md).
struct SourceStatus {
    std::string id;
    std::string state = "starting";  // starting | connecting | scanning | idle | polling | error | disabled
    std::optional<TimePoint> last_sync;
    std::string last_error;
    int64_t messages_seen = 0;  // mailboxes
    std::optional<std::pair<int64_t, int64_t>> scan;  // done, total: while scanning
    int64_t events = 0;             // calendars
    int64_t customer_meetings = 0;  // calendars
    int64_t drafts_pending = 0;     // mailboxes: drafts decided and not yet in Drafts
    std::string drafts_error;       // mailboxes: why the last draft could not be written
};

struct DaemonState {
    std::string settings_path;
    std::shared_ptr<const Settings> settings;
    std::shared_ptr<const AccountDirectory> directory;
    // Shared: a batch being written on the store writer holds it until its transaction ends.
    std::shared_ptr<StateStore> store;
    // One thread that writes the folders' scan batches while the daemon's thread reads on;
    // null: they are written here, on the daemon's thread.
    WorkerPool* store_writer = nullptr;
    std::unique_ptr<Clock> clock;
    TimePoint rules_loaded_at;
    Diagnostics reload_errors;
    std::vector<SourceStatus> mailboxes;
    std::vector<SourceStatus> calendars;
    nlohmann::json meetings = nlohmann::json::array();
    // Accounts lost through deal.lost and not reopened (from the deals table; kept current by
    // the API bridge), for lost_account_wrote.
    std::set<std::string> lost_accounts;
    // Relayed by the submission listener with owners added (read by the Sent audit).
    RelayedMessages relayed;

    // Hands stored (committed) notifications to the API's subscribers. Set by the daemon.
    std::function<void(const StoredNotification&)> broadcast;
    // Called after any change to the nudges, so the one nudge timer is armed for the next due.
    std::function<void()> nudges_changed;
    // Called after a draft intent was journaled, so the draft writers look at the journal.
    std::function<void()> drafts_added;
    // Called after a folder committed new messages: the account review may have work.
    std::function<void()> mail_recorded;

    // Stores one notification in its own transaction, then broadcasts it. Throws StoreError
    // (nothing stored, nothing sent).
    StoredNotification notify(const std::string& kind, const std::string& account, const std::string& text,
                              const nlohmann::json& extra = nlohmann::json::object()) {
        const TimePoint now = clock->now();
        auto n = store->write([&](WriteTx& tx) { return tx.add_notification(kind, now, account, text, extra); });
        if (broadcast) broadcast(n);
        return n;
    }

    nlohmann::json status_json() const;
};

}  // namespace rapport

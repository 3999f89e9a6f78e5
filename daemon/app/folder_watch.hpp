#pragma once
// One watched folder of one mailbox: its own IMAP connection, opened read-only (EXAMINE),
// synced by UID from the stored mark, then pushed by IDLE (or polled), reconnecting with
// backoff. It executes what the core decides (rapport/folder_sync.hpp for the mark and the
// history boundary, rapport/message_decision.hpp per message) and writes each batch of
// decisions with its mark in one transaction; notifications are broadcast after the commit.
//
// Two kinds of trouble, kept apart:
//  - the server (connect, login, protocol, timeout): reconnect with backoff; one sync_error
//    per outage and one when it recovers;
//  - the state database refusing a write: the batch is dropped, the folder fetches again
//    from its last committed mark after a short backoff on the same connection. It is not a
//    mailbox outage (no sync_error); status shows the database's message.
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/daemon_state.hpp"
#include "app/mail_batch.hpp"
#include "rapport/folder_sync.hpp"
#include "rapport/message.hpp"

namespace rapport {

namespace imap {
class ImapConnection;
struct Error;
struct MailboxInfo;
struct FetchedMessage;
struct FetchSummary;
struct MailboxEvent;
}  // namespace imap

enum class FolderPhase { starting, connecting, scanning, syncing, idle, polling, error };
const char* to_string(FolderPhase p);

struct FolderReport {
    FolderPhase phase = FolderPhase::starting;
    std::string last_error;
    std::optional<TimePoint> last_sync;
    bool scanning = false;
    int64_t scan_done = 0, scan_total = 0;
    int64_t messages_seen = 0;
};

class WorkerPool;
struct BatchWrite;  // a batch on its way into the store (folder_watch.cpp)

class FolderWatch : public std::enable_shared_from_this<FolderWatch> {
public:
    // sent_folder: the mailbox's Sent folder. A bounce read here is about the user's mail when
    // the message it returns is one that folder has seen (or the user wrote to the contact).
    FolderWatch(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                std::string folder, FolderRole role, std::string sent_folder, std::function<void()> on_status);
    ~FolderWatch();

    // password: what every connection logs in with. With imap.auth xoauth2 / oauthbearer it
    // is not used: each connection first runs password_command for a fresh access token.
    void start(std::string password);
    void stop();
    const std::string& name() const { return folder_; }
    const FolderReport& report() const { return report_; }

    // Decisions are written every this many messages (on the store writer, while the next
    // batch is parsed: up to kBatchesAhead of them gather if it is still busy), and at the end
    // of each fetch: a crash
    // repeats at most one batch's fetching and, because notifications are in the same
    // transaction, never repeats or loses one.
    static constexpr std::size_t kBatchSize = 500;
    static constexpr std::size_t kBatchesAhead = 4;
    // Bodies (bounces, auto-replies, customer replies) are read this many at a time, each cut
    // at kBodyBytes, and given up after kBodyAttempts broken connections.
    static constexpr std::size_t kBodyGroup = 16;
    static constexpr std::size_t kBodyBytes = 256 << 10;
    static constexpr int kBodyAttempts = 3;

private:
    void connect();
    void open_connection(const std::string& secret);
    void secret_failed(const std::string& error);
    void opened(const imap::MailboxInfo& info);
    void fetch_new();
    void on_message(const imap::FetchedMessage& m);
    void fetch_done(const imap::Error& e, const imap::FetchSummary& summary);
    void read_bodies();
    void bodies_read();
    bool flush();
    void write_in_background();
    void wait_for_write();
    void write_finished(const std::shared_ptr<BatchWrite>& w);
    void batch_committed(const SyncMark& mark, const std::vector<StoredNotification>& stored, bool had_mail,
                         bool drafts_added, int64_t added);
    void store_failed(const StoreError& e, std::size_t discarded);
    void wait_for_changes();
    void wake(bool reexamine);
    void check();
    void on_unsolicited(const imap::MailboxEvent& ev);
    void fail(const imap::Error& e);
    void retry_after(std::chrono::milliseconds delay, void (FolderWatch::*step)());
    void set_phase(FolderPhase p);
    void notify_sync_error(const std::string& error, bool recovered);
    std::string where() const { return mailbox_.id + "/" + folder_; }
    bool current(const std::shared_ptr<imap::ImapConnection>& c) const { return c && !stopped_ && conn_ == c; }

    // A handler for the connection to keep: it runs fn(*this, args…) only while this folder
    // still exists and `c` is still its connection. It holds both weakly — the connection
    // stores it, so a strong hold on the connection would be a cycle that outlives close()
    // when the daemon stops in the middle of a command (LeakSanitizer caught it).
    template <class... Args, class F>
    std::function<void(Args...)> on_current(const std::shared_ptr<imap::ImapConnection>& c, F fn) {
        return [weak_self = weak_from_this(), weak_conn = std::weak_ptr<imap::ImapConnection>(c), fn](Args... args) {
            auto self = weak_self.lock();
            if (self && self->current(weak_conn.lock())) fn(*self, args...);
        };
    }

    boost::asio::io_context& io_;
    WorkerPool& pool_;
    DaemonState& state_;
    const Mailbox mailbox_;
    const std::string folder_;
    const FolderRole role_;
    const std::string sent_folder_;
    std::function<void()> on_status_;
    std::string password_;

    std::shared_ptr<imap::ImapConnection> conn_;
    boost::asio::steady_timer timer_;
    bool stopped_ = false;

    // The sync: what is committed, and where this fetch has got to (ahead of it by the batch
    // being written, writing_, and the one gathering, batch_).
    SyncMark committed_;
    SyncMark mark_;
    MailBatch batch_;
    // Refilled for each message (on_message); assigning the same mailbox, folder and user
    // address again keeps their buffers, where a fresh context allocated them per message.
    MessageContext context_;
    std::shared_ptr<BatchWrite> writing_;  // on the store writer; one at a time
    uint32_t exists_ = 0;

    // What the connection is doing.
    bool fetching_ = false;
    bool more_mail_ = false;   // EXISTS arrived during a command: fetch again when it ends
    bool waking_ = false;      // an IDLE is being stopped
    bool reexamine_ = false;   // ... to re-EXAMINE (timer) rather than just fetch (EXISTS)
    bool batch_refused_ = false;  // the store refused this fetch's batch: ignore the rest

    // The group of bodies being read (read_bodies).
    struct PendingBody {
        BodyRead read;
        std::string raw;
        bool gone = false;  // expunged before it could be read
    };
    std::vector<PendingBody> bodies_;
    std::size_t bodies_waiting_ = 0;

    // Trouble.
    int server_failures_ = 0;
    int secret_failures_ = 0;
    int store_failures_ = 0;
    bool in_outage_ = false;

    FolderReport report_;
};

}  // namespace rapport

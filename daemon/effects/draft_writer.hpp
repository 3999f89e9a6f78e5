#pragma once
// Executes the effects journal's draft intents for one mailbox: puts each draft into the
// mailbox's Drafts folder exactly once.
//
// An intent (written by whoever decided the draft, in the same transaction as the decision)
// holds the finished message, whose X-Rapport-Draft header carries a stable id. Executing it:
//   1. connect, find the Drafts folder (folders.drafts, else SPECIAL-USE \Drafts, else "Drafts"), create
//      it when missing, EXAMINE it;
//   2. reconcile: UID SEARCH HEADER X-Rapport-Draft <id> — a crash or a dropped connection
//      after an APPEND that the server took must not make a second copy;
//   3. APPEND with \Draft only when the search found nothing;
//   4. mark the intent done, record the draft (drafts.list) and its summary_draft
//      notification in one transaction; broadcast after the commit.
// A failure (server down, APPEND refused: quota, no such folder) is retried with backoff and
// shown in `status` (mailboxes[].drafts); the intent stays pending, so nothing is lost and,
// because of step 2, nothing is doubled. A draft the user deleted later is never re-created:
// its intent is done.
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include "app/daemon_state.hpp"

namespace rapport {

namespace imap {
class ImapConnection;
struct Error;
}  // namespace imap

class WorkerPool;

class DraftWriter : public std::enable_shared_from_this<DraftWriter> {
public:
    DraftWriter(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                std::size_t status_index);
    ~DraftWriter();

    // Looks at the journal: runs what is due now, arms a timer for what is due later. Call
    // after adding an intent, and at start (intents a crash left pending).
    void kick();
    void stop();

    static constexpr const char* kHeader = "X-Rapport-Draft";

private:
    void next();
    void with_password();
    void connect(const std::string& password);
    void find_folder();
    void open_folder();
    void reconcile();
    void append();
    void finished(bool appended);
    void failed(const std::string& why, bool login_refused = false);
    void close();
    void arm(TimePoint when);
    void report();

    boost::asio::io_context& io_;
    WorkerPool& pool_;
    DaemonState& state_;
    const Mailbox mailbox_;
    const std::size_t status_index_;
    boost::asio::system_timer timer_;  // wall clock: intents are due at calendar times
    std::shared_ptr<imap::ImapConnection> conn_;
    std::string folder_;  // the Drafts folder, once found
    std::optional<Effect> current_;
    bool busy_ = false;
    bool stopped_ = false;
    int failures_ = 0;
    std::string last_error_;
};

}  // namespace rapport

#pragma once
// The submission listeners of the running daemon (CONTRACT.md `mailboxes[].submission`,
// docs/submission.md): one SmtpListener per mailbox with a `submission` port. Each message is
// planned (owners added to Cc and envelope), and relayed through the mailbox's `smtp` server
// on the WorkerPool (libcurl and password_command block); the verdict comes back on the io
// thread, where the relayed Message-ID is remembered for the Sent audit, `owner_added` is
// notified, and only then the client hears 250.
//
// Ports are read at start(); a reload uses the new rules and smtp settings for the next
// message, a changed port takes effect after a restart.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace rapport {

struct DaemonState;
class WorkerPool;
namespace smtp {
class SmtpListener;
}

class SubmissionListeners {
public:
    SubmissionListeners(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state);
    ~SubmissionListeners();
    SubmissionListeners(const SubmissionListeners&) = delete;
    SubmissionListeners& operator=(const SubmissionListeners&) = delete;

    // Listens for every mailbox that asks for it. A port that cannot be bound is logged and
    // skipped: the rest of the daemon keeps working.
    void start();
    void stop();

private:
    boost::asio::io_context& io_;
    WorkerPool& pool_;
    DaemonState& state_;
    std::vector<std::unique_ptr<smtp::SmtpListener>> listeners_;
    // Results of relays still running are delivered only while this lives (WorkerPool rule).
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace rapport

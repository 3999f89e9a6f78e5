#pragma once
// Follows one configured mailbox: a FolderWatch (own IMAP connection, EXAMINE, UID sync,
// IDLE or polling) per watched folder, and the mailbox's line in `status`, which sums up its
// folders. Gets the password first: from the settings, or from password_command on the
// worker pool (it may block, e.g. asking an agent), retried with backoff when it fails.
// When folders.sent is not configured, one short connection first asks the server which
// folder is the Sent folder (app/special_folders.hpp), so that the Sent audit reads the right
// one; retried with backoff like a folder's connection when the server cannot be reached.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/daemon_state.hpp"

namespace rapport {

class FolderWatch;
class WorkerPool;
namespace imap {
class ImapConnection;
struct Error;
}  // namespace imap

class MailWatcher : public std::enable_shared_from_this<MailWatcher> {
public:
    MailWatcher(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                std::size_t status_index);
    ~MailWatcher();
    void start();
    void stop();

private:
    void fetch_password();
    void password_ready(const std::optional<std::string>& password, const std::string& error);
    void discover(const std::string& password);
    void discover_with(const std::string& password, const std::string& secret);
    void discovery_failed(const std::string& password, const imap::Error& e);
    void start_folders(const std::string& password, const std::string& sent);
    void update_status();

    boost::asio::io_context& io_;
    WorkerPool& pool_;
    DaemonState& state_;
    const Mailbox mailbox_;
    const std::size_t status_index_;
    boost::asio::steady_timer retry_timer_;
    int password_failures_ = 0;
    std::shared_ptr<imap::ImapConnection> discovery_;  // only while asking for the Sent folder
    int discovery_failures_ = 0;
    bool discovery_outage_ = false;
    bool stopped_ = false;
    std::vector<std::shared_ptr<FolderWatch>> folders_;
};

}  // namespace rapport

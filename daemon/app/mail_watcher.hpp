#pragma once
// Follows one configured mailbox: one IMAP connection per watched folder, opened read-only
// (EXAMINE), synced incrementally by UID (mbsync-style marks in the store), pushed by IDLE or
// polled with STATUS, reconnecting with backoff. Every message's header fields are classified
// against the account directory; new customer mail raises notifications, the first scan's
// history only updates the contact activity. Runs on the daemon's io_context.
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "app/daemon_state.hpp"

namespace rapport {

class MailWatcher {
public:
    MailWatcher(boost::asio::io_context& io, DaemonState& state, Mailbox mailbox, std::size_t status_index);
    ~MailWatcher();
    void start();
    void stop();

    // Header fields fetched for every message: what classification needs, never bodies.
    static const std::vector<std::string>& header_fields();

private:
    struct Folder;
    void password_ready(const std::string& password, const std::string& error);
    void update_status();

    boost::asio::io_context& io_;
    DaemonState& state_;
    Mailbox mailbox_;
    std::size_t status_index_;
    std::string password_;
    std::vector<std::shared_ptr<Folder>> folders_;
    std::shared_ptr<bool> alive_;
};

}  // namespace rapport

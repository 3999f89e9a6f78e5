#include "app/mail_watcher.hpp"

#include "app/folder_watch.hpp"
#include "app/log.hpp"
#include "app/imap_login.hpp"
#include "app/worker_pool.hpp"

namespace rapport {
namespace {

FolderRole role_of(const Mailbox& m, const std::string& folder) {
    if (folder == m.sent) return FolderRole::sent;
    if (folder == "INBOX") return FolderRole::inbox;
    return FolderRole::other;
}

// Worst first: the mailbox shows the state of its least healthy folder.
int severity(FolderPhase p) {
    switch (p) {
        case FolderPhase::error: return 0;
        case FolderPhase::connecting: return 1;
        case FolderPhase::starting: return 2;
        case FolderPhase::scanning: return 3;
        case FolderPhase::syncing: return 4;
        case FolderPhase::polling: return 5;
        case FolderPhase::idle: return 6;
    }
    return 0;
}

}  // namespace

MailWatcher::MailWatcher(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                         std::size_t status_index)
    : io_(io), pool_(pool), state_(state), mailbox_(std::move(mailbox)), status_index_(status_index), retry_timer_(io) {}

MailWatcher::~MailWatcher() { stop(); }

void MailWatcher::start() {
    // An access token is fetched by each folder for each of its connections (it expires).
    if (secret_per_connection(mailbox_.imap)) return password_ready(std::string(), "");
    fetch_password();
}

// password_command blocks (it may ask an agent or a keyring): run it on the pool. Its result
// comes back only while this watcher lives; a reload that replaced it drops the answer.
void MailWatcher::fetch_password() {
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    fetch_secret(pool_, weak, mailbox_.imap, [weak](std::optional<std::string> password, const std::string& error) {
        if (auto self = weak.lock()) self->password_ready(password, error);
    });
}

void MailWatcher::password_ready(const std::optional<std::string>& password, const std::string& error) {
    if (stopped_) return;
    auto& s = state_.mailboxes[status_index_];
    if (!password) {
        // Retried, not given up: the agent may be locked until the user logs in.
        const auto delay = std::min<std::chrono::seconds>(std::chrono::seconds(5LL << std::min(password_failures_, 7)),
                                                          std::chrono::minutes(10));
        ++password_failures_;
        s.state = "error";
        s.last_error = error + "; retrying in " + std::to_string(delay.count()) + " s";
        log::error("mailbox " + mailbox_.id + ": " + s.last_error);
        std::weak_ptr<MailWatcher> weak = weak_from_this();
        retry_timer_.expires_after(delay);
        retry_timer_.async_wait([weak](const boost::system::error_code& ec) {
            if (auto self = weak.lock(); self && !ec && !self->stopped_) self->fetch_password();
        });
        return;
    }
    password_failures_ = 0;
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    for (const auto& f : mailbox_.watch) {
        auto folder = std::make_shared<FolderWatch>(io_, pool_, state_, mailbox_, f, role_of(mailbox_, f), [weak]() {
            if (auto self = weak.lock()) self->update_status();
        });
        folders_.push_back(folder);
    }
    for (auto& f : folders_) f->start(*password);
}

void MailWatcher::stop() {
    stopped_ = true;
    retry_timer_.cancel();
    for (auto& f : folders_) f->stop();
}

void MailWatcher::update_status() {
    if (stopped_ || status_index_ >= state_.mailboxes.size()) return;
    auto& s = state_.mailboxes[status_index_];
    std::optional<FolderPhase> worst;
    int64_t done = 0, total = 0, seen = 0;
    bool scanning = false;
    s.last_error.clear();
    s.last_sync.reset();
    for (const auto& f : folders_) {
        const auto& r = f->report();
        if (!worst || severity(r.phase) < severity(*worst)) worst = r.phase;
        if (!r.last_error.empty()) s.last_error = f->name() + ": " + r.last_error;
        if (r.scanning) {
            scanning = true;
            done += r.scan_done;
            total += r.scan_total;
        }
        seen += r.messages_seen;
        // The mailbox is as fresh as its stalest folder.
        if (r.last_sync && (!s.last_sync || *r.last_sync < *s.last_sync)) s.last_sync = r.last_sync;
    }
    s.state = worst ? to_string(*worst) : "idle";
    if (scanning) s.scan = std::make_pair(done, std::max(done, total));
    else s.scan.reset();
    s.messages_seen = seen;
}

}  // namespace rapport

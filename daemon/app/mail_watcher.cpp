#include "app/mail_watcher.hpp"

#include "app/folder_watch.hpp"
#include "app/log.hpp"
#include "app/imap_login.hpp"
#include "app/secret_command.hpp"
#include "app/special_folders.hpp"
#include "app/worker_pool.hpp"
#include "imap_connection.hpp"

namespace rapport {
namespace {

using namespace std::chrono_literals;

FolderRole role_of(const std::string& sent, const std::string& folder) {
    if (folder == sent) return FolderRole::sent;
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
    if (needs_folder_discovery(mailbox_)) return discover(*password);
    start_folders(*password, mailbox_.sent.value_or("Sent"));
}

void MailWatcher::discover(const std::string& password) {
    if (stopped_) return;
    if (!secret_per_connection(mailbox_.imap)) return discover_with(password, password);
    // OAuth: this connection needs an access token of its own (they expire).
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    fetch_secret(pool_, weak, mailbox_.imap, [weak, password](std::optional<std::string> token, const std::string& error) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (!token) return self->discovery_failed(password, imap::Error{imap::Errc::auth_failed, error, ""});
        self->discover_with(password, *token);
    });
}

void MailWatcher::discover_with(const std::string& password, const std::string& secret) {
    auto& s = state_.mailboxes[status_index_];
    s.state = "connecting";
    imap::ConnectionOptions options;
    options.connect_timeout = 15s;
    options.enable_condstore = false;
    auto c = imap::ImapConnection::create(io_, options);
    discovery_ = c;
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = c;
    // The connection keeps these handlers: they hold it and this watcher weakly (no cycle).
    auto current = [weak, weak_conn]() -> std::shared_ptr<MailWatcher> {
        auto self = weak.lock();
        auto conn = weak_conn.lock();
        return self && conn && self->discovery_ == conn && !self->stopped_ ? self : nullptr;
    };
    c->connect(imap_endpoint(mailbox_.imap), imap_credentials(mailbox_.imap, secret), [current, password](const imap::Error& e) {
        auto self = current();
        if (!self) return;
        if (e) return self->discovery_failed(password, e);
        discover_special_folders(self->discovery_, self->mailbox_,
                                 [current, password](const imap::Error& e2, const SpecialFolders& found) {
                                     auto me = current();
                                     if (!me) return;
                                     if (e2) return me->discovery_failed(password, e2);
                                     me->discovery_->close();
                                     me->discovery_.reset();
                                     me->discovery_failures_ = 0;
                                     if (me->discovery_outage_) {
                                         me->discovery_outage_ = false;
                                         try {
                                             me->state_.notify("sync_error", "", "Mailbox " + me->mailbox_.id + " is reachable again.",
                                                               {{"source", me->mailbox_.id}, {"error", ""}, {"recovered", true}});
                                         } catch (const StoreError& err) {
                                             log::error("mailbox " + me->mailbox_.id + ": " + err.what());
                                         }
                                     }
                                     log::info("mailbox " + me->mailbox_.id + ": the Sent folder is \"" +
                                               found.sent.name + "\" (" + to_string(found.sent.source) + ")" +
                                               (found.sent.exists ? "" : ", which the server does not list"));
                                     me->start_folders(password, found.sent.name);
                                 });
    });
}

// Like a folder's connection: doubling from 1 s up to 5 min, a refused login at least 15 min
// so that a wrong password never locks the account; one sync_error per outage.
void MailWatcher::discovery_failed(const std::string& password, const imap::Error& e) {
    if (auto c = std::move(discovery_)) c->close();
    if (stopped_) return;
    const bool auth = e.code == imap::Errc::auth_failed;
    auto delay = std::min<std::chrono::milliseconds>(1s * (1LL << std::min(discovery_failures_, 16)), 5min);
    if (auth) delay = std::max<std::chrono::milliseconds>(delay, 15min);
    ++discovery_failures_;
    auto& s = state_.mailboxes[status_index_];
    s.state = "error";
    s.last_error = std::string(imap::to_string(e.code)) + ": " + e.message +
                   (auth ? " (" + login_refused_hint(mailbox_.imap) + ")" : "");
    log::warning("mailbox " + mailbox_.id + ": finding the Sent folder: " + s.last_error + "; retrying in " +
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) + " s");
    if (!discovery_outage_) {
        discovery_outage_ = true;
        try {
            state_.notify("sync_error", "", "Mailbox " + mailbox_.id + " cannot be reached: " + s.last_error + ". Retrying.",
                          {{"source", mailbox_.id}, {"error", s.last_error}, {"recovered", false}});
        } catch (const StoreError& err) {
            log::error("mailbox " + mailbox_.id + ": " + err.what());
        }
    }
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([weak, password](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec && !self->stopped_) self->discover(password);
    });
}

void MailWatcher::start_folders(const std::string& password, const std::string& sent) {
    std::weak_ptr<MailWatcher> weak = weak_from_this();
    for (const auto& f : watched_folders(mailbox_, sent)) {
        auto folder = std::make_shared<FolderWatch>(io_, pool_, state_, mailbox_, f, role_of(sent, f), sent, [weak]() {
            if (auto self = weak.lock()) self->update_status();
        });
        folders_.push_back(folder);
    }
    for (auto& f : folders_) f->start(password);
}

void MailWatcher::stop() {
    stopped_ = true;
    retry_timer_.cancel();
    if (auto c = std::move(discovery_)) c->close();
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

#include "app/mail_watcher.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "app/log.hpp"
#include "app/secret_command.hpp"
#include "imap_connection.hpp"
#include "mime/message_headers.hpp"
#include "rapport/message.hpp"

namespace rapport {
namespace {

using namespace std::chrono_literals;

// Commit the sync mark, the seen messages and their notifications together every this many
// messages: a crash repeats at most one batch's work and, because the notifications are in
// the same transaction, never repeats or loses a notification.
constexpr std::size_t kCommitEvery = 500;

std::mt19937& rng() {
    static std::mt19937 r{std::random_device{}()};
    return r;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
    std::uniform_real_distribution<double> d(0.8, 1.2);
    return std::chrono::milliseconds(static_cast<long long>(base.count() * d(rng())));
}

MessageSummary summarize(const mime::MessageHeaders& h) {
    MessageSummary m;
    auto convert = [](const std::vector<mime::MailAddress>& in) {
        std::vector<MessageAddress> out;
        out.reserve(in.size());
        for (const auto& a : in) out.push_back({a.name, a.address});
        return out;
    };
    m.from = convert(h.from);
    m.to = convert(h.to);
    m.cc = convert(h.cc);
    if (h.date) m.date = TimePoint{h.date->time_since_epoch()};
    m.subject = h.subject;
    m.message_id = h.message_id;
    m.in_reply_to = h.in_reply_to;
    m.references = h.references;
    m.auto_submitted = h.auto_submitted;
    m.content_type = h.content_type;
    m.report_type = h.content_type_report_type;
    return m;
}

// Messages without a Message-ID still need a stable identity across UIDVALIDITY changes.
std::string synthetic_id(const MessageSummary& m) {
    std::string key = m.subject;
    if (!m.from.empty()) key += "\n" + m.from.front().address;
    if (m.date) key += "\n" + std::to_string(m.date->time_since_epoch().count());
    return "no-message-id-" + std::to_string(std::hash<std::string>{}(key));
}

imap::Security security_of(Security s) {
    switch (s) {
        case Security::tls: return imap::Security::tls;
        case Security::starttls: return imap::Security::starttls;
        case Security::none: return imap::Security::none;
    }
    return imap::Security::tls;
}

FolderRole role_of(const Mailbox& m, const std::string& folder) {
    if (folder == m.sent) return FolderRole::sent;
    if (folder == "INBOX") return FolderRole::inbox;
    return FolderRole::other;
}

}  // namespace

const std::vector<std::string>& MailWatcher::header_fields() {
    static const std::vector<std::string> fields = {"FROM", "TO", "CC", "DATE", "SUBJECT", "MESSAGE-ID",
                                                    "IN-REPLY-TO", "REFERENCES", "AUTO-SUBMITTED", "CONTENT-TYPE"};
    return fields;
}

struct MailWatcher::Folder : std::enable_shared_from_this<Folder> {
    MailWatcher& owner;
    std::string name;
    FolderRole role;
    std::shared_ptr<imap::ImapConnection> conn;
    boost::asio::steady_timer timer;
    bool stopped = false;
    int failures = 0;
    bool in_outage = false;
    std::string state = "starting";
    std::string last_error;
    std::optional<TimePoint> last_sync;
    // The sync in progress.
    StateStore::FolderMark mark;       // in memory, ahead of the store within a batch
    StateStore::FolderMark committed;  // as last written
    bool broken_batch = false;
    bool initial = false;
    int64_t scan_done = 0, scan_total = 0;
    std::size_t uncommitted = 0;
    std::vector<StoredNotification> to_broadcast;
    uint32_t exists = 0;
    bool fetching = false;
    bool waking = false;
    bool reexamine = false;

    Folder(MailWatcher& o, std::string n, FolderRole r) : owner(o), name(std::move(n)), role(r), timer(o.io_) {}

    DaemonState& st() { return owner.state_; }
    const Mailbox& mb() { return owner.mailbox_; }
    std::string where() { return mb().id + "/" + name; }

    void connect() {
        if (stopped) return;
        log::debug(where() + ": connecting to " + mb().imap.host + ":" + std::to_string(mb().imap.port));
        state = "connecting";
        owner.update_status();
        imap::ConnectionOptions options;
        // Connect, TLS, greeting and login within 15 s: a server that accepts and then says
        // nothing (seen with a Dovecot restarting under us) is retried instead of waited on.
        options.connect_timeout = std::chrono::seconds(15);
        conn = imap::ImapConnection::create(owner.io_, options);
        imap::Endpoint ep{mb().imap.host, static_cast<std::uint16_t>(mb().imap.port), security_of(mb().imap.security),
                          mb().imap.ca_file, mb().imap.allow_insecure};
        auto self = shared_from_this();
        auto c = conn;
        // Weak: the connection keeps this handler, so a strong capture of itself would be a
        // cycle that outlives close() (LeakSanitizer caught it).
        std::weak_ptr<imap::ImapConnection> weak = c;
        c->set_on_closed([self, weak](const imap::Error& e) {
            auto conn = weak.lock();
            if (conn && self->conn == conn) self->fail(e);
        });
        c->connect(ep, {mb().imap.username, owner.password_}, [self, c](const imap::Error& e) {
            if (self->conn != c) return;
            if (e) return self->fail(e);
            c->examine(self->name, [self, c](const imap::Error& e2, const imap::MailboxInfo& info) {
                if (self->conn != c) return;
                if (e2) return self->fail(e2);
                self->synchronise(info);
            });
        });
    }

    void synchronise(const imap::MailboxInfo& info) {
        broken_batch = false;
        std::optional<StateStore::FolderMark> previous;
        try {
            previous = st().store->folder_mark(mb().id, name);
        } catch (const StoreError& e) {
            log::error(where() + ": " + e.what());
            return fail(imap::Error{imap::Errc::closed, "the state database cannot be read", ""});
        }
        exists = info.exists;
        mark = StateStore::FolderMark{info.uidvalidity, 0, info.highest_modseq, false};
        if (previous && previous->uidvalidity == info.uidvalidity) {
            mark = *previous;
            mark.highestmodseq = info.highest_modseq;
        } else if (previous) {
            // The folder was recreated or renumbered: rescan, re-keyed by Message-ID so that
            // nothing already told is told again; genuinely new messages still are.
            log::warning(where() + ": UIDVALIDITY changed from " + std::to_string(previous->uidvalidity) + " to " +
                         std::to_string(info.uidvalidity) + "; rescanning");
            mark.scanned = previous->scanned;
        }
        committed = mark;
        initial = !mark.scanned;
        if (initial) {
            scan_done = 0;
            scan_total = info.exists;
            state = "scanning";
            log::info(where() + ": first scan of " + std::to_string(info.exists) + " messages");
        } else {
            state = "syncing";
        }
        if (in_outage) {
            in_outage = false;
            notify_sync_error("", true);
        }
        failures = 0;
        last_error.clear();
        owner.update_status();
        fetch_new();
    }

    void fetch_new() {
        if (stopped || !conn) return;
        fetching = true;
        auto self = shared_from_this();
        auto c = conn;
        c->fetch_headers(mark.last_uid + 1, 0, header_fields(),
            [self](const imap::FetchedMessage& m) { self->process(m); },
            [self, c](const imap::Error& e, const imap::FetchSummary& summary) {
                if (self->conn != c) return;
                self->fetching = false;
                if (e) return self->fail(e);
                if (self->broken_batch)
                    return self->fail(imap::Error{imap::Errc::closed, "the state database refused a write", ""});
                log::debug(self->where() + ": fetched " + std::to_string(summary.delivered) + " message(s); last UID " +
                           std::to_string(self->mark.last_uid) + ", " + std::to_string(self->exists) + " in the folder");
                if (self->initial) {
                    log::info(self->where() + ": first scan done, " + std::to_string(self->scan_done) + " messages");
                    self->initial = false;
                }
                self->mark.scanned = true;
                self->commit();
                self->last_sync = self->st().clock->now();
                self->wait_for_changes();
            });
    }

    void process(const imap::FetchedMessage& fetched) {
        if (broken_batch) return;
        auto& store = *st().store;
        try {
            if (uncommitted == 0) store.begin();
            const auto headers = mime::parse_message_headers(fetched.header_block);
            MessageSummary m = summarize(headers);
            if (m.message_id.empty()) m.message_id = synthetic_id(m);
            const bool seen = store.message_seen(mb().id, name, m.message_id);
            const auto& dir = *st().directory;
            const Classification c = classify_message(m, dir, st().settings->user_address, role);
            const TimePoint when = m.date.value_or(st().clock->now());
            for (const auto& inv : c.accounts) {
                if (c.direction == "in") {
                    if (!c.automated && (std::find(inv.contacts.begin(), inv.contacts.end(), c.sender) != inv.contacts.end() ||
                                         std::find(inv.others.begin(), inv.others.end(), c.sender) != inv.others.end()))
                        store.record_contact(inv.account->id, c.sender, true, when, m.message_id);
                } else {
                    for (const auto* list : {&inv.contacts, &inv.others})
                        for (const auto& a : *list) store.record_contact(inv.account->id, a, false, when, m.message_id);
                }
            }
            if (!initial && !seen) {
                for (const auto& n : message_notifications(m, c, dir, mb().id, name, role))
                    to_broadcast.push_back(store.add_notification(n.kind, st().clock->now(), n.account, n.text, n.extra));
            }
            store.record_message(mb().id, name, m.message_id, fetched.uid, st().clock->now());
            mark.last_uid = std::max(mark.last_uid, fetched.uid);
            if (initial) ++scan_done;
            if (++uncommitted >= kCommitEvery) commit();
        } catch (const StoreError& e) {
            store_failed(e);
        }
    }

    // The batch is lost: go back to the last committed mark so that nothing is skipped, and
    // let the fetch's end reconnect and fetch again (after backoff).
    void store_failed(const StoreError& e) {
        log::error(where() + ": " + e.what());
        st().store->rollback();
        uncommitted = 0;
        to_broadcast.clear();
        mark = committed;
        broken_batch = true;
    }

    void commit() {
        if (broken_batch) return;
        auto& store = *st().store;
        try {
            if (uncommitted == 0) store.begin();
            store.set_folder_mark(mb().id, name, mark);
            store.commit();
            committed = mark;
        } catch (const StoreError& e) {
            store_failed(e);
            return;
        }
        uncommitted = 0;
        for (const auto& n : to_broadcast)
            if (st().broadcast) st().broadcast(n);
        to_broadcast.clear();
        owner.update_status();
    }

    // Between syncs: IDLE where the server has it (push), otherwise a timer. Either way the
    // folder is re-examined every poll_interval, because a push can be missed: Dovecot says
    // nothing to an IDLE on a folder that another client deleted and recreated.
    void wait_for_changes() {
        if (stopped || !conn) return;
        const bool idle = mb().idle && conn->client().capabilities().has("IDLE");
        state = idle ? "idle" : "polling";
        waking = false;
        owner.update_status();
        auto self = shared_from_this();
        auto c = conn;
        const auto delay = jittered(std::chrono::duration_cast<std::chrono::milliseconds>(mb().poll_interval));
        timer.expires_after(delay);
        if (!idle) {
            timer.async_wait([self, c](const boost::system::error_code& ec) {
                if (!ec && self->conn == c) self->check();
            });
            return;
        }
        timer.async_wait([self, c](const boost::system::error_code& ec) {
            if (!ec && self->conn == c) self->wake(/*reexamine=*/true);
        });
        // The IDLE handlers live inside the connection: capture it weakly (see connect()).
        std::weak_ptr<imap::ImapConnection> weak = c;
        c->idle(
            [self, weak](const imap::MailboxEvent& ev) {
                if (self->conn != weak.lock()) return;
                if (ev.kind == imap::MailboxEvent::Kind::exists && ev.number > self->exists) {
                    self->exists = ev.number;
                    self->wake(/*reexamine=*/false);
                } else if (ev.kind == imap::MailboxEvent::Kind::expunge && self->exists > 0) {
                    --self->exists;
                }
            },
            [self, weak](const imap::Error& e) {
                if (self->conn != weak.lock()) return;
                if (e) return self->fail(e);
                // New mail: the session already knows it, fetch at once. The periodic check
                // re-examines the folder, which costs the server a full sync (Dovecot on a
                // maildir of 20,000 messages: ~0.9 s), so only the timer pays for it.
                if (self->reexamine) self->check();
                else self->fetch_new();
            });
    }

    void wake(bool full_check) {
        if (waking || !conn) return;
        waking = true;
        reexamine = full_check;
        timer.cancel();
        conn->stop_idle([](const imap::Error&) {});  // the idle's end handler calls check()
    }

    // Is the folder still the one we know (UIDVALIDITY), and is there anything new? EXAMINE
    // again rather than STATUS: Dovecot answers STATUS of the selected folder from the
    // session's view, which keeps the old UIDVALIDITY after the folder was recreated.
    void check() {
        if (stopped || !conn) return;
        auto self = shared_from_this();
        auto c = conn;
        c->examine(name, [self, c](const imap::Error& e, const imap::MailboxInfo& info) {
            if (self->conn != c) return;
            if (e) return self->fail(e);
            if (info.uidvalidity != self->mark.uidvalidity) return self->synchronise(info);
            self->exists = info.exists;
            self->fetch_new();
        });
    }

    void notify_sync_error(const std::string& error, bool recovered) {
        try {
            const std::string text = recovered ? "Mailbox " + where() + " is reachable again."
                                               : "Mailbox " + where() + " cannot be reached: " + error + ". Retrying.";
            st().notify("sync_error", "", text, {{"source", where()}, {"error", error}, {"recovered", recovered}});
        } catch (const StoreError& e) {
            log::error(e.what());
        }
    }

    void fail(const imap::Error& e, bool quiet = false) {
        if (uncommitted > 0) commit();  // keep what was fetched: its notifications are stored
        auto c = conn;
        conn.reset();
        if (c) {
            c->set_on_closed(nullptr);
            c->close();
        }
        fetching = false;
        if (stopped) return;
        const bool auth = e.code == imap::Errc::auth_failed;
        // Exponential backoff with jitter; a refused login waits much longer so that a wrong
        // password never locks the account on the server.
        const auto base = std::min<std::chrono::milliseconds>(1s * (1LL << std::min(failures, 8)), 5min);
        const auto delay = quiet ? 10ms : jittered(auth ? std::max<std::chrono::milliseconds>(base, 15min) : base);
        ++failures;
        if (!quiet) {
            last_error = std::string(imap::to_string(e.code)) + ": " + e.message +
                         (auth ? " (check the username and password in the settings)" : "");
            state = "error";
            char in[32];
            std::snprintf(in, sizeof in, "%.1f s", delay.count() / 1000.0);
            log::warning(where() + ": " + last_error + "; retrying in " + in);
            if (!in_outage) {
                in_outage = true;
                notify_sync_error(last_error, false);
            }
        }
        owner.update_status();
        auto self = shared_from_this();
        timer.expires_after(delay);
        timer.async_wait([self](const boost::system::error_code& ec) {
            if (!ec) self->connect();
        });
    }

    void stop() {
        stopped = true;
        timer.cancel();
        if (conn) {
            auto c = conn;
            conn.reset();
            c->set_on_closed(nullptr);
            c->close();
        }
    }
};

MailWatcher::MailWatcher(boost::asio::io_context& io, DaemonState& state, Mailbox mailbox, std::size_t status_index)
    : io_(io), state_(state), mailbox_(std::move(mailbox)), status_index_(status_index),
      alive_(std::make_shared<bool>(true)) {
    for (const auto& f : mailbox_.watch)
        folders_.push_back(std::make_shared<Folder>(*this, f, role_of(mailbox_, f)));
}

MailWatcher::~MailWatcher() {
    *alive_ = false;
    stop();
}

void MailWatcher::start() {
    if (!mailbox_.imap.password.command.empty()) {
        // password_command blocks (it may ask an agent); run it off the io thread.
        std::weak_ptr<bool> alive = alive_;
        auto argv = mailbox_.imap.password.command;
        std::thread([this, alive, argv]() {
            std::string error;
            auto password = run_password_command(argv, std::chrono::seconds(30), error);
            boost::asio::post(io_, [this, alive, password, error]() {
                if (alive.expired() || !*alive.lock()) return;
                password_ready(password.value_or(""), password ? "" : error);
            });
        }).detach();
    } else {
        password_ready(mailbox_.imap.password.value, "");
    }
}

void MailWatcher::password_ready(const std::string& password, const std::string& error) {
    if (!error.empty()) {
        auto& s = state_.mailboxes[status_index_];
        s.state = "error";
        s.last_error = error;
        log::error("mailbox " + mailbox_.id + ": " + error);
        return;
    }
    password_ = password;
    for (auto& f : folders_) f->connect();
}

void MailWatcher::stop() {
    for (auto& f : folders_) f->stop();
}

void MailWatcher::update_status() {
    auto& s = state_.mailboxes[status_index_];
    static const std::vector<std::string> order = {"error", "connecting", "starting", "scanning", "syncing", "polling", "idle"};
    std::size_t worst = order.size() - 1;
    int64_t done = 0, total = 0;
    bool scanning = false;
    s.last_error.clear();
    s.last_sync.reset();
    for (const auto& f : folders_) {
        auto it = std::find(order.begin(), order.end(), f->state);
        worst = std::min<std::size_t>(worst, static_cast<std::size_t>(it - order.begin()));
        if (!f->last_error.empty()) s.last_error = f->name + ": " + f->last_error;
        if (f->initial && f->state == "scanning") {
            scanning = true;
            done += f->scan_done;
            total += f->scan_total;
        }
        if (f->last_sync && (!s.last_sync || *f->last_sync < *s.last_sync)) s.last_sync = f->last_sync;
    }
    s.state = worst < order.size() ? order[worst] : "idle";
    if (scanning) s.scan = std::make_pair(done, std::max(done, total));
    else s.scan.reset();
    try {
        s.messages_seen = state_.store->messages_seen(mailbox_.id);
    } catch (const StoreError&) {
    }
}

}  // namespace rapport

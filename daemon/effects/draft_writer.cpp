#include "effects/draft_writer.hpp"

#include <algorithm>

#include "app/log.hpp"
#include "app/imap_login.hpp"
#include "app/secret_command.hpp"
#include "app/special_folders.hpp"
#include "app/worker_pool.hpp"
#include "imap_connection.hpp"

namespace rapport {
namespace {

using namespace std::chrono_literals;

// 10 s, 20 s, 40 s … capped at 30 min: a full mailbox or a server outage is fixed by a person,
// and retrying faster would only fill the server's log.
constexpr Seconds kLoginRefusedBackoff{15 * 60};
Seconds backoff(int attempts) { return std::min<Seconds>(Seconds{10LL << std::min(attempts, 12)}, Seconds{1800}); }

}  // namespace

DraftWriter::DraftWriter(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                         std::size_t status_index)
    : io_(io), pool_(pool), state_(state), mailbox_(std::move(mailbox)), status_index_(status_index), timer_(io) {}

DraftWriter::~DraftWriter() { stop(); }

void DraftWriter::stop() {
    stopped_ = true;
    timer_.cancel();
    close();
}

void DraftWriter::close() {
    if (auto c = std::move(conn_)) {
        c->set_on_closed(nullptr);
        c->close();
    }
    folder_.clear();
}

void DraftWriter::report() {
    if (status_index_ >= state_.mailboxes.size()) return;
    auto& s = state_.mailboxes[status_index_];
    s.drafts_error = last_error_;
    try {
        const auto pending = state_.store->read([](ReadTx& tx) { return tx.effects(EffectState::pending); });
        s.drafts_pending = static_cast<int64_t>(std::count_if(pending.begin(), pending.end(), [&](const Effect& e) {
            return e.payload.value("mailbox", "") == mailbox_.id;
        }));
    } catch (const StoreError&) {
    }
}

void DraftWriter::kick() {
    if (stopped_ || busy_) return;
    next();
}

// The oldest due intent for this mailbox, or a timer for the next one.
void DraftWriter::next() {
    busy_ = false;
    current_.reset();
    if (stopped_) return;
    std::vector<Effect> pending;
    try {
        pending = state_.store->read([](ReadTx& tx) { return tx.effects(EffectState::pending); });
    } catch (const StoreError& e) {
        log::error("drafts for " + mailbox_.id + ": " + e.what());
        return arm(state_.clock->now() + Seconds{10});
    }
    const TimePoint now = state_.clock->now();
    std::optional<TimePoint> later;
    for (auto& e : pending) {
        if (e.payload.value("mailbox", "") != mailbox_.id) continue;
        if (e.not_before > now) {
            if (!later || e.not_before < *later) later = e.not_before;
            continue;
        }
        current_ = std::move(e);
        break;
    }
    report();
    if (!current_) {
        // Nothing to do: the connection is not kept open between drafts (they are rare).
        close();
        if (later) arm(*later);
        return;
    }
    busy_ = true;
    if (conn_ && !folder_.empty()) return reconcile();
    with_password();
}

void DraftWriter::arm(TimePoint when) {
    timer_.cancel();
    timer_.expires_at(std::chrono::system_clock::time_point(when));
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->kick();
    });
}

// The password, or for imap.auth xoauth2 / oauthbearer a fresh access token: this runs
// before every connection (drafts are rare, the connection is not kept between them).
void DraftWriter::with_password() {
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    fetch_secret(pool_, weak, mailbox_.imap, [weak](std::optional<std::string> secret, const std::string& error) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (!secret) return self->failed(error);
        self->connect(*secret);
    });
}

void DraftWriter::connect(const std::string& password) {
    imap::ConnectionOptions options;
    options.connect_timeout = 15s;
    options.enable_condstore = false;
    auto c = imap::ImapConnection::create(io_, options);
    conn_ = c;
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = c;
    // Handlers kept by the connection hold it weakly (a strong hold would be a cycle).
    auto current = [weak, weak_conn]() -> std::shared_ptr<DraftWriter> {
        auto self = weak.lock();
        auto conn = weak_conn.lock();
        return self && conn && self->conn_ == conn && !self->stopped_ ? self : nullptr;
    };
    c->set_on_closed([current](const imap::Error& e) {
        if (auto self = current()) self->failed(std::string(imap::to_string(e.code)) + ": " + e.message);
    });
    c->connect(imap_endpoint(mailbox_.imap), imap_credentials(mailbox_.imap, password), [current](const imap::Error& e) {
        auto self = current();
        if (!self) return;
        const bool refused = e.code == imap::Errc::auth_failed;
        if (e)
            return self->failed(std::string(imap::to_string(e.code)) + ": " + e.message +
                                    (refused ? " (" + login_refused_hint(self->mailbox_.imap) + ")" : ""),
                                refused);
        self->find_folder();
    });
}

// The Drafts folder (app/special_folders.hpp: folders.drafts, else the one the server marks
// \Drafts, else "Drafts"), created when it does not exist.
void DraftWriter::find_folder() {
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = conn_;
    discover_special_folders(conn_, mailbox_, [weak, weak_conn](const imap::Error& e, const SpecialFolders& found) {
        auto self = weak.lock();
        if (!self || self->stopped_ || self->conn_ != weak_conn.lock()) return;
        if (e) return self->failed("LIST: " + e.message);
        const ChosenFolder drafts = found.drafts;
        if (drafts.exists) {
            self->folder_ = drafts.name;
            return self->open_folder();
        }
        log::info("drafts for " + self->mailbox_.id + ": creating the folder \"" + drafts.name + "\"");
        self->conn_->create(drafts.name, [weak, weak_conn, drafts](const imap::Error& e2) {
            auto me = weak.lock();
            if (!me || me->stopped_ || me->conn_ != weak_conn.lock()) return;
            if (e2 && e2.response_code != "ALREADYEXISTS")
                return me->failed("cannot create the Drafts folder \"" + drafts.name + "\": " + e2.message +
                                  " (create it, or set folders.drafts in the settings)");
            me->folder_ = drafts.name;
            me->open_folder();
        });
    });
}

void DraftWriter::open_folder() {
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = conn_;
    conn_->examine(folder_, [weak, weak_conn](const imap::Error& e, const imap::MailboxInfo&) {
        auto self = weak.lock();
        if (!self || self->stopped_ || self->conn_ != weak_conn.lock()) return;
        if (e) return self->failed("cannot open the Drafts folder \"" + self->folder_ + "\": " + e.message);
        self->reconcile();
    });
}

// Did an earlier attempt already put this draft there? (The APPEND went through and the crash
// or the cut came before the journal heard of it.)
void DraftWriter::reconcile() {
    const std::string id = current_->payload.value("draft_id", "");
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = conn_;
    // The server matches substrings; ids are "d-" and 16 hex digits, so one id never contains
    // another.
    conn_->search_header(kHeader, id, [weak, weak_conn](const imap::Error& e, const std::vector<std::uint32_t>& uids) {
        auto self = weak.lock();
        if (!self || self->stopped_ || self->conn_ != weak_conn.lock()) return;
        if (e) return self->failed("SEARCH in \"" + self->folder_ + "\": " + e.message);
        if (!uids.empty()) return self->finished(false);
        self->append();
    });
}

void DraftWriter::append() {
    const std::string message = current_->payload.value("message", "");
    std::weak_ptr<DraftWriter> weak = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = conn_;
    conn_->append(folder_, {"\\Draft"}, message, [weak, weak_conn](const imap::Error& e, const imap::AppendResult&) {
        auto self = weak.lock();
        if (!self || self->stopped_ || self->conn_ != weak_conn.lock()) return;
        if (e) return self->failed("APPEND to \"" + self->folder_ + "\" refused: " + e.message);
        self->finished(true);
    });
}

void DraftWriter::finished(bool appended) {
    const Effect e = *current_;
    const auto& p = e.payload;
    const TimePoint now = state_.clock->now();
    StoredDraft draft;
    draft.id = p.value("draft_id", "");
    draft.kind = e.kind == EffectKind::fyi_draft ? "fyi" : "summary";
    draft.account = p.value("account", "");
    draft.meeting = p.value("meeting", "");
    draft.mailbox = mailbox_.id;
    draft.subject = p.value("subject", "");
    draft.created = now;
    try {
        const auto notification = state_.store->write([&](WriteTx& tx) {
            tx.finish_effect(e.id, EffectState::done, now);
            tx.record_draft(draft);
            if (e.kind == EffectKind::fyi_draft) {
                const std::string to = p.value("to", "");
                const std::string text = "An FYI draft" + (to.empty() ? std::string() : " to " + to) + " is waiting in " +
                                         folder_ + ": \"" + draft.subject + "\".";
                return tx.add_notification("fyi_draft", now, draft.account, text,
                                           {{"purpose", p.value("purpose", "")}, {"to", to}, {"subject", draft.subject},
                                            {"mailbox", mailbox_.id}, {"draft", draft.id}});
            }
            const std::string text = "A summary draft is waiting in " + folder_ + ": \"" + draft.subject + "\".";
            return tx.add_notification("summary_draft", now, draft.account, text,
                                       {{"meeting", draft.meeting}, {"subject", draft.subject}, {"mailbox", mailbox_.id},
                                        {"draft", draft.id}});
        });
        log::info("drafts for " + mailbox_.id + ": \"" + draft.subject + "\" " +
                  (appended ? "appended to " : "was already in ") + folder_ + " (" + draft.id + ")");
        if (state_.broadcast) state_.broadcast(notification);
    } catch (const StoreError& err) {
        // The draft is in Drafts but the journal does not know: the next attempt's search finds
        // it, so this costs a retry, never a copy.
        return failed(std::string("recording the draft: ") + err.what());
    }
    failures_ = 0;
    last_error_.clear();
    next();
}

void DraftWriter::failed(const std::string& why, bool login_refused) {
    close();
    if (stopped_) return;
    ++failures_;
    last_error_ = why;
    log::warning("drafts for " + mailbox_.id + ": " + why + "; retrying");
    if (current_) {
        const int attempts = current_->attempts + 1;
        // A refused login waits as long as the folder watches do: retrying a wrong password or
        // a revoked token every few seconds only gets the account locked.
        const Seconds delay = login_refused ? std::max(backoff(attempts - 1), kLoginRefusedBackoff) : backoff(attempts - 1);
        const TimePoint when = state_.clock->now() + delay;
        try {
            state_.store->write([&](WriteTx& tx) { tx.retry_effect(current_->id, attempts, when, why); });
        } catch (const StoreError& e) {
            // Not recorded: the intent is still due, so wait here instead of spinning on it.
            log::error("drafts for " + mailbox_.id + ": " + e.what());
            busy_ = false;
            current_.reset();
            return arm(state_.clock->now() + backoff(failures_ - 1));
        }
    }
    busy_ = false;
    current_.reset();
    report();
    // Whatever is due next (this one after its backoff, or another one) comes through kick().
    arm(state_.clock->now() + Seconds{1});
}

}  // namespace rapport

#include "app/folder_watch.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>

#include "app/imap_login.hpp"
#include "app/log.hpp"
#include "app/worker_pool.hpp"
#include "effects/fyi_planner.hpp"
#include "imap_connection.hpp"
#include "mime/automation_fields.hpp"
#include "mime/mail_body.hpp"
#include "mime/message_headers.hpp"
#include "rapport/address.hpp"
#include "rapport/body_decision.hpp"
#include "rapport/message_decision.hpp"

namespace rapport {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
    static std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> d(0.8, 1.2);
    return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count()) * d(rng)));
}

// Doubling from `first`, capped.
std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds first, std::chrono::milliseconds cap) {
    return std::min<std::chrono::milliseconds>(first * (1LL << std::min(failures, 16)), cap);
}

// Takes the parsed headers whole and moves their strings: a scan summarizes every message
// once, and copying each field was a visible share of its allocations.
MessageSummary summarize(mime::MessageHeaders&& h) {
    MessageSummary m;
    m.from = std::move(h.from);
    m.to = std::move(h.to);
    m.cc = std::move(h.cc);
    m.bcc = std::move(h.bcc);  // fetched for the Sent audit: an owner in Bcc was copied
    if (h.date) m.date = TimePoint{h.date->time_since_epoch()};
    m.subject = std::move(h.subject);
    m.message_id = std::move(h.message_id);
    m.auto_submitted = std::move(h.auto_submitted);
    m.content_type = std::move(h.content_type);
    m.report_type = std::move(h.content_type_report_type);
    return m;
}

void add_automation(MessageSummary& m, std::string_view header_block) {
    const mime::AutomationFields f = mime::read_automation_fields(header_block);
    m.autoreply_field = f.autoreply;
    m.auto_response_suppress = f.auto_response_suppress;
    m.precedence = f.precedence;
    m.failed_recipients = f.failed_recipients;
}

// Header fields fetched for every message: what the decisions need, never bodies. Not
// In-Reply-To or References: no decision reads them, and a long thread's References is often
// the largest field a message has (fetched and parsed for every message of every scan).
const std::vector<std::string>& header_fields() {
    static const std::vector<std::string> fields = {"FROM", "TO", "CC", "DATE", "SUBJECT", "MESSAGE-ID",
                                                    "AUTO-SUBMITTED", "CONTENT-TYPE", "BCC",
                                                    // which messages are worth a body (bounces, auto-replies)
                                                    "X-AUTOREPLY", "X-AUTORESPOND", "X-AUTO-RESPONSE-SUPPRESS",
                                                    "PRECEDENCE", "X-FAILED-RECIPIENTS"};
    return fields;
}

}  // namespace

// A batch handed to the store writer, and what its transaction did. The writer fills in the
// outcome and says so under the lock; the daemon's thread either waits for that (before
// anything that must follow the write: the fetch's last batch, a reconnect, stop) or hears
// of it when the writer's completion arrives, whichever comes first — the other is a no-op.
struct BatchWrite {
    BatchWrite(MailBatch b, SyncMark m, TimePoint t) : mark(m), now(t), messages(b.size()), batch(std::move(b)) {}
    const SyncMark mark;
    const TimePoint now;
    const std::size_t messages;

    std::mutex mutex;
    std::condition_variable cv;
    bool finished = false;  // under mutex; the fields below are written before it is set
    std::vector<StoredNotification> stored;
    bool drafts_added = false;
    int64_t added = 0;
    std::optional<StoreError> error;

    bool handled = false;  // daemon's thread only

    // On the store writer. Never throws: a waiting daemon thread must always be woken.
    void run(StateStore& store) {
        try {
            stored = store.write([&](WriteTx& tx) {
                drafts_added = false;
                added = 0;
                return batch.write(tx, mark, now, &drafts_added, &added);
            });
        } catch (const StoreError& e) {
            error = e;
        } catch (const std::exception& e) {
            error = StoreError(StoreError::Kind::other, std::string("writing a batch failed: ") + e.what());
        }
        // Freed here, not on the daemon's thread (500 decisions' strings: ~3 % of a scan there).
        // Written or refused, nothing reads it again: once finished, holds() answers false.
        std::optional<MailBatch> written;
        {
            std::lock_guard<std::mutex> lock(mutex);
            finished = true;
            written.emplace(std::move(batch));
        }
        cv.notify_all();  // this object lives on: the writer's job holds it
    }  // `written` is freed here, outside the lock

    // New mail's "already seen" check while this batch is being written: once it is finished
    // the store answers instead (a committed batch is there; a refused one never was).
    bool holds(const std::string& message_id) {
        std::lock_guard<std::mutex> lock(mutex);
        return !finished && batch.contains(message_id);
    }

    void wait() {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [this] { return finished; });
    }

private:
    MailBatch batch;  // the writer's until finished
};

const char* to_string(FolderPhase p) {
    switch (p) {
        case FolderPhase::starting: return "starting";
        case FolderPhase::connecting: return "connecting";
        case FolderPhase::scanning: return "scanning";
        case FolderPhase::syncing: return "syncing";
        case FolderPhase::idle: return "idle";
        case FolderPhase::polling: return "polling";
        case FolderPhase::error: return "error";
    }
    return "error";
}

FolderWatch::FolderWatch(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, Mailbox mailbox,
                         std::string folder, FolderRole role, std::string sent_folder,
                         std::function<void()> on_status)
    : io_(io), pool_(pool), state_(state), mailbox_(std::move(mailbox)), folder_(std::move(folder)), role_(role),
      sent_folder_(std::move(sent_folder)), on_status_(std::move(on_status)), timer_(io), batch_(mailbox_.id, folder_) {}

FolderWatch::~FolderWatch() = default;

void FolderWatch::start(std::string password) {
    password_ = std::move(password);
    connect();
}

void FolderWatch::stop() {
    // Its notifications are committed by now or soon: broadcast them while we still can.
    wait_for_write();
    stopped_ = true;
    on_status_ = nullptr;
    timer_.cancel();
    if (auto c = std::move(conn_)) {
        c->set_on_closed(nullptr);
        c->set_event_handler(nullptr);
        c->close();
    }
}

void FolderWatch::set_phase(FolderPhase p) {
    report_.phase = p;
    if (on_status_) on_status_();
}

void FolderWatch::connect() {
    if (stopped_) return;
    log::debug(where() + ": connecting to " + mailbox_.imap.host + ":" + std::to_string(mailbox_.imap.port));
    set_phase(FolderPhase::connecting);
    if (!secret_per_connection(mailbox_.imap)) return open_connection(password_);
    // An access token expires: ask for one for this connection, so a reconnect after the
    // hour (or after the server refused the old one) logs in with a new token.
    std::weak_ptr<FolderWatch> weak_self = weak_from_this();
    fetch_secret(pool_, weak_self, mailbox_.imap, [weak_self](std::optional<std::string> token, const std::string& error) {
        auto self = weak_self.lock();
        if (!self || self->stopped_) return;
        if (!token) return self->secret_failed(error);
        self->secret_failures_ = 0;
        self->open_connection(*token);
    });
}

// The token command failed (hung, printed nothing, not authorized yet): no connection was
// made, so this is retried sooner than a refused login, and raises one sync_error per outage.
void FolderWatch::secret_failed(const std::string& error) {
    const auto delay = backoff(secret_failures_, 5s, 10min);
    ++secret_failures_;
    report_.last_error = error + "; retrying in " + std::to_string(delay.count() / 1000) + " s";
    log::error(where() + ": " + report_.last_error);
    if (!in_outage_) {
        in_outage_ = true;
        notify_sync_error(error, false);
    }
    set_phase(FolderPhase::error);
    std::weak_ptr<FolderWatch> weak_self = weak_from_this();
    timer_.expires_after(delay);
    timer_.async_wait([weak_self](const boost::system::error_code& ec) {
        auto self = weak_self.lock();
        if (self && !ec && !self->stopped_) self->connect();
    });
}

void FolderWatch::open_connection(const std::string& secret) {
    if (stopped_) return;
    imap::ConnectionOptions options;
    // Connect, TLS, greeting and login within 15 s: a server that accepts and then says
    // nothing (seen with a Dovecot restarting under us) is retried instead of waited on.
    options.connect_timeout = 15s;
    auto c = imap::ImapConnection::create(io_, options);
    conn_ = c;
    const imap::Endpoint ep = imap_endpoint(mailbox_.imap);
    // The connection keeps these handlers: they hold it weakly, or it would keep itself
    // alive past close() (LeakSanitizer caught that cycle).
    std::weak_ptr<FolderWatch> weak_self = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = c;
    c->set_on_closed([weak_self, weak_conn](const imap::Error& e) {
        auto self = weak_self.lock();
        if (self && self->current(weak_conn.lock())) self->fail(e);
    });
    // EXISTS that arrives while a command other than IDLE runs (FETCH, EXAMINE, NOOP): without
    // this it was dropped and that mail waited for the next poll.
    c->set_event_handler([weak_self, weak_conn](const imap::MailboxEvent& ev) {
        auto self = weak_self.lock();
        if (self && self->current(weak_conn.lock())) self->on_unsolicited(ev);
    });
    c->connect(ep, imap_credentials(mailbox_.imap, secret), on_current<const imap::Error&>(c, [](FolderWatch& self, const imap::Error& e) {
        if (e) return self.fail(e);
        self.conn_->examine(self.folder_, self.on_current<const imap::Error&, const imap::MailboxInfo&>(
            self.conn_, [](FolderWatch& me, const imap::Error& e2, const imap::MailboxInfo& info) {
                if (e2) return me.fail(e2);
                if (me.in_outage_) {
                    me.in_outage_ = false;
                    me.notify_sync_error("", true);
                }
                me.server_failures_ = 0;
                me.report_.last_error.clear();
                me.opened(info);
            }));
    }));
}

// The folder is open: carry on from the stored mark, or start one. A new history boundary is
// stored before the first message is fetched, so a crash during the first scan can never make
// mail that arrives afterwards look like history.
void FolderWatch::opened(const imap::MailboxInfo& info) {
    wait_for_write();  // the stored mark is read next: it must include the last batch
    exists_ = info.exists;
    FolderOpening opening;
    try {
        std::optional<SyncMark> stored;
        int64_t seen = 0;
        state_.store->read([&](ReadTx& tx) {
            stored = tx.folder_mark(mailbox_.id, folder_);
            seen = tx.messages_seen(mailbox_.id, folder_);
        });
        opening = open_folder(stored, info.uidvalidity, info.uidnext, info.highest_modseq);
        if (opening.uidvalidity_changed)
            log::warning(where() + ": UIDVALIDITY changed from " + std::to_string(stored->uidvalidity) + " to " +
                         std::to_string(info.uidvalidity) + "; rescanning (what was told is not told again)");
        if (opening.store_first)
            state_.store->write([&](WriteTx& tx) {
                tx.set_folder_mark(mailbox_.id, folder_, opening.mark);
                // Bodies still to read under the old UIDVALIDITY: their UIDs mean nothing now
                // (the rescan asks again for what it needs).
                tx.drop_body_reads(mailbox_.id, folder_, opening.mark.uidvalidity);
            });
        report_.messages_seen = seen;
        report_.scan_done = opening.mark.scanned ? 0 : std::min<int64_t>(seen, info.exists);
        report_.scan_total = info.exists;
    } catch (const StoreError& e) {
        store_failed(e, batch_.size());
        return retry_after(backoff(store_failures_ - 1, 1s, 60s), &FolderWatch::check);
    }
    committed_ = mark_ = opening.mark;
    batch_.clear();
    report_.scanning = !mark_.scanned;
    if (report_.scanning)
        log::info(where() + ": first scan of " + std::to_string(info.exists) + " messages (UIDs below " +
                  std::to_string(mark_.history_below) + " are history)");
    set_phase(report_.scanning ? FolderPhase::scanning : FolderPhase::syncing);
    fetch_new();
}

void FolderWatch::fetch_new() {
    if (stopped_ || !conn_) return;
    fetching_ = true;
    more_mail_ = false;
    batch_refused_ = false;
    conn_->fetch_headers(
        mark_.last_uid + 1, 0, header_fields(),
        on_current<const imap::FetchedMessage&>(conn_, [](FolderWatch& self, const imap::FetchedMessage& m) { self.on_message(m); }),
        on_current<const imap::Error&, const imap::FetchSummary&>(
            conn_, [](FolderWatch& self, const imap::Error& e, const imap::FetchSummary& summary) { self.fetch_done(e, summary); }));
}

void FolderWatch::on_message(const imap::FetchedMessage& fetched) {
    if (batch_refused_) return;
    MessageSummary summary = summarize(mime::parse_message_headers(fetched.header_block));
    add_automation(summary, fetched.header_block);
    if (summary.message_id.empty()) summary.message_id = synthetic_message_id(summary);
    MessageContext& context = context_;
    context.mailbox = mailbox_.id;
    context.folder = folder_;
    context.role = role_;
    context.user_address = state_.settings->user_address;
    context.history = is_history(mark_, fetched.uid);
    context.already_seen = false;
    context.now = state_.clock->now();
    context.lost_accounts = &state_.lost_accounts;
    context.relayed = state_.relayed.contains(summary.message_id);
    // Only new mail can earn notifications, so only new mail needs the lookup.
    if (!context.history) {
        try {
            context.already_seen = batch_.contains(summary.message_id) ||
                                   (writing_ && writing_->holds(summary.message_id)) ||
                                   state_.store->read([&](ReadTx& tx) {
                                       return tx.message_seen(mailbox_.id, folder_, summary.message_id);
                                   });
        } catch (const StoreError& e) {
            store_failed(e, batch_.size());
            return;
        }
    }
    // The FYI drafts below need the whole subject; decide_message keeps it cut. Copied only
    // when there can be notifications: history and mail already seen earn none.
    const std::string subject = context.history || context.already_seen ? std::string() : summary.subject;
    const auto sent = summary.date;
    MessageDecision decision = decide_message(std::move(summary), *state_.directory, context);
    std::vector<DraftIntent> drafts;
    for (const auto& n : decision.notifications)
        if (auto fyi = plan_not_copied_intent(n, subject, sent, mailbox_.id, folder_, state_, context.now))
            drafts.push_back(std::move(*fyi));
    batch_.add(fetched.uid, std::move(decision), std::move(drafts));
    mark_.last_uid = std::max(mark_.last_uid, fetched.uid);
    if (report_.scanning) ++report_.scan_done;
    if (batch_.size() >= kBatchSize) write_in_background();
}

// Writes the batch and the mark in one transaction here, after the one on the store writer
// (if any), then broadcasts what it stored. On a refusal nothing of the batch is kept: the
// folder goes back to its last committed mark.
bool FolderWatch::flush() {
    wait_for_write();
    if (batch_refused_) return false;
    const TimePoint now = state_.clock->now();
    const bool had_mail = !batch_.empty();
    bool drafts_added = false;
    int64_t added = 0;
    std::vector<StoredNotification> stored;
    try {
        // Counted as the batch is written: a COUNT(*) of the folder's seen list per batch made
        // the first scan quadratic (100,000 messages: 200 batches counting up to 100,000 rows).
        stored = state_.store->write([&](WriteTx& tx) {
            drafts_added = false;
            added = 0;
            return batch_.write(tx, mark_, now, &drafts_added, &added);
        });
    } catch (const StoreError& e) {
        store_failed(e, batch_.size());
        return false;
    }
    batch_.clear();
    batch_committed(mark_, stored, had_mail, drafts_added, added);
    return true;
}

// A full batch goes to the store writer, and this thread parses on: SQLite was half of a
// first scan's time on this thread (docs/architecture.md, "Scan speed"). One batch is written
// at a time, in order; while it is, the next gathers, up to kBatchesAhead batches, and then
// this thread waits for the writer rather than hold the folder in memory.
void FolderWatch::write_in_background() {
    if (!state_.store_writer) {
        flush();
        return;
    }
    if (writing_) {
        if (batch_.size() < kBatchSize * kBatchesAhead) return;
        wait_for_write();
        if (batch_refused_) return;
    }
    auto w = std::make_shared<BatchWrite>(std::move(batch_), mark_, state_.clock->now());
    batch_ = MailBatch(mailbox_.id, folder_);
    writing_ = w;
    std::shared_ptr<StateStore> store = state_.store;
    state_.store_writer->submit<bool>(
        weak_from_this(),
        [w, store]() {
            w->run(*store);
            return true;
        },
        [this, w](bool) { write_finished(w); });  // only while this folder exists
}

void FolderWatch::wait_for_write() {
    if (!writing_) return;
    auto w = writing_;
    w->wait();
    write_finished(w);
}

void FolderWatch::write_finished(const std::shared_ptr<BatchWrite>& w) {
    if (w->handled) return;
    w->handled = true;
    if (writing_ == w) writing_.reset();
    if (w->error) return store_failed(*w->error, w->messages + batch_.size());
    batch_committed(w->mark, w->stored, w->messages > 0, w->drafts_added, w->added);
}

void FolderWatch::batch_committed(const SyncMark& mark, const std::vector<StoredNotification>& stored, bool had_mail,
                                  bool drafts_added, int64_t added) {
    committed_ = mark;
    report_.messages_seen += added;
    if (store_failures_ > 0) {
        log::info(where() + ": the state database accepts writes again");
        store_failures_ = 0;
        report_.last_error.clear();
    }
    for (const auto& n : stored)
        if (state_.broadcast) state_.broadcast(n);
    if (drafts_added && state_.drafts_added) state_.drafts_added();
    if (had_mail && state_.mail_recorded) state_.mail_recorded();
    if (on_status_) on_status_();
}

// discarded: the messages decided and not stored, to be fetched again.
void FolderWatch::store_failed(const StoreError& e, std::size_t discarded) {
    if (store_failures_ == 0) log::error(where() + ": " + e.what());
    ++store_failures_;
    batch_.clear();
    mark_ = committed_;
    if (report_.scanning)
        report_.scan_done = std::max<int64_t>(0, report_.scan_done - static_cast<int64_t>(discarded));
    batch_refused_ = true;
    report_.last_error = e.what();
    if (on_status_) on_status_();
}

void FolderWatch::fetch_done(const imap::Error& e, const imap::FetchSummary& summary) {
    fetching_ = false;
    wait_for_write();  // a refused batch on the writer means this fetch is done again
    if (e) return fail(e);
    if (!batch_refused_) {
        mark_ = after_complete_fetch(mark_);
        if (flush() && report_.scanning) {
            log::info(where() + ": first scan done, " + std::to_string(report_.scan_done) + " messages");
            report_.scanning = false;
        }
    }
    if (batch_refused_) {
        // The store refused: try the same fetch again from the committed mark, on this
        // connection. The server is fine, so this is no outage.
        return retry_after(backoff(store_failures_ - 1, 1s, 60s), &FolderWatch::fetch_new);
    }
    log::debug(where() + ": fetched " + std::to_string(summary.delivered) + " message(s); last UID " +
               std::to_string(mark_.last_uid) + ", " + std::to_string(exists_) + " in the folder");
    report_.last_sync = state_.clock->now();
    read_bodies();
}

// The bodies the batches asked for, a few at a time on this connection, between header
// fetches: new mail (an EXISTS seen during any command) is fetched before the next group, and
// IDLE starts when none are left. Each body is capped (BODY.PEEK[]<0.kBodyBytes>), parsed,
// judged by the core, and dropped; what it said is written with the removal of its intent.
void FolderWatch::read_bodies() {
    if (stopped_ || !conn_) return;
    if (more_mail_) return fetch_new();
    std::vector<BodyRead> group;
    try {
        group = state_.store->read([&](ReadTx& tx) {
            return tx.body_reads(mailbox_.id, folder_, mark_.uidvalidity, kBodyGroup);
        });
    } catch (const StoreError& e) {
        store_failed(e, batch_.size());
        return retry_after(backoff(store_failures_ - 1, 1s, 60s), &FolderWatch::read_bodies);
    }
    if (group.empty()) return wait_for_changes();
    bodies_.clear();
    bodies_waiting_ = group.size();
    for (auto& read : group) {
        const uint32_t uid = read.uid;
        bodies_.push_back({std::move(read), {}, false});
        const std::size_t index = bodies_.size() - 1;
        conn_->fetch_body(uid, kBodyBytes, on_current<const imap::Error&, std::string>(
            conn_, [index](FolderWatch& self, const imap::Error& e, std::string bytes) {
                // The connection ended: fail() counts the attempt and the read is tried again.
                // Anything else (a NO: expunged meanwhile; a BAD) leaves nothing to read.
                const bool lost = e.code == imap::Errc::closed || e.code == imap::Errc::network ||
                                  e.code == imap::Errc::timeout || e.code == imap::Errc::bye ||
                                  e.code == imap::Errc::tls || e.code == imap::Errc::protocol ||
                                  e.code == imap::Errc::too_large;
                if (lost) return;
                auto& b = self.bodies_[index];
                b.raw = std::move(bytes);
                b.gone = static_cast<bool>(e);
                if (--self.bodies_waiting_ == 0) self.bodies_read();
            }));
    }
}

void FolderWatch::bodies_read() {
    // Parse outside the transaction: the store is only held for what the bodies said.
    std::vector<MailBody> bodies;
    bodies.reserve(bodies_.size());
    for (auto& b : bodies_) {
        bodies.push_back(b.gone ? MailBody{} : mime::read_mail_body(b.raw));
        b.raw.clear();
        b.raw.shrink_to_fit();
    }
    std::vector<StoredNotification> stored;
    const TimePoint now = state_.clock->now();
    const std::string user = normalize_address(state_.settings->user_address).value_or(state_.settings->user_address);
    try {
        stored = state_.store->write([&](WriteTx& tx) {
            std::vector<StoredNotification> out;
            for (std::size_t i = 0; i < bodies_.size(); ++i) {
                const BodyRead& read = bodies_[i].read;
                tx.finish_body_read(read.mailbox, read.folder, read.uidvalidity, read.uid);
                if (bodies_[i].gone) continue;
                BodyRequestInfo request;
                request.reason = parse_body_reason(read.reason).value_or(BodyReason::none);
                request.message_id = read.message_id;
                request.history = read.payload.value("history", false);
                BodyContext context;
                context.own_addresses = {user};
                context.now = now;
                // The bounced message is one the user sent if its Message-ID is in this
                // mailbox's Sent folder (the store keeps only a few of an account's messages,
                // but every Message-ID a folder has seen).
                context.sent_to = [&](const std::string& account, const std::string& address, const std::string& original) {
                    return (!original.empty() && tx.message_seen(mailbox_.id, sent_folder_, original)) ||
                           tx.wrote_to(account, address);
                };
                const BodyDecision d = decide_body(bodies[i], request, *state_.directory, context);
                log::debug(where() + ": UID " + std::to_string(read.uid) + ": " + d.why);
                for (const auto& c : d.changes)
                    if (tx.set_contact_state(c.address, c.state, c.reason, read.message_id, now, c.detail) && c.notification)
                        out.push_back(tx.add_notification(c.notification->kind, now, c.notification->account,
                                                          c.notification->text, c.notification->extra));
                if (d.loss && tx.raise_signal("loss_signal", read.message_id, now))
                    out.push_back(tx.add_notification(d.loss->kind, now, d.loss->account, d.loss->text, d.loss->extra));
            }
            return out;
        });
    } catch (const StoreError& e) {
        // Nothing of the group was kept: its intents are still there, read them again later.
        bodies_.clear();
        store_failed(e, batch_.size());
        return retry_after(backoff(store_failures_ - 1, 1s, 60s), &FolderWatch::read_bodies);
    }
    bodies_.clear();
    for (const auto& n : stored)
        if (state_.broadcast) state_.broadcast(n);
    read_bodies();
}

void FolderWatch::retry_after(std::chrono::milliseconds delay, void (FolderWatch::*step)()) {
    if (stopped_) return;
    timer_.expires_after(delay);
    timer_.async_wait(on_current<const boost::system::error_code&>(
        conn_, [step](FolderWatch& self, const boost::system::error_code& ec) {
            if (!ec) (self.*step)();
        }));
}

void FolderWatch::on_unsolicited(const imap::MailboxEvent& ev) {
    if (ev.kind == imap::MailboxEvent::Kind::exists) {
        if (ev.number > exists_) more_mail_ = true;
        exists_ = ev.number;
    } else if (ev.kind == imap::MailboxEvent::Kind::expunge && exists_ > 0) {
        --exists_;
    }
}

// Between syncs: IDLE where the server has it (push), otherwise a timer. Either way the
// folder is re-examined every poll_interval, because a push can be missed: Dovecot says
// nothing to an IDLE on a folder that another client deleted and recreated.
void FolderWatch::wait_for_changes() {
    if (stopped_ || !conn_) return;
    const bool idle = mailbox_.idle && conn_->client().capabilities().has("IDLE");
    waking_ = false;
    set_phase(idle ? FolderPhase::idle : FolderPhase::polling);
    auto c = conn_;
    timer_.expires_after(jittered(std::chrono::duration_cast<std::chrono::milliseconds>(mailbox_.poll_interval)));
    if (!idle) {
        timer_.async_wait(on_current<const boost::system::error_code&>(c, [](FolderWatch& self, const boost::system::error_code& ec) {
            if (!ec) self.check();
        }));
        return;
    }
    timer_.async_wait(on_current<const boost::system::error_code&>(c, [](FolderWatch& self, const boost::system::error_code& ec) {
        if (!ec) self.wake(/*reexamine=*/true);
    }));
    std::weak_ptr<FolderWatch> weak_self = weak_from_this();
    std::weak_ptr<imap::ImapConnection> weak_conn = c;
    c->idle(
        [weak_self, weak_conn](const imap::MailboxEvent& ev) {
            auto s = weak_self.lock();
            if (!s || !s->current(weak_conn.lock())) return;
            if (ev.kind == imap::MailboxEvent::Kind::exists && ev.number > s->exists_) {
                s->exists_ = ev.number;
                s->wake(/*reexamine=*/false);
            } else if (ev.kind == imap::MailboxEvent::Kind::expunge && s->exists_ > 0) {
                --s->exists_;
            }
        },
        [weak_self, weak_conn](const imap::Error& e) {
            auto s = weak_self.lock();
            if (!s || !s->current(weak_conn.lock())) return;
            if (e) return s->fail(e);
            // New mail: the session already knows it, fetch at once. The periodic check
            // re-examines the folder, which costs the server a full sync (Dovecot on a
            // maildir of 20,000 messages: ~0.9 s), so only the timer pays for it.
            if (s->reexamine_) s->check();
            else s->fetch_new();
        });
}

void FolderWatch::wake(bool reexamine) {
    if (waking_ || !conn_) return;
    waking_ = true;
    reexamine_ = reexamine;
    timer_.cancel();
    conn_->stop_idle([](const imap::Error&) {});  // the idle's end handler goes on
}

// Is the folder still the one we know (UIDVALIDITY), and is there anything new? EXAMINE
// again rather than STATUS: Dovecot answers STATUS of the selected folder from the session's
// view, which keeps the old UIDVALIDITY after the folder was recreated.
void FolderWatch::check() {
    if (stopped_ || !conn_) return;
    conn_->examine(folder_, on_current<const imap::Error&, const imap::MailboxInfo&>(
        conn_, [](FolderWatch& self, const imap::Error& e, const imap::MailboxInfo& info) {
            if (e) return self.fail(e);
            if (info.uidvalidity != self.mark_.uidvalidity) return self.opened(info);
            self.exists_ = info.exists;
            self.fetch_new();
        }));
}

void FolderWatch::notify_sync_error(const std::string& error, bool recovered) {
    try {
        const std::string text = recovered ? "Mailbox " + where() + " is reachable again."
                                           : "Mailbox " + where() + " cannot be reached: " + error + ". Retrying.";
        state_.notify("sync_error", "", text, {{"source", where()}, {"error", error}, {"recovered", recovered}});
    } catch (const StoreError& e) {
        log::error(where() + ": " + e.what());
    }
}

// The server failed us: keep what this fetch already decided (it is real mail, and its
// notifications are stored with it), drop the connection and try again with backoff.
void FolderWatch::fail(const imap::Error& e) {
    wait_for_write();
    if (!batch_.empty() && !batch_refused_) flush();
    fetching_ = false;
    if (!bodies_.empty()) {
        // The connection died while these bodies were being read: count the attempt, so that a
        // message that always breaks it is given up after kBodyAttempts instead of forever.
        try {
            state_.store->write([&](WriteTx& tx) {
                for (const auto& b : bodies_) {
                    if (b.read.attempts + 1 >= kBodyAttempts) {
                        log::warning(where() + ": giving up reading the body of UID " + std::to_string(b.read.uid) +
                                     " after " + std::to_string(kBodyAttempts) + " failed attempts");
                        tx.finish_body_read(b.read.mailbox, b.read.folder, b.read.uidvalidity, b.read.uid);
                    } else {
                        tx.retry_body_read(b.read.mailbox, b.read.folder, b.read.uidvalidity, b.read.uid);
                    }
                }
            });
        } catch (const StoreError& err) {
            log::error(where() + ": " + err.what());
        }
        bodies_.clear();
        bodies_waiting_ = 0;
    }
    if (auto c = std::move(conn_)) {
        c->set_on_closed(nullptr);
        c->set_event_handler(nullptr);
        c->close();
    }
    if (stopped_) return;
    const bool auth = e.code == imap::Errc::auth_failed;
    // Exponential backoff with jitter; a refused login waits much longer so that a wrong
    // password never locks the account on the server.
    const auto base = backoff(server_failures_, 1s, 5min);
    const auto delay = jittered(auth ? std::max<std::chrono::milliseconds>(base, 15min) : base);
    ++server_failures_;
    char in[32];
    std::snprintf(in, sizeof in, "%.1f s", static_cast<double>(delay.count()) / 1000.0);
    // A refused login says how long it waits, so the user knows why nothing happens for a
    // while after fixing the password or the token command (a restart tries at once).
    report_.last_error = std::string(imap::to_string(e.code)) + ": " + e.message +
                         (auth ? " (" + login_refused_hint(mailbox_.imap) + "; next attempt in " +
                                     std::to_string(delay.count() / 60000) + " min)"
                               : "");
    log::warning(where() + ": " + report_.last_error + "; retrying in " + in);
    if (!in_outage_) {
        in_outage_ = true;
        notify_sync_error(report_.last_error, false);
    }
    set_phase(FolderPhase::error);
    std::weak_ptr<FolderWatch> weak_self = weak_from_this();
    timer_.expires_after(delay);
    timer_.async_wait([weak_self](const boost::system::error_code& ec) {
        auto self = weak_self.lock();
        if (self && !ec && !self->stopped_) self->connect();
    });
}

}  // namespace rapport

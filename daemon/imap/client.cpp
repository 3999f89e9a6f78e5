#include "client.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "mailbox_name.hpp"
#include "sasl.hpp"
#include "rapport/utf8.hpp"
#include "rapport/ascii.hpp"
#include "sequence_set.hpp"

namespace rapport::imap {

// ---- capabilities -------------------------------------------------------------------------

void Capabilities::set(std::vector<std::string> words) {
    words_.clear();
    for (auto& w : words) {
        for (char& c : w) c = ascii_upper_char(c);
        words_.insert(std::move(w));
    }
    known_ = true;
}

void Capabilities::set_from_code(std::string_view args) {
    std::vector<std::string> words;
    while (!args.empty()) {
        const auto sp = args.find(' ');
        if (sp != 0) words.emplace_back(args.substr(0, sp));
        if (sp == std::string_view::npos) break;
        args.remove_prefix(sp + 1);
    }
    set(std::move(words));
}

bool Capabilities::has(std::string_view word) const { return words_.find(word) != words_.end(); }

const char* to_string(Client::State state) {
    switch (state) {
        case Client::State::waiting_for_greeting: return "waiting for greeting";
        case Client::State::not_authenticated: return "not authenticated";
        case Client::State::authenticated: return "authenticated";
        case Client::State::selected: return "selected";
        case Client::State::logging_out: return "logging out";
        case Client::State::closed: return "closed";
        case Client::State::failed: return "failed";
    }
    return "unknown";
}

// ---- helpers ------------------------------------------------------------------------------

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const unsigned d = static_cast<unsigned>(c - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

bool parse_u32(std::string_view s, std::uint32_t& out) {
    std::uint64_t v = 0;
    if (!parse_u64(s, v) || v > std::numeric_limits<std::uint32_t>::max()) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool valid_header_field(std::string_view f) {
    if (f.empty() || f.size() > 200) return false;
    return std::all_of(f.begin(), f.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

bool valid_flag(std::string_view f) {
    if (f.empty() || f.size() > 200) return false;
    std::size_t i = f[0] == '\\' ? 1 : 0;
    if (i == f.size()) return false;
    for (; i < f.size(); ++i) {
        const auto c = static_cast<unsigned char>(f[i]);
        if (c <= 0x20 || c >= 0x7f) return false;
        switch (c) {
            case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
                return false;
            default: break;
        }
    }
    return true;
}

Error status_error(const char* what, const StatusResponse& s, Errc no_code = Errc::rejected) {
    Error e;
    e.code = s.kind == StatusKind::bad ? Errc::bad_command : no_code;
    e.message = std::string(what) + (s.kind == StatusKind::bad ? " refused (BAD): " : " failed: ") +
                s.text;
    if (s.code) e.response_code = s.code->name;
    return e;
}

}  // namespace

// ---- commands -----------------------------------------------------------------------------

struct Client::Command {
    enum class Kind {
        capability, starttls, login, enable, list, examine, status, create, search, fetch, idle,
        append, noop, logout, body,
    };
    Kind kind = Kind::noop;
    const char* name = "";
    std::string tag;
    std::deque<std::string> segments;  // still to send; front is sent first

    DoneHandler done;
    MailboxHandler mailbox_done;
    MailboxInfo mailbox;
    StatusHandler status_done;
    MailboxStatus status;
    std::string wire_name;
    ListHandler list_done;
    std::vector<ListEntry> entries;
    AppendHandler append_done;
    std::vector<std::uint32_t> numbers;
    std::function<void(const Error&, std::vector<std::uint32_t>)> search_done;
    // The UID SEARCH and UID FETCH commands of a fetch_headers: on failure the job reports once
    // through its own handler, not through each of them.
    bool fetch_part = false;
    // fetch_body: the one UID asked for and what came back for it.
    std::uint32_t body_uid = 0;
    std::string body;
    bool body_found = false;
    BodyHandler body_done;
    // AUTHENTICATE XOAUTH2 / OAUTHBEARER: the answer owed to the server's error challenge, and
    // what that challenge said (shown with the NO that follows).
    std::optional<OAuthMechanism> oauth;
    int sasl_challenges = 0;
    std::string sasl_error;
    EventHandler idle_events;
    bool idle_started = false;
    bool idle_done_requested = false;
    DoneHandler idle_finished;

    // Runs the right handler with an error (or success when err is none).
    void complete(const Error& err) {
        switch (kind) {
            case Kind::examine:
                if (mailbox_done) mailbox_done(err, mailbox);
                break;
            case Kind::status:
                if (status_done) status_done(err, status);
                break;
            case Kind::list:
                if (list_done) list_done(err, entries);
                break;
            case Kind::append:
                if (append_done) append_done(err, AppendResult{});
                break;
            case Kind::search:
                if (search_done) search_done(err, std::move(numbers));
                break;
            case Kind::body:
                if (body_done) {
                    if (!err && !body_found) body_done(Error{Errc::rejected, "no such message (UID " + std::to_string(body_uid) + ")", "NONEXISTENT"}, {});
                    else body_done(err, err ? std::string() : std::move(body));
                }
                break;
            case Kind::idle:
                if (!idle_started) {
                    if (done) done(err);
                } else if (idle_finished) {
                    idle_finished(err);
                } else if (err && idle_events) {
                    MailboxEvent e;
                    e.kind = MailboxEvent::Kind::bye;
                    e.text = err.message;
                    idle_events(e);
                }
                break;
            default:
                if (done) done(err);
        }
    }
};

struct Client::FetchJob {
    std::uint32_t from = 0;
    std::uint32_t to = 0;
    std::string items;
    MessageHandler on_message;
    FetchDoneHandler done;
    std::vector<std::uint32_t> uids;
    std::vector<bool> delivered;
    std::size_t next_index = 0;
    // Batch b is uids[b * fetch_batch …]; per batch issued: its UIDs not delivered yet, and
    // whether it has left the window (all delivered, or answered).
    std::vector<std::size_t> undelivered;
    std::vector<bool> released;
    std::size_t window = 0;       // batches issued and not released
    std::size_t outstanding = 0;  // UID FETCH commands without their tagged answer
    bool searching = true;
    Error error;
    FetchSummary summary;
};

Client::Client(ClientOptions options) : options_(options), parser_(options.limits) {
    if (options_.fetch_batch == 0) options_.fetch_batch = 1;
    if (options_.fetch_in_flight == 0) options_.fetch_in_flight = 1;
}

Client::~Client() = default;

std::string Client::next_tag() { return "A" + std::to_string(++tag_counter_); }

CommandWriter Client::writer() {
    return CommandWriter(next_tag(), caps_.has("LITERAL+"), caps_.has("LITERAL-"));
}

std::string Client::take_output() {
    std::string out;
    out.swap(output_);
    return out;
}

bool Client::can_issue(const DoneHandler& fail_with, bool needs_selected) {
    Error err;
    if (state_ == State::closed || state_ == State::failed || state_ == State::logging_out) {
        err = failure_ ? failure_ : Error{Errc::closed, "connection is closed", {}};
    } else if (idle_ && !idle_->idle_done_requested) {
        err = Error{Errc::busy, "IDLE is running; call idle_done() first", {}};
    } else if (needs_selected && state_ != State::selected) {
        err = Error{Errc::wrong_state, "no mailbox is selected", {}};
    } else if (state_ == State::not_authenticated || state_ == State::waiting_for_greeting) {
        err = Error{Errc::wrong_state, "not logged in", {}};
    }
    if (!err) return true;
    if (fail_with) fail_with(err);
    return false;
}

void Client::submit(std::shared_ptr<Command> cmd, EncodedCommand encoded) {
    cmd->tag = encoded.tag;
    if (encoded.error) {
        cmd->complete(encoded.error);
        return;
    }
    cmd->segments.assign(std::make_move_iterator(encoded.segments.begin()),
                         std::make_move_iterator(encoded.segments.end()));
    queued_.push_back(std::move(cmd));
    pump();
}

void Client::pump() {
    while (!queued_.empty()) {
        if (state_ == State::waiting_for_greeting || state_ == State::closed ||
            state_ == State::failed)
            return;
        if (awaiting_continuation_ || idle_ || tls_requested_) return;
        // Nothing may follow STARTTLS until the handshake: the next bytes belong to TLS.
        if (!pending_.empty() && pending_.back()->kind == Command::Kind::starttls) return;
        auto cmd = std::move(queued_.front());
        queued_.pop_front();
        output_ += cmd->segments.front();
        cmd->segments.pop_front();
        if (!cmd->segments.empty()) awaiting_continuation_ = cmd;
        if (cmd->kind == Command::Kind::idle) idle_ = cmd;
        if (cmd->kind == Command::Kind::logout) logout_sent_ = true;
        pending_.push_back(std::move(cmd));
    }
}

// ---- input --------------------------------------------------------------------------------

void Client::receive(std::string_view bytes) {
    if (state_ == State::closed || state_ == State::failed || bytes.empty()) return;
    if (tls_requested_) {
        protocol_error(Errc::protocol, "plaintext data after STARTTLS (possible injection)");
        return;
    }
    parser_.feed(bytes);
    Response r;
    for (;;) {
        const auto res = parser_.next(r);
        if (res == ResponseParser::Result::need_more) break;
        if (res == ResponseParser::Result::error) {
            protocol_error(parser_.error().code, parser_.error().message);
            return;
        }
        handle(r);
        if (state_ == State::closed || state_ == State::failed) return;
        if (tls_requested_) {
            if (parser_.buffered() > 0)
                protocol_error(Errc::protocol,
                               "data after the STARTTLS response (possible injection)");
            return;
        }
    }
}

void Client::handle(Response& r) {
    if (state_ == State::waiting_for_greeting) {
        const bool status = r.kind == Response::Kind::untagged &&
                            r.untagged.kind == Untagged::Kind::status;
        if (!status || r.untagged.status.kind == StatusKind::no ||
            r.untagged.status.kind == StatusKind::bad) {
            protocol_error(Errc::protocol, "expected a greeting (* OK, * PREAUTH or * BYE)");
            return;
        }
        const auto& s = r.untagged.status;
        greeting_ = s.text;
        if (s.code && s.code->name == "CAPABILITY") {
            caps_.set_from_code(s.code->args);
        }
        if (s.kind == StatusKind::bye) {
            failure_ = Error{Errc::bye, "server refused the connection: " + s.text, {}};
            state_ = State::closed;
            fail_all(failure_);
            return;
        }
        state_ = s.kind == StatusKind::preauth ? State::authenticated : State::not_authenticated;
        pump();
        return;
    }
    switch (r.kind) {
        case Response::Kind::untagged: handle_untagged(r.untagged); break;
        case Response::Kind::tagged: handle_tagged(r); break;
        case Response::Kind::continuation: handle_continuation(r); break;
    }
}

void Client::handle_continuation(const Response& r) {
    if (awaiting_continuation_) {
        auto cmd = awaiting_continuation_;
        output_ += cmd->segments.front();
        cmd->segments.pop_front();
        if (cmd->segments.empty()) {
            awaiting_continuation_.reset();
            pump();
        }
        return;
    }
    // A refused OAuth token: the server sends its error as a challenge and waits for an
    // answer before the NO (XOAUTH2: empty, OAUTHBEARER: ^A). A second challenge is not part
    // of either mechanism: cancel with "*" (RFC 3501 6.2.2), which ends in BAD.
    for (auto& c : pending_) {
        if (c->kind != Command::Kind::login || !c->oauth) continue;
        if (c->sasl_challenges++ == 0) {
            c->sasl_error = sasl::describe_oauth_error(r.continuation_text);
            output_ += std::string(sasl::error_challenge_reply(*c->oauth)) + "\r\n";
        } else {
            output_ += "*\r\n";
        }
        return;
    }
    if (idle_ && !idle_->idle_started) {
        auto cmd = idle_;
        cmd->idle_started = true;
        if (cmd->idle_done_requested) output_ += "DONE\r\n";
        if (cmd->done) cmd->done(Error{});
        return;
    }
    protocol_error(Errc::protocol, "unexpected continuation request");
}

void Client::emit(const MailboxEvent& e) {
    if (idle_ && idle_->idle_events) {
        idle_->idle_events(e);
    } else if (on_event_) {
        on_event_(e);
    }
}

void Client::handle_untagged(Untagged& u) {
    // The command an untagged answer most likely belongs to: the oldest pending one of a kind.
    auto pending_of = [this](Command::Kind kind) -> Command* {
        for (auto& c : pending_)
            if (c->kind == kind) return c.get();
        return nullptr;
    };
    switch (u.kind) {
        case Untagged::Kind::fetch: {
            const FetchData& f = u.fetch;
            // A whole message (BODY[]<0>) for a fetch_body: its section is empty.
            if (f.uid)
                for (auto& body : u.fetch.bodies)
                    if (body.section.empty())
                        for (auto& c : pending_)
                            if (c->kind == Command::Kind::body && c->body_uid == *f.uid && !c->body_found) {
                                c->body = std::move(body.data);
                                c->body_found = true;
                                return;
                            }
            if (fetch_ && f.uid) {
                std::size_t header = f.bodies.size();
                for (std::size_t i = 0; i < f.bodies.size(); ++i)
                    if (ascii_upper(f.bodies[i].section.substr(0, 6)) == "HEADER") header = i;
                if (header < f.bodies.size()) {
                    auto& job = *fetch_;
                    const std::uint32_t uid = *f.uid;
                    const auto it = std::lower_bound(job.uids.begin(), job.uids.end(), uid);
                    if (it != job.uids.end() && *it == uid) {
                        const auto index = static_cast<std::size_t>(it - job.uids.begin());
                        if (!job.delivered[index]) {
                            job.delivered[index] = true;
                            ++job.summary.delivered;
                            job.summary.highest_uid = std::max(job.summary.highest_uid, uid);
                            // Before on_message, which may end the job.
                            const std::size_t batch = index / options_.fetch_batch;
                            if (--job.undelivered[batch] == 0) release_fetch_batch(batch);
                            FetchedMessage m;
                            m.uid = uid;
                            if (u.fetch.flags) m.flags = std::move(*u.fetch.flags);  // f views u.fetch
                            m.modseq = f.modseq;
                            m.header_block = std::move(u.fetch.bodies[header].data);
                            if (job.on_message) job.on_message(m);
                        }
                    }
                    return;
                }
            }
            if (f.flags || f.modseq) {
                MailboxEvent e;
                e.kind = MailboxEvent::Kind::flags;
                e.number = f.seq;
                e.fetch = std::move(u.fetch);
                emit(e);
            }
            return;
        }
        case Untagged::Kind::status: {
            const auto& s = u.status;
            if (s.kind == StatusKind::bye) {
                if (logout_sent_) return;
                failure_ = Error{Errc::bye, "server closed the session: " + s.text, {}};
                MailboxEvent e;
                e.kind = MailboxEvent::Kind::bye;
                e.text = s.text;
                emit(e);
                state_ = State::closed;
                fail_all(failure_);
                return;
            }
            if (!s.code) return;
            const auto& name = s.code->name;
            const auto& args = s.code->args;
            if (name == "CAPABILITY") {
                caps_.set_from_code(args);
                return;
            }
            if (name == "ALERT") {
                MailboxEvent e;
                e.kind = MailboxEvent::Kind::alert;
                e.text = s.text;
                emit(e);
                return;
            }
            Command* sel = pending_of(Command::Kind::examine);
            MailboxInfo& info = sel ? sel->mailbox : selected_;
            bool ok = true;
            if (name == "UIDVALIDITY") {
                ok = parse_u32(args, info.uidvalidity);
            } else if (name == "UIDNEXT") {
                ok = parse_u32(args, info.uidnext);
            } else if (name == "HIGHESTMODSEQ") {
                ok = parse_u64(args, info.highest_modseq);
            } else if (name == "NOMODSEQ") {
                info.highest_modseq = 0;
            }
            if (!ok) protocol_error(Errc::protocol, "malformed [" + name + "] response code");
            return;
        }
        case Untagged::Kind::capability: caps_.set(std::move(u.words)); return;
        case Untagged::Kind::enabled:
            for (const auto& w : u.words)
                if (w == "CONDSTORE" || w == "QRESYNC") condstore_enabled_ = true;
            return;
        case Untagged::Kind::exists: {
            if (Command* sel = pending_of(Command::Kind::examine)) {
                sel->mailbox.exists = u.number;
                return;
            }
            selected_.exists = u.number;
            MailboxEvent e;
            e.kind = MailboxEvent::Kind::exists;
            e.number = u.number;
            emit(e);
            return;
        }
        case Untagged::Kind::expunge: {
            if (selected_.exists > 0) --selected_.exists;
            MailboxEvent e;
            e.kind = MailboxEvent::Kind::expunge;
            e.number = u.number;
            emit(e);
            return;
        }
        case Untagged::Kind::recent: return;
        case Untagged::Kind::flags:
            if (Command* sel = pending_of(Command::Kind::examine)) sel->mailbox.flags = u.words;
            return;
        case Untagged::Kind::list:
            if (Command* l = pending_of(Command::Kind::list)) {
                ListEntry e = std::move(u.list);
                if (auto decoded = decode_mailbox_name(e.name)) e.name = std::move(*decoded);
                l->entries.push_back(std::move(e));
            }
            return;
        case Untagged::Kind::status_data: {
            Command* st = nullptr;
            for (auto& c : pending_)
                if (c->kind == Command::Kind::status &&
                    (c->wire_name == u.status_data.mailbox || !st))
                    st = c.get();
            if (!st) return;
            for (const auto& [name, value] : u.status_data.items) {
                const bool fits = value <= std::numeric_limits<std::uint32_t>::max();
                if (name == "MESSAGES" && fits) st->status.messages = static_cast<std::uint32_t>(value);
                if (name == "UIDNEXT" && fits) st->status.uidnext = static_cast<std::uint32_t>(value);
                if (name == "UIDVALIDITY" && fits)
                    st->status.uidvalidity = static_cast<std::uint32_t>(value);
                if (name == "HIGHESTMODSEQ") st->status.highest_modseq = value;
            }
            return;
        }
        case Untagged::Kind::search:
            if (Command* s = pending_of(Command::Kind::search)) {
                auto& n = u.search.numbers;
                s->numbers.insert(s->numbers.end(), n.begin(), n.end());
            }
            return;
        case Untagged::Kind::other: return;
    }
}

void Client::handle_tagged(Response& r) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const auto& c) { return c->tag == r.tag; });
    if (it == pending_.end()) {
        protocol_error(Errc::protocol, "tagged response with unknown tag " + r.tag);
        return;
    }
    auto cmd = std::move(*it);
    pending_.erase(it);
    if (awaiting_continuation_ == cmd) awaiting_continuation_.reset();
    if (idle_ == cmd) idle_.reset();
    const StatusResponse& s = r.status;
    const bool ok = s.kind == StatusKind::ok;
    Error err = ok ? Error{} : status_error(cmd->name, s);

    switch (cmd->kind) {
        case Command::Kind::starttls:
            if (!ok) {
                cmd->complete(err);
                break;
            }
            tls_requested_ = true;
            caps_.forget();
            // done runs after the handshake and the capability refresh (tls_established).
            awaiting_continuation_.reset();
            starttls_ = cmd;
            return;
        case Command::Kind::login: {
            if (!ok) {
                if (s.kind == StatusKind::no) err.code = Errc::auth_failed;
                // What to do about it is the caller's to say (it knows where the token came from).
                if (cmd->oauth)
                    err.message += cmd->sasl_error.empty() ? " (the server refused the access token)"
                                                           : " (the server refused the access token: " + cmd->sasl_error + ")";
                cmd->complete(err);
                break;
            }
            state_ = State::authenticated;
            if (s.code && s.code->name == "CAPABILITY") {
                caps_.set_from_code(s.code->args);
                cmd->complete(err);
            } else {
                auto done = std::move(cmd->done);
                capability([done](const Error& e) {
                    if (done) done(e);
                });
            }
            break;
        }
        case Command::Kind::examine:
            if (ok) {
                cmd->mailbox.read_only =
                    s.code ? s.code->name == "READ-ONLY" : cmd->mailbox.read_only;
                state_ = State::selected;
                selected_ = cmd->mailbox;
            } else if (state_ == State::selected) {
                // A failed EXAMINE leaves no mailbox selected (RFC 3501 6.3.1, 6.3.2).
                state_ = State::authenticated;
                selected_ = MailboxInfo{};
            }
            cmd->complete(err);
            break;
        case Command::Kind::append: {
            AppendResult result;
            if (ok && s.code && s.code->name == "APPENDUID") {
                const auto sp = s.code->args.find(' ');
                if (sp == std::string::npos ||
                    !parse_u32(std::string_view(s.code->args).substr(0, sp), result.uidvalidity) ||
                    !parse_u32(std::string_view(s.code->args).substr(sp + 1), result.uid)) {
                    result = AppendResult{};
                }
            }
            if (cmd->append_done) cmd->append_done(err, result);
            break;
        }
        case Command::Kind::logout:
            state_ = State::closed;
            failure_ = Error{Errc::closed, "logged out", {}};
            cmd->complete(err);
            fail_all(failure_);
            return;
        default: cmd->complete(err); break;
    }
    pump();
}

// ---- failure ------------------------------------------------------------------------------

void Client::protocol_error(Errc code, std::string message) {
    if (state_ == State::failed) return;
    state_ = State::failed;
    failure_ = Error{code, std::move(message), {}};
    fail_all(failure_);
}

void Client::connection_lost(const Error& why) {
    if (state_ != State::failed && state_ != State::closed) {
        state_ = State::closed;
        failure_ = why;
    }
    tls_requested_ = false;
    fail_all(why ? why : Error{Errc::closed, "connection closed", {}});
}

void Client::fail_all(const Error& why) {
    std::vector<std::shared_ptr<Command>> victims;
    for (auto& c : pending_) victims.push_back(std::move(c));
    for (auto& c : queued_) victims.push_back(std::move(c));
    if (starttls_) victims.push_back(std::move(starttls_));
    pending_.clear();
    queued_.clear();
    starttls_.reset();
    awaiting_continuation_.reset();
    idle_.reset();
    auto job = std::move(fetch_);
    for (auto& c : victims) {
        if (job && c->fetch_part) continue;
        c->complete(why);
    }
    if (job && job->done) job->done(why, job->summary);
}

// ---- operations ---------------------------------------------------------------------------

void Client::capability(DoneHandler done) {
    if (state_ == State::closed || state_ == State::failed) {
        if (done) done(failure_);
        return;
    }
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::capability;
    cmd->name = "CAPABILITY";
    cmd->done = std::move(done);
    submit(cmd, writer().word("CAPABILITY").finish());
}

void Client::starttls(DoneHandler done) {
    if (state_ != State::not_authenticated && state_ != State::waiting_for_greeting) {
        if (done) done(Error{Errc::wrong_state, "STARTTLS is only possible before login", {}});
        return;
    }
    if (!caps_.known()) {
        capability([this, done](const Error& e) {
            if (e) {
                if (done) done(e);
            } else {
                starttls(done);
            }
        });
        return;
    }
    if (!caps_.has("STARTTLS")) {
        if (done) done(Error{Errc::unsupported, "server does not offer STARTTLS", {}});
        return;
    }
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::starttls;
    cmd->name = "STARTTLS";
    cmd->done = std::move(done);
    submit(cmd, writer().word("STARTTLS").finish());
}

void Client::tls_established() {
    if (!tls_requested_) return;
    tls_requested_ = false;
    auto cmd = std::move(starttls_);
    starttls_.reset();
    auto done = cmd ? std::move(cmd->done) : DoneHandler{};
    capability([done](const Error& e) {
        if (done) done(e);
    });
    pump();
}

void Client::login(std::string_view user, std::string_view password, DoneHandler done) {
    if (state_ != State::not_authenticated && state_ != State::waiting_for_greeting) {
        if (done)
            done(state_ == State::closed || state_ == State::failed
                     ? failure_
                     : Error{Errc::wrong_state, "already logged in", {}});
        return;
    }
    if (!caps_.known()) {
        capability([this, u = std::string(user), p = std::string(password), done](const Error& e) {
            if (e) {
                if (done) done(e);
            } else {
                login(u, p, done);
            }
        });
        return;
    }
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::login;
    cmd->done = std::move(done);
    if (user.find('\0') != std::string_view::npos || password.find('\0') != std::string_view::npos) {
        cmd->complete(Error{Errc::invalid_argument, "user name or password contains NUL", {}});
        return;
    }
    if (caps_.has("AUTH=PLAIN")) {
        cmd->name = "AUTHENTICATE PLAIN";
        std::string plain;
        plain += '\0';
        plain.append(user.data(), user.size());
        plain += '\0';
        plain.append(password.data(), password.size());
        const std::string b64 = sasl::base64_encode(plain);
        auto w = writer().word("AUTHENTICATE PLAIN");
        if (caps_.has("SASL-IR")) {
            // An empty initial response is sent as "=" (RFC 4959).
            w.word(b64.empty() ? "=" : b64);
            submit(cmd, w.finish());
        } else {
            auto encoded = w.finish();
            encoded.segments.push_back(b64 + "\r\n");
            submit(cmd, std::move(encoded));
        }
        return;
    }
    if (caps_.has("LOGINDISABLED")) {
        cmd->complete(Error{Errc::unsupported,
                            "server disabled LOGIN and offers no AUTH=PLAIN (TLS required?)", {}});
        return;
    }
    cmd->name = "LOGIN";
    submit(cmd, writer().word("LOGIN").astring(user).astring(password).finish());
}

void Client::authenticate_oauth(OAuthMechanism mechanism, std::string_view user, std::string_view token,
                                std::string_view host, std::uint16_t port, DoneHandler done) {
    if (state_ != State::not_authenticated && state_ != State::waiting_for_greeting) {
        if (done)
            done(state_ == State::closed || state_ == State::failed
                     ? failure_
                     : Error{Errc::wrong_state, "already logged in", {}});
        return;
    }
    if (!caps_.known()) {
        capability([this, mechanism, u = std::string(user), t = std::string(token), h = std::string(host), port,
                    done](const Error& e) {
            if (e) {
                if (done) done(e);
            } else {
                authenticate_oauth(mechanism, u, t, h, port, done);
            }
        });
        return;
    }
    const std::string name = std::string("AUTHENTICATE ") + to_string(mechanism);
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::login;
    cmd->name = mechanism == OAuthMechanism::xoauth2 ? "AUTHENTICATE XOAUTH2" : "AUTHENTICATE OAUTHBEARER";
    cmd->oauth = mechanism;
    cmd->done = std::move(done);
    if (!sasl::valid_user(user))
        return cmd->complete(Error{Errc::invalid_argument, "the user name is empty or holds control characters", {}});
    if (!sasl::valid_access_token(token))
        return cmd->complete(Error{Errc::invalid_argument,
                                   "the access token is empty or holds spaces, control characters or non-ASCII "
                                   "bytes; check what the token command prints",
                                   {}});
    if (!caps_.has(std::string("AUTH=") + to_string(mechanism))) {
        std::string offered;
        for (const auto& w : caps_.all())
            if (w.rfind("AUTH=", 0) == 0) offered += (offered.empty() ? "" : " ") + w;
        return cmd->complete(Error{Errc::unsupported,
                                   "server does not offer AUTH=" + std::string(to_string(mechanism)) + " (it offers: " +
                                       (offered.empty() ? std::string("no SASL mechanism") : offered) + ")",
                                   {}});
    }
    const std::string initial = mechanism == OAuthMechanism::xoauth2
                                    ? sasl::xoauth2_response(user, token)
                                    : sasl::oauthbearer_response(user, token, host, port);
    const std::string b64 = sasl::base64_encode(initial);
    auto w = writer().word(name);
    if (caps_.has("SASL-IR")) {
        // One line of 2-4 KB for a real token; servers that announce SASL-IR take it.
        w.word(b64);
        submit(cmd, w.finish());
    } else {
        auto encoded = w.finish();
        encoded.segments.push_back(b64 + "\r\n");
        submit(cmd, std::move(encoded));
    }
}

void Client::enable_condstore(DoneHandler done) {
    if (!can_issue(done)) return;
    if (!caps_.has("CONDSTORE") || !caps_.has("ENABLE") || condstore_enabled_) {
        if (done) done(Error{});
        return;
    }
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::enable;
    cmd->name = "ENABLE";
    cmd->done = std::move(done);
    submit(cmd, writer().word("ENABLE CONDSTORE").finish());
}

void Client::list(ListHandler done) {
    if (!can_issue([&](const Error& e) {
            if (done) done(e, {});
        }))
        return;
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::list;
    cmd->name = "LIST";
    cmd->list_done = std::move(done);
    auto w = writer().word("LIST").string("").string("*");
    if (caps_.has("SPECIAL-USE") && caps_.has("LIST-EXTENDED")) w.word("RETURN (SPECIAL-USE)");
    submit(cmd, w.finish());
}

namespace {
std::optional<std::string> wire_mailbox(std::string_view utf8, Error& err) {
    auto encoded = encode_mailbox_name(utf8);
    if (!encoded) err = Error{Errc::invalid_argument, "mailbox name is not valid UTF-8", {}};
    else if (encoded->empty()) err = Error{Errc::invalid_argument, "empty mailbox name", {}};
    if (err) return std::nullopt;
    return encoded;
}
}  // namespace

void Client::examine(std::string_view mailbox, MailboxHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::examine;
    cmd->name = "EXAMINE";
    cmd->mailbox.name = std::string(mailbox);
    cmd->mailbox.read_only = true;
    cmd->mailbox_done = std::move(done);
    if (!can_issue([&](const Error& e) { cmd->complete(e); })) return;
    Error err;
    auto wire = wire_mailbox(mailbox, err);
    if (!wire) return cmd->complete(err);
    submit(cmd, writer().word("EXAMINE").astring(*wire).finish());
}

void Client::status(std::string_view mailbox, StatusHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::status;
    cmd->name = "STATUS";
    cmd->status.name = std::string(mailbox);
    cmd->status_done = std::move(done);
    if (!can_issue([&](const Error& e) { cmd->complete(e); })) return;
    Error err;
    auto wire = wire_mailbox(mailbox, err);
    if (!wire) return cmd->complete(err);
    cmd->wire_name = *wire;
    const char* items = caps_.has("CONDSTORE") ? "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
                                               : "(MESSAGES UIDNEXT UIDVALIDITY)";
    submit(cmd, writer().word("STATUS").astring(*wire).word(items).finish());
}

void Client::create(std::string_view mailbox, DoneHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::create;
    cmd->name = "CREATE";
    cmd->done = std::move(done);
    if (!can_issue([&](const Error& e) { cmd->complete(e); })) return;
    Error err;
    auto wire = wire_mailbox(mailbox, err);
    if (!wire) return cmd->complete(err);
    // A NO keeps its response code in Error::response_code (status_error), which is how the
    // caller tells ALREADYEXISTS from a real refusal (NOPERM, LIMIT, ...).
    submit(cmd, writer().word("CREATE").astring(*wire).finish());
}

void Client::fetch_headers(std::uint32_t uid_from, std::uint32_t uid_to,
                           std::vector<std::string> fields, MessageHandler on_message,
                           FetchDoneHandler done) {
    auto fail = [&](const Error& e) {
        if (done) done(e, FetchSummary{});
    };
    if (!can_issue(fail, true)) return;
    if (fetch_) return fail(Error{Errc::busy, "a header fetch is already running", {}});
    if (fields.empty()) return fail(Error{Errc::invalid_argument, "no header fields given", {}});
    std::string list;
    for (const auto& f : fields) {
        if (!valid_header_field(f))
            return fail(Error{Errc::invalid_argument, "invalid header field name", {}});
        if (!list.empty()) list += ' ';
        list += ascii_upper(f);
    }
    if (uid_from == 0) uid_from = 1;
    if (uid_to != 0 && uid_to < uid_from) return done ? done(Error{}, FetchSummary{}) : void();

    auto job = std::make_unique<FetchJob>();
    job->from = uid_from;
    job->to = uid_to;
    job->items = std::string("(UID FLAGS") + (caps_.has("CONDSTORE") ? " MODSEQ" : "") +
                 " BODY.PEEK[HEADER.FIELDS (" + list + ")])";
    job->on_message = std::move(on_message);
    job->done = std::move(done);
    fetch_ = std::move(job);

    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::search;
    cmd->name = "UID SEARCH";
    cmd->fetch_part = true;
    cmd->search_done = [this](const Error& e, std::vector<std::uint32_t> uids) {
        fetch_search_done(e, std::move(uids));
    };
    const std::string range = std::to_string(uid_from) + ":" +
                              (uid_to == 0 ? std::string("*") : std::to_string(uid_to));
    auto w = writer().word("UID SEARCH");
    if (caps_.has("ESEARCH")) w.word("RETURN (ALL)");
    submit(cmd, w.word("UID").word(range).finish());
}

void Client::fetch_search_done(const Error& err, std::vector<std::uint32_t> uids) {
    if (!fetch_) return;
    if (err) return finish_fetch(err);
    auto& job = *fetch_;
    job.searching = false;
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    // "n:*" always matches the highest UID, even below n; keep only the asked range.
    uids.erase(std::remove_if(uids.begin(), uids.end(),
                              [&](std::uint32_t u) {
                                  return u < job.from || (job.to != 0 && u > job.to);
                              }),
               uids.end());
    job.uids = std::move(uids);
    job.delivered.assign(job.uids.size(), false);
    job.summary.requested = job.uids.size();
    if (job.uids.empty()) return finish_fetch(Error{});
    fetch_next_batches();
}

void Client::fetch_next_batches() {
    auto& job = *fetch_;
    while (!job.error && job.window < options_.fetch_in_flight &&
           job.next_index < job.uids.size()) {
        const std::size_t count =
            std::min(options_.fetch_batch, job.uids.size() - job.next_index);
        const std::string set = compress_sequence_set(job.uids.data() + job.next_index, count);
        job.next_index += count;
        const std::size_t batch = job.undelivered.size();
        job.undelivered.push_back(count);
        job.released.push_back(false);
        ++job.window;
        ++job.outstanding;
        auto cmd = std::make_shared<Command>();
        cmd->kind = Command::Kind::fetch;
        cmd->name = "UID FETCH";
        cmd->fetch_part = true;
        cmd->done = [this, batch](const Error& e) { fetch_batch_done(batch, e); };
        submit(cmd, writer().word("UID FETCH").word(set).word(job.items).finish());
    }
}

// A batch leaves the window as soon as all its messages are in, not only at its tagged OK:
// Dovecot runs pipelined FETCH commands together and answers all their OKs at the end, so
// waiting for the OKs left the server idle for a round trip and its command start-up after
// every fetch_in_flight batches (measured: ~2.7 ms each, 50 times in a 100,000-message scan).
void Client::release_fetch_batch(std::size_t batch) {
    auto& job = *fetch_;
    if (job.released[batch]) return;
    job.released[batch] = true;
    --job.window;
    if (!job.error) fetch_next_batches();
}

void Client::fetch_batch_done(std::size_t batch, const Error& err) {
    if (!fetch_) return;
    auto& job = *fetch_;
    --job.outstanding;
    if (err && !job.error) job.error = err;
    release_fetch_batch(batch);  // what the server did not send is not coming
    if (job.outstanding == 0 && (job.error || job.next_index >= job.uids.size()))
        finish_fetch(job.error);
}

void Client::finish_fetch(const Error& err) {
    auto job = std::move(fetch_);
    if (job && job->done) job->done(err, job->summary);
}

void Client::fetch_body(std::uint32_t uid, std::size_t max_bytes, BodyHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::body;
    cmd->name = "UID FETCH";
    cmd->body_uid = uid;
    cmd->body_done = std::move(done);
    if (!can_issue([&](const Error& e) { cmd->complete(e); }, true)) return;
    if (uid == 0 || max_bytes == 0)
        return cmd->complete(Error{Errc::invalid_argument, "fetch_body needs a UID and a size", {}});
    // BODY.PEEK never sets \Seen; the partial <0.n> keeps a 30 MB message from costing more
    // than its first n bytes.
    submit(cmd, writer().word("UID FETCH").word(std::to_string(uid))
                    .word("(UID BODY.PEEK[]<0." + std::to_string(max_bytes) + ">)").finish());
}

void Client::search_header(std::string_view field, std::string_view value, SearchHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::search;
    cmd->name = "UID SEARCH";
    cmd->search_done = [done = std::move(done)](const Error& e, std::vector<std::uint32_t> uids) {
        // Untagged SEARCH data seen before a NO or a lost connection is not an answer.
        if (e) uids.clear();
        std::sort(uids.begin(), uids.end());
        uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
        if (done) done(e, uids);
    };
    if (!can_issue([&](const Error& e) { cmd->complete(e); }, true)) return;
    if (!valid_header_field(field))
        return cmd->complete(Error{Errc::invalid_argument, "invalid header field name", {}});
    bool ascii = true;
    for (std::size_t i = 0; i < value.size();) {
        std::uint32_t cp = 0;
        if (!rapport::utf8::decode(value, i, cp))
            return cmd->complete(
                Error{Errc::invalid_argument, "search value is not valid UTF-8", {}});
        if (cp >= 0x80) ascii = false;
    }
    auto w = writer().word("UID SEARCH");
    // US-ASCII is every server's default charset; naming UTF-8 only when needed keeps ASCII
    // searches working on servers that know no other charset.
    if (!ascii) w.word("CHARSET UTF-8");
    // string(), not astring(): an atom value would be fine on the wire, but a quoted string
    // reads the same on every server, and anything unquotable (8-bit, CR/LF, quotes, long
    // text) becomes a literal. A NUL makes finish() fail with invalid_argument.
    submit(cmd, w.word("HEADER").astring(field).string(value).finish());
}

void Client::idle(EventHandler on_event, DoneHandler on_started) {
    if (!can_issue(on_started)) return;
    if (!pending_.empty() || !queued_.empty() || idle_) {
        if (on_started) on_started(Error{Errc::busy, "IDLE needs an otherwise quiet connection", {}});
        return;
    }
    if (!caps_.has("IDLE")) {
        if (on_started) on_started(Error{Errc::unsupported, "server does not offer IDLE", {}});
        return;
    }
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::idle;
    cmd->name = "IDLE";
    cmd->done = std::move(on_started);
    cmd->idle_events = std::move(on_event);
    submit(cmd, writer().word("IDLE").finish());
}

void Client::idle_done(DoneHandler done) {
    if (!idle_ || idle_->idle_done_requested) {
        if (done) done(Error{Errc::wrong_state, "IDLE is not running", {}});
        return;
    }
    idle_->idle_done_requested = true;
    idle_->idle_finished = std::move(done);
    if (idle_->idle_started) output_ += "DONE\r\n";
}

void Client::append(std::string_view mailbox, const std::vector<std::string>& flags,
                    std::string_view message, AppendHandler done) {
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::append;
    cmd->name = "APPEND";
    cmd->append_done = std::move(done);
    if (!can_issue([&](const Error& e) { cmd->complete(e); })) return;
    std::string flag_list = "(";
    for (const auto& f : flags) {
        if (!valid_flag(f)) return cmd->complete(Error{Errc::invalid_argument, "invalid flag", {}});
        if (ascii_upper(f) == "\\DELETED")
            return cmd->complete(Error{Errc::invalid_argument, "refusing to set \\Deleted", {}});
        if (flag_list.size() > 1) flag_list += ' ';
        flag_list += f;
    }
    flag_list += ')';
    Error err;
    auto wire = wire_mailbox(mailbox, err);
    if (!wire) return cmd->complete(err);
    submit(cmd, writer().word("APPEND").astring(*wire).word(flag_list).literal(message).finish());
}

void Client::noop(DoneHandler done) {
    if (!can_issue(done)) return;
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::noop;
    cmd->name = "NOOP";
    cmd->done = std::move(done);
    submit(cmd, writer().word("NOOP").finish());
}

void Client::logout(DoneHandler done) {
    if (state_ == State::closed || state_ == State::failed || logout_sent_) {
        if (done) done(Error{});
        return;
    }
    if (idle_ && !idle_->idle_done_requested) idle_done(nullptr);
    auto cmd = std::make_shared<Command>();
    cmd->kind = Command::Kind::logout;
    cmd->name = "LOGOUT";
    cmd->done = std::move(done);
    submit(cmd, writer().word("LOGOUT").finish());
}

}  // namespace rapport::imap

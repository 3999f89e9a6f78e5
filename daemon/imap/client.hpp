#pragma once
// The IMAP client state machine, sans I/O: it consumes the bytes the server sent (receive) and
// produces the bytes to send (take_output); it never touches a socket, a clock or a thread.
// The transport below (rapport_imap's ImapConnection, or a test script) moves the bytes, so it
// can be swapped freely and every server quirk can be replayed from a transcript.
//
// Operations take completion callbacks. Callbacks run synchronously inside receive() (or inside
// the operation call itself when it fails at once) and may start further operations. After an
// operation call or receive(), the transport must send take_output().
//
// Safety rules baked in (DESIGN.md "Mail is sacred"): bodies are fetched with BODY.PEEK only,
// nothing here can STORE flags, EXPUNGE or CLOSE; mailboxes are opened with EXAMINE only. The
// only writes are APPEND and CREATE, which add and never change or remove anything.
//
// Typical flow:
//   Client c;                       // state: waiting_for_greeting
//   ... transport feeds greeting -> not_authenticated
//   c.login(user, pass, cb)         // AUTHENTICATE PLAIN or LOGIN; refreshes CAPABILITY
//   c.enable_condstore(cb)          // optional, when capabilities().has("CONDSTORE")
//   c.examine("INBOX", cb)          // -> selected, MailboxInfo
//   c.fetch_headers(from, 0, {"FROM","SUBJECT"}, on_message, on_done)
//   c.idle(on_event, on_started); ... c.idle_done(cb)
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "command_writer.hpp"
#include "imap_types.hpp"
#include "response_parser.hpp"
#include "sasl.hpp"

namespace rapport::imap {

class Capabilities {
public:
    void set(std::vector<std::string> upper_cased_words);
    // From a [CAPABILITY …] response code's arguments: the words between the spaces.
    void set_from_code(std::string_view args);
    bool has(std::string_view upper_cased_word) const;  // e.g. has("IDLE"), has("AUTH=PLAIN")
    const std::set<std::string, std::less<>>& all() const { return words_; }
    bool known() const { return known_; }
    void forget() {
        words_.clear();
        known_ = false;
    }

private:
    std::set<std::string, std::less<>> words_;
    bool known_ = false;
};

struct ClientOptions {
    ParserLimits limits;
    std::size_t fetch_batch = 500;    // UIDs per UID FETCH command
    // UID FETCH commands pipelined at once, counting those whose messages have not all
    // arrived (a command whose messages are all in frees its place before its tagged OK).
    std::size_t fetch_in_flight = 4;
};

class Client {
public:
    enum class State {
        waiting_for_greeting,
        not_authenticated,
        authenticated,
        selected,
        logging_out,
        closed,  // after BYE or connection_lost
        failed,  // protocol error; the transport must drop the connection
    };

    using DoneHandler = std::function<void(const Error&)>;
    using MailboxHandler = std::function<void(const Error&, const MailboxInfo&)>;
    using StatusHandler = std::function<void(const Error&, const MailboxStatus&)>;
    using ListHandler = std::function<void(const Error&, const std::vector<ListEntry>&)>;
    using MessageHandler = std::function<void(const FetchedMessage&)>;
    using FetchDoneHandler = std::function<void(const Error&, const FetchSummary&)>;
    using AppendHandler = std::function<void(const Error&, const AppendResult&)>;
    using SearchHandler = std::function<void(const Error&, const std::vector<std::uint32_t>&)>;
    using EventHandler = std::function<void(const MailboxEvent&)>;
    using BodyHandler = std::function<void(const Error&, std::string)>;

    explicit Client(ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // ---- transport side ----
    void receive(std::string_view bytes);
    std::string take_output();
    bool has_output() const { return !output_.empty(); }
    // The connection ended (EOF, error, timeout). Fails every pending operation with why.
    void connection_lost(const Error& why);
    // True between the tagged OK to STARTTLS and tls_established(): the transport must run the
    // TLS handshake before sending or receiving anything else.
    bool tls_requested() const { return tls_requested_; }
    void tls_established();

    // ---- state ----
    State state() const { return state_; }
    bool waiting_for_greeting() const { return state_ == State::waiting_for_greeting; }
    const Error& failure() const { return failure_; }  // set in closed/failed
    const Capabilities& capabilities() const { return caps_; }
    std::string_view greeting() const { return greeting_; }
    bool condstore_enabled() const { return condstore_enabled_; }
    bool idling() const { return idle_ != nullptr; }
    // Commands sent (or queued) and not yet answered by a tagged response.
    std::size_t commands_in_flight() const { return pending_.size(); }
    const MailboxInfo& selected_mailbox() const { return selected_; }

    // Unsolicited changes (EXISTS, EXPUNGE, FETCH FLAGS, ALERT, BYE) outside IDLE.
    void set_event_handler(EventHandler handler) { on_event_ = std::move(handler); }

    // ---- operations ----
    void capability(DoneHandler done);
    // Fails with unsupported when the server does not offer STARTTLS (never falls back).
    void starttls(DoneHandler done);
    // AUTHENTICATE PLAIN when offered (with SASL-IR when offered), else LOGIN unless
    // LOGINDISABLED. Refreshes capabilities before done runs.
    void login(std::string_view user, std::string_view password, DoneHandler done);
    // AUTHENTICATE XOAUTH2 or OAUTHBEARER with an OAuth 2.0 access token (sasl.hpp), as the
    // initial response when the server has SASL-IR, else after its "+". host and port go into
    // the OAUTHBEARER message (RFC 7628). A refused token comes as an error challenge first:
    // the client answers it as the mechanism requires and done gets Errc::auth_failed with
    // the server's error text. Fails with unsupported, before sending, when the server does
    // not offer the mechanism, and with invalid_argument for a token or user name that could
    // break the SASL framing. Refreshes capabilities before done runs, like login().
    void authenticate_oauth(OAuthMechanism mechanism, std::string_view user, std::string_view token,
                            std::string_view host, std::uint16_t port, DoneHandler done);
    void enable_condstore(DoneHandler done);  // no-op success when CONDSTORE is missing
    // LIST "" "*", with RETURN (SPECIAL-USE) when offered. Names are decoded to UTF-8.
    void list(ListHandler done);
    // Mailbox names are UTF-8; they are converted to modified UTF-7 for the wire. EXAMINE is
    // the only way to open a mailbox: there is no SELECT (which would clear \Recent).
    void examine(std::string_view mailbox, MailboxHandler done);
    void status(std::string_view mailbox, StatusHandler done);
    // CREATE mailbox (UTF-8, sent as modified UTF-7 like examine). A mailbox that is already
    // there is a tagged NO: done gets Errc::rejected with response_code "ALREADYEXISTS" (RFC
    // 5530) when the server says so, and callers that only need the mailbox to exist may treat
    // that as success. Servers without RFC 5530 codes just say NO; a caller can check with
    // list() or status() then.
    void create(std::string_view mailbox, DoneHandler done);
    // Header fields of every message with uid_from <= UID <= uid_to (uid_to 0 means no upper
    // bound) in the selected mailbox: a UID SEARCH finds the UIDs, then UID FETCH commands of
    // ClientOptions::fetch_batch UIDs each run pipelined, ClientOptions::fetch_in_flight at a
    // time (a command whose messages have all arrived makes room for the next), with BODY.PEEK (never sets \Seen). on_message runs once per UID (unsolicited FETCH
    // responses without the header section are reported as flag events instead). fields are
    // header names made of letters, digits and '-'. One fetch_headers at a time.
    void fetch_headers(std::uint32_t uid_from, std::uint32_t uid_to,
                       std::vector<std::string> fields, MessageHandler on_message,
                       FetchDoneHandler done);
    // UID SEARCH [CHARSET UTF-8] HEADER field value in the selected mailbox (EXAMINE is
    // enough: SEARCH does not change anything). done gets the matching UIDs, ascending and
    // without duplicates; empty on error. field is a header name of letters, digits, '-' and
    // '_' (the check fetch_headers makes); anything else is refused with invalid_argument
    // before anything is sent. value is
    // UTF-8: sent as a quoted string when it is short printable ASCII, else as a literal; with
    // non-ASCII bytes the command names CHARSET UTF-8 (RFC 3501 6.4.4), and invalid UTF-8 or a
    // NUL is refused with invalid_argument. The server matches a substring of the field's
    // (decoded) value, case-insensitively, so callers looking for an exact id must make it
    // unambiguous (e.g. "<d-1@rapport>" with its brackets); an empty value matches every
    // message that has the field. A server without UTF-8 search answers NO [BADCHARSET].
    // No RETURN is sent, so the answer is a plain "* SEARCH" (which every server gives).
    void search_header(std::string_view field, std::string_view value, SearchHandler done);
    // The first max_bytes of one message (UID FETCH uid (UID BODY.PEEK[]<0.max_bytes>)): never
    // sets \Seen. done gets the bytes, or Errc::rejected with response_code NONEXISTENT when the
    // server sent nothing for that UID (expunged meanwhile). May run while no header fetch is running.
    void fetch_body(std::uint32_t uid, std::size_t max_bytes, BodyHandler done);
    // IDLE: on_started runs when the server accepted ("+"), or with an error. Events go to
    // on_event until idle_done()'s handler runs. Needs no other command in flight.
    void idle(EventHandler on_event, DoneHandler on_started);
    void idle_done(DoneHandler done);
    // APPEND mailbox (flags) {n} message. The message must use CRLF line ends and hold no NUL.
    // Each flag is a system flag (\Draft, \Seen, ...) or a keyword atom; anything else
    // (spaces, CR/LF, parentheses, quotes, non-ASCII) and \Deleted are refused with
    // invalid_argument before sending. done gets [APPENDUID] when the server has UIDPLUS.
    void append(std::string_view mailbox, const std::vector<std::string>& flags,
                std::string_view message, AppendHandler done);
    void noop(DoneHandler done);
    void logout(DoneHandler done);

private:
    struct Command;
    struct FetchJob;

    std::string next_tag();
    CommandWriter writer();
    // Queues an encoded command; fails it at once when encoding failed or the state is wrong.
    void submit(std::shared_ptr<Command> cmd, EncodedCommand encoded);
    void pump();  // sends queued commands unless blocked by a pending literal or IDLE
    bool can_issue(const DoneHandler& fail_with, bool needs_selected = false);
    void handle(Response& r);
    void handle_untagged(Untagged& u);
    void handle_tagged(Response& r);
    void handle_continuation(const Response& r);
    void protocol_error(Errc code, std::string message);
    void fail_all(const Error& why);
    void emit(const MailboxEvent& e);
    void fetch_search_done(const Error& err, std::vector<std::uint32_t> uids);
    void fetch_next_batches();
    void release_fetch_batch(std::size_t batch);
    void fetch_batch_done(std::size_t batch, const Error& err);
    void finish_fetch(const Error& err);

    ClientOptions options_;
    ResponseParser parser_;
    State state_ = State::waiting_for_greeting;
    Error failure_;
    Capabilities caps_;
    std::string greeting_;
    bool condstore_enabled_ = false;
    bool tls_requested_ = false;
    bool logout_sent_ = false;
    std::uint64_t tag_counter_ = 0;
    std::string output_;
    std::deque<std::shared_ptr<Command>> pending_;   // sent, awaiting tagged response
    std::deque<std::shared_ptr<Command>> queued_;    // not yet sent
    std::shared_ptr<Command> awaiting_continuation_; // has more segments to send after "+"
    std::shared_ptr<Command> idle_;
    std::shared_ptr<Command> starttls_;              // answered OK, waiting for the handshake
    std::unique_ptr<FetchJob> fetch_;
    MailboxInfo selected_;
    EventHandler on_event_;
};

const char* to_string(Client::State state);

}  // namespace rapport::imap

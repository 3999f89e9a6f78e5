#pragma once
// ImapConnection: one IMAP session over TCP, TLS (implicit or STARTTLS) or plain TCP, driven
// by the sans-I/O Client (client.hpp) on a Boost.Asio io_context. Everything is asynchronous on
// that one io_context (no thread per connection); every handler runs there, so a caller that
// lives on the same io_context needs no locking.
//
// Security:
//  - Security::tls: TLS from the first byte (port 993).
//  - Security::starttls: plain greeting, then STARTTLS; if the server does not offer it or the
//    handshake fails, connect() fails. There is never a fallback to plaintext.
//  - Security::none: plain TCP, refused for hosts other than loopback unless allow_insecure.
//  Certificates are verified against the system store (set_default_verify_paths) plus the
//  optional ca_file, with host name (or IP address) verification; SNI is sent for host names.
//
// Timeouts: connect_timeout covers resolve, connect, TLS handshake, greeting, STARTTLS and login.
// read_timeout applies whenever a command waits for its answer and no byte arrives for that
// long. An IDLE is renewed (DONE + IDLE) every idle_renewal, before servers' 30-minute cut-off.
// A timeout fails the connection with Errc::timeout.
//
// Life cycle and errors: create() -> connect() -> operations -> close(). Once the connection
// fails (network error, timeout, BYE, protocol error) every pending and later operation's
// handler runs with the error, and on_closed (if set) runs once. A failed connection is not
// reused: create a new one (the watcher owns reconnect and backoff policy).
// Operations may be issued back to back; the client pipelines them in order. While idle() is
// active other operations fail with Errc::busy: call stop_idle() first. An operation that fails
// at once (closed connection, bad argument) runs its handler before the call returns.
//
// Example (all on one io_context):
//   auto c = ImapConnection::create(io);
//   c->connect({"imap.example.com", 993, Security::tls}, {"mia", "secret"},
//              [c](const Error& e) {
//       if (e) return log(e.message);
//       c->examine("INBOX", [c](const Error& e, const MailboxInfo& box) {
//           c->fetch_headers(last_uid + 1, 0, {"FROM", "TO", "SUBJECT"},
//                            [](const FetchedMessage& m) { /* m.uid, m.flags, m.header_block */ },
//                            [c](const Error& e, const FetchSummary& s) {
//                                c->idle([](const MailboxEvent& ev) { /* EXISTS -> fetch */ },
//                                        [](const Error& e) { /* idle ended */ });
//                            });
//       });
//   });
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client.hpp"
#include "imap_types.hpp"

namespace rapport::imap {

enum class Security { tls, starttls, none };

struct Endpoint {
    std::string host;
    std::uint16_t port = 993;
    Security security = Security::tls;
    std::string ca_file;          // extra trusted CA certificates (PEM); empty: system store only
    bool allow_insecure = false;  // permit Security::none to a non-loopback host
};

struct Credentials {
    std::string username;
    std::string password;  // the access token when oauth is set
    // Set: AUTHENTICATE XOAUTH2 / OAUTHBEARER with the token; unset: LOGIN or AUTHENTICATE PLAIN.
    std::optional<OAuthMechanism> oauth{};
};

struct ConnectionOptions {
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(30);
    std::chrono::milliseconds read_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds idle_renewal = std::chrono::minutes(28);
    bool enable_condstore = true;  // ENABLE CONDSTORE after login when offered
    ClientOptions client;
};

class ImapConnection : public std::enable_shared_from_this<ImapConnection> {
public:
    using DoneHandler = Client::DoneHandler;
    using MailboxHandler = Client::MailboxHandler;
    using StatusHandler = Client::StatusHandler;
    using ListHandler = Client::ListHandler;
    using MessageHandler = Client::MessageHandler;
    using FetchDoneHandler = Client::FetchDoneHandler;
    using AppendHandler = Client::AppendHandler;
    using SearchHandler = Client::SearchHandler;
    using BodyHandler = Client::BodyHandler;
    using EventHandler = Client::EventHandler;

    static std::shared_ptr<ImapConnection> create(boost::asio::io_context& io,
                                                  ConnectionOptions options = {});
    ~ImapConnection();
    ImapConnection(const ImapConnection&) = delete;
    ImapConnection& operator=(const ImapConnection&) = delete;

    // Resolves, connects, secures, reads the greeting, authenticates (AUTHENTICATE PLAIN or
    // LOGIN, or XOAUTH2 / OAUTHBEARER with Credentials::oauth) and enables CONDSTORE when offered. done runs once.
    void connect(const Endpoint& endpoint, const Credentials& credentials, DoneHandler done);

    // Called once when the connection ends for any reason other than close().
    void set_on_closed(DoneHandler on_closed) { on_closed_ = std::move(on_closed); }
    // Unsolicited mailbox changes seen outside IDLE (EXISTS, EXPUNGE, flag changes, ALERT).
    void set_event_handler(EventHandler handler);

    void list(ListHandler done);
    void examine(const std::string& mailbox, MailboxHandler done);  // read-only; there is no SELECT
    void status(const std::string& mailbox, StatusHandler done);
    // See Client::create: a NO [ALREADYEXISTS] comes back as an error with that response_code,
    // which callers that only need the mailbox to exist may treat as success.
    void create(const std::string& mailbox, DoneHandler done);
    // See Client::fetch_headers: pipelined UID batches, BODY.PEEK only, each UID at most once.
    void fetch_headers(std::uint32_t uid_from, std::uint32_t uid_to,
                       std::vector<std::string> fields, MessageHandler on_message,
                       FetchDoneHandler done);
    // See Client::search_header: UID SEARCH HEADER field value in the selected mailbox, the UIDs
    // ascending. CHARSET UTF-8 only for non-ASCII values.
    void search_header(const std::string& field, const std::string& value, SearchHandler done);
    // See Client::fetch_body: the first max_bytes of one message, BODY.PEEK only.
    void fetch_body(std::uint32_t uid, std::size_t max_bytes, BodyHandler done);
    // Starts IDLE on the selected mailbox. on_change runs for every change; the IDLE is renewed
    // transparently every idle_renewal. on_end runs once, when stop_idle() completes or when the
    // IDLE could not start or the connection failed (with the error).
    void idle(EventHandler on_change, DoneHandler on_end);
    void stop_idle(DoneHandler done);
    void append(const std::string& mailbox, const std::vector<std::string>& flags,
                const std::string& message, AppendHandler done);
    void noop(DoneHandler done);
    // Polite LOGOUT (bounded by read_timeout), then the socket is closed. Pending handlers get
    // Errc::closed. Safe to call more than once and from any handler.
    void close();

    const Client& client() const { return client_; }
    bool ready() const { return phase_ == Phase::ready; }

private:
    enum class Phase { fresh, connecting, greeting, securing, authenticating, ready, closed };

    ImapConnection(boost::asio::io_context& io, ConnectionOptions options);
    void fail(const Error& error);
    void after_greeting();
    void start_read();
    void on_read(const boost::system::error_code& ec, std::size_t n);
    void start_tls_handshake(bool after_starttls);
    void flush();
    void arm_watchdog();
    void on_watchdog(const boost::system::error_code& ec);
    void arm_idle_renewal();
    void start_idle_command();
    void finish_close();
    Error socket_error(const boost::system::error_code& ec, const char* what) const;

    boost::asio::io_context& io_;
    ConnectionOptions options_;
    std::shared_ptr<boost::asio::ssl::context> ssl_ctx_;  // tls::client_context, or a bare one for Security::none
    boost::asio::ip::tcp::resolver resolver_;
    std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
    boost::asio::steady_timer watchdog_;
    boost::asio::steady_timer idle_timer_;
    Client client_;
    Endpoint endpoint_;
    Credentials credentials_;
    Phase phase_ = Phase::fresh;
    bool tls_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool closing_ = false;
    bool watchdog_armed_ = false;
    std::uint64_t watchdog_generation_ = 0;
    std::chrono::steady_clock::time_point watchdog_expiry_;
    std::chrono::steady_clock::time_point deadline_;  // connect deadline while connecting
    std::chrono::steady_clock::time_point last_activity_;
    std::string read_buffer_;
    std::string write_buffer_;
    std::string pending_output_;
    DoneHandler connect_done_;
    DoneHandler on_closed_;
    // IDLE as seen by the caller: may span several IDLE commands (renewals).
    struct IdleSession {
        EventHandler on_change;
        DoneHandler on_end;
        bool stop_requested = false;
        bool renewing = false;  // DONE sent to renew; a new IDLE follows its OK
        DoneHandler stop_done;
    };
    void end_idle(const std::shared_ptr<IdleSession>& session, const Error& error);
    std::shared_ptr<IdleSession> idle_;
};

}  // namespace rapport::imap

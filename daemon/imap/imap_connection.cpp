#include "imap_connection.hpp"

#include "client_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>

namespace rapport::imap {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

constexpr std::size_t read_chunk = 128 * 1024;

}  // namespace

std::shared_ptr<ImapConnection> ImapConnection::create(asio::io_context& io,
                                                       ConnectionOptions options) {
    return std::shared_ptr<ImapConnection>(new ImapConnection(io, std::move(options)));
}

ImapConnection::ImapConnection(asio::io_context& io, ConnectionOptions options)
    : io_(io),
      options_(std::move(options)),
      resolver_(io),
      watchdog_(io),
      idle_timer_(io),
      client_(options_.client) {}

ImapConnection::~ImapConnection() {
    boost::system::error_code ec;
    if (stream_) stream_->next_layer().close(ec);
}

Error ImapConnection::socket_error(const boost::system::error_code& ec, const char* what) const {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        return Error{Errc::closed, std::string("server closed the connection (") + what + ")", {}};
    if (ec.category() == asio::error::get_ssl_category())
        return Error{Errc::tls, std::string("TLS error while ") + what + ": " + ec.message(), {}};
    return Error{Errc::network, std::string(what) + " failed: " + ec.message(), {}};
}

void ImapConnection::set_event_handler(EventHandler handler) {
    client_.set_event_handler(std::move(handler));
}

// ---- connect ------------------------------------------------------------------------------

void ImapConnection::connect(const Endpoint& endpoint, const Credentials& credentials,
                             DoneHandler done) {
    if (phase_ != Phase::fresh) {
        if (done) done(Error{Errc::wrong_state, "connect() called twice", {}});
        return;
    }
    endpoint_ = endpoint;
    credentials_ = credentials;
    connect_done_ = std::move(done);
    phase_ = Phase::connecting;
    deadline_ = Clock::now() + options_.connect_timeout;

    if (endpoint_.security == Security::none && !endpoint_.allow_insecure &&
        !is_loopback(endpoint_.host))
        return fail(Error{Errc::unsupported,
                          "plaintext IMAP to a non-loopback host is refused (security: none)", {}});

    // A plain connection never starts TLS (STARTTLS needs Security::starttls): it does not
    // need the CA store, only a context for the stream type.
    if (endpoint_.security == Security::none) {
        ssl_ctx_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    } else {
        boost::system::error_code ec;
        ssl_ctx_ = tls::client_context(endpoint_.ca_file, ec);
        if (!ssl_ctx_) return fail(Error{Errc::tls, "cannot load CA certificates: " + ec.message(), {}});
    }
    stream_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, *ssl_ctx_);
    stream_->set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
    if (!is_ip_address(endpoint_.host))
        SSL_set_tlsext_host_name(stream_->native_handle(), endpoint_.host.c_str());

    arm_watchdog();
    auto self = shared_from_this();
    resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port),
        [self](const boost::system::error_code& ec, tcp::resolver::results_type results) {
            if (self->phase_ == Phase::closed) return;
            if (ec) return self->fail(self->socket_error(ec, "resolving the host"));
            asio::async_connect(
                self->stream_->next_layer(), results,
                [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                    if (self->phase_ == Phase::closed) return;
                    if (ec) return self->fail(self->socket_error(ec, "connecting"));
                    boost::system::error_code ignored;
                    self->stream_->next_layer().set_option(tcp::no_delay(true), ignored);
                    self->last_activity_ = Clock::now();
                    if (self->endpoint_.security == Security::tls) {
                        self->start_tls_handshake(false);
                    } else {
                        self->phase_ = Phase::greeting;
                        self->start_read();
                    }
                });
        });
}

void ImapConnection::after_greeting() {
    // Handlers kept by client_ capture this, not a shared_ptr: client_ lives inside *this and
    // only runs them from calls made on a live connection, and a shared_ptr would be a cycle.
    auto self = this;
    auto login = [self] {
        self->phase_ = Phase::authenticating;
        auto logged_in = [self](const Error& e) {
            if (e) return self->fail(e);
            auto ready = [self](const Error& e) {
                if (e) return self->fail(e);
                self->phase_ = Phase::ready;
                auto done = std::move(self->connect_done_);
                self->connect_done_ = nullptr;
                if (done) done(Error{});
            };
            if (self->options_.enable_condstore)
                self->client_.enable_condstore(ready);
            else
                ready(Error{});
        };
        const auto& c = self->credentials_;
        if (c.oauth)
            self->client_.authenticate_oauth(*c.oauth, c.username, c.password, self->endpoint_.host,
                                             self->endpoint_.port, logged_in);
        else
            self->client_.login(c.username, c.password, logged_in);
    };
    if (client_.state() == Client::State::authenticated) {  // PREAUTH
        if (endpoint_.security == Security::starttls)
            return fail(Error{Errc::unsupported, "PREAUTH greeting prevents STARTTLS", {}});
        phase_ = Phase::authenticating;
        client_.capability([self](const Error& e) {
            if (e) return self->fail(e);
            self->phase_ = Phase::ready;
            auto done = std::move(self->connect_done_);
            self->connect_done_ = nullptr;
            if (done) done(Error{});
        });
        return;
    }
    if (endpoint_.security == Security::starttls) {
        phase_ = Phase::securing;
        client_.starttls([self, login](const Error& e) {
            if (e) return self->fail(e);  // never fall back to plaintext
            login();
        });
    } else {
        login();
    }
}

void ImapConnection::start_tls_handshake(bool after_starttls) {
    auto self = shared_from_this();
    stream_->async_handshake(
        asio::ssl::stream_base::client,
        [self, after_starttls](const boost::system::error_code& ec) {
            if (self->phase_ == Phase::closed) return;
            if (ec) {
                std::string detail = ec.message();
                const long verify = SSL_get_verify_result(self->stream_->native_handle());
                if (verify != X509_V_OK)
                    detail += std::string(" (certificate: ") +
                              X509_verify_cert_error_string(verify) + ")";
                return self->fail(Error{Errc::tls, "TLS handshake failed: " + detail, {}});
            }
            self->tls_ = true;
            self->last_activity_ = Clock::now();
            if (after_starttls) {
                self->client_.tls_established();
                self->flush();
            } else {
                self->phase_ = Phase::greeting;
            }
            self->start_read();
        });
}

// ---- I/O ----------------------------------------------------------------------------------

void ImapConnection::start_read() {
    if (reading_ || phase_ == Phase::closed) return;
    reading_ = true;
    read_buffer_.resize(read_chunk);
    auto self = shared_from_this();
    auto handler = [self](const boost::system::error_code& ec, std::size_t n) {
        self->reading_ = false;
        self->on_read(ec, n);
    };
    if (tls_) {
        stream_->async_read_some(asio::buffer(read_buffer_), std::move(handler));
    } else {
        stream_->next_layer().async_read_some(asio::buffer(read_buffer_), std::move(handler));
    }
}

void ImapConnection::on_read(const boost::system::error_code& ec, std::size_t n) {
    if (phase_ == Phase::closed) return;
    if (ec) {
        if (closing_) return finish_close();
        return fail(socket_error(ec, "reading"));
    }
    last_activity_ = Clock::now();
    client_.receive(std::string_view(read_buffer_.data(), n));
    if (phase_ == Phase::closed) return;  // a handler closed the connection
    if (client_.state() == Client::State::failed) return fail(client_.failure());
    if (client_.state() == Client::State::closed) {
        if (closing_) return finish_close();
        return fail(client_.failure() ? client_.failure()
                                      : Error{Errc::closed, "server ended the session", {}});
    }
    if (phase_ == Phase::greeting && !client_.waiting_for_greeting()) after_greeting();
    if (phase_ == Phase::closed) return;
    if (client_.tls_requested()) return start_tls_handshake(true);
    flush();
    start_read();
    arm_watchdog();
}

void ImapConnection::flush() {
    if (phase_ == Phase::closed) return;
    pending_output_ += client_.take_output();
    if (writing_ || pending_output_.empty()) return;
    writing_ = true;
    write_buffer_.swap(pending_output_);
    pending_output_.clear();
    last_activity_ = Clock::now();
    auto self = shared_from_this();
    auto handler = [self](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        self->write_buffer_.clear();
        if (self->phase_ == Phase::closed) return;
        if (ec) return self->fail(self->socket_error(ec, "writing"));
        self->flush();
    };
    if (tls_) {
        asio::async_write(*stream_, asio::buffer(write_buffer_), std::move(handler));
    } else {
        asio::async_write(stream_->next_layer(), asio::buffer(write_buffer_), std::move(handler));
    }
    arm_watchdog();
}

// ---- timeouts -----------------------------------------------------------------------------

void ImapConnection::arm_watchdog() {
    if (phase_ == Phase::closed) return;
    Clock::time_point when;
    if (phase_ != Phase::ready) {
        when = deadline_;
    } else {
        const bool quiet_idle = idle_ && client_.idling() && client_.commands_in_flight() == 1 &&
                                !idle_->stop_requested && !idle_->renewing;
        if (client_.commands_in_flight() == 0 || quiet_idle) return;
        when = last_activity_ + options_.read_timeout;
    }
    // A later check is fine (on_watchdog re-arms); an earlier one replaces the pending wait.
    if (watchdog_armed_ && watchdog_expiry_ <= when) return;
    watchdog_armed_ = true;
    watchdog_expiry_ = when;
    const auto generation = ++watchdog_generation_;
    watchdog_.expires_at(when);
    watchdog_.async_wait(
        [self = shared_from_this(), generation](const boost::system::error_code& ec) {
            if (generation != self->watchdog_generation_) return;  // replaced by a newer wait
            self->watchdog_armed_ = false;
            self->on_watchdog(ec);
        });
}

void ImapConnection::on_watchdog(const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || phase_ == Phase::closed) return;
    const auto now = Clock::now();
    if (phase_ != Phase::ready) {
        if (now >= deadline_)
            return fail(Error{Errc::timeout,
                              client_.waiting_for_greeting() && phase_ == Phase::greeting
                                  ? "timed out waiting for the server greeting"
                                  : "timed out connecting and logging in",
                              {}});
    } else if (client_.commands_in_flight() > 0 && now >= last_activity_ + options_.read_timeout) {
        const bool quiet_idle = idle_ && client_.idling() && client_.commands_in_flight() == 1 &&
                                !idle_->stop_requested && !idle_->renewing;
        if (!quiet_idle)
            return fail(Error{Errc::timeout, "no answer from the server within " +
                                                 std::to_string(options_.read_timeout.count()) +
                                                 " ms",
                              {}});
    }
    arm_watchdog();
}

// ---- failure and close --------------------------------------------------------------------

void ImapConnection::fail(const Error& error) {
    if (phase_ == Phase::closed) return;
    const bool was_closing = closing_;
    phase_ = Phase::closed;
    boost::system::error_code ignored;
    watchdog_.cancel();
    idle_timer_.cancel();
    resolver_.cancel();
    if (stream_) stream_->next_layer().close(ignored);
    client_.connection_lost(error);
    if (auto session = std::move(idle_)) {
        idle_.reset();
        if (session->stop_done) session->stop_done(error);
        if (session->on_end) session->on_end(error);
    }
    if (auto done = std::move(connect_done_)) {
        connect_done_ = nullptr;
        done(error);
    }
    if (!was_closing) {
        if (auto on_closed = std::move(on_closed_)) {
            on_closed_ = nullptr;
            on_closed(error);
        }
    }
}

void ImapConnection::close() {
    if (phase_ == Phase::closed || closing_) return;
    closing_ = true;
    const auto state = client_.state();
    if (phase_ == Phase::ready &&
        (state == Client::State::authenticated || state == Client::State::selected)) {
        if (idle_) idle_->stop_requested = true;
        client_.logout([this](const Error&) { finish_close(); });
        flush();
        arm_watchdog();
        return;
    }
    finish_close();
}

void ImapConnection::finish_close() {
    fail(Error{Errc::closed, "connection closed", {}});
}

// ---- operations ---------------------------------------------------------------------------

void ImapConnection::list(ListHandler done) {
    client_.list(std::move(done));
    flush();
}

void ImapConnection::examine(const std::string& mailbox, MailboxHandler done) {
    client_.examine(mailbox, std::move(done));
    flush();
}

void ImapConnection::status(const std::string& mailbox, StatusHandler done) {
    client_.status(mailbox, std::move(done));
    flush();
}

void ImapConnection::create(const std::string& mailbox, DoneHandler done) {
    client_.create(mailbox, std::move(done));
    flush();
}

void ImapConnection::fetch_headers(std::uint32_t uid_from, std::uint32_t uid_to,
                                   std::vector<std::string> fields, MessageHandler on_message,
                                   FetchDoneHandler done) {
    client_.fetch_headers(uid_from, uid_to, std::move(fields), std::move(on_message),
                          std::move(done));
    flush();
}

void ImapConnection::search_header(const std::string& field, const std::string& value,
                                   SearchHandler done) {
    client_.search_header(field, value, std::move(done));
    flush();
}

void ImapConnection::fetch_body(std::uint32_t uid, std::size_t max_bytes, BodyHandler done) {
    client_.fetch_body(uid, max_bytes, std::move(done));
    flush();
}

void ImapConnection::append(const std::string& mailbox, const std::vector<std::string>& flags,
                            const std::string& message, AppendHandler done) {
    client_.append(mailbox, flags, message, std::move(done));
    flush();
}

void ImapConnection::noop(DoneHandler done) {
    client_.noop(std::move(done));
    flush();
}

// ---- IDLE ---------------------------------------------------------------------------------

void ImapConnection::idle(EventHandler on_change, DoneHandler on_end) {
    if (idle_) {
        if (on_end) on_end(Error{Errc::busy, "IDLE is already running", {}});
        return;
    }
    if (phase_ != Phase::ready) {
        if (on_end)
            on_end(client_.failure() ? client_.failure()
                                     : Error{Errc::wrong_state, "not connected", {}});
        return;
    }
    idle_ = std::make_shared<IdleSession>();
    idle_->on_change = std::move(on_change);
    idle_->on_end = std::move(on_end);
    start_idle_command();
}

void ImapConnection::end_idle(const std::shared_ptr<IdleSession>& session, const Error& error) {
    if (idle_ != session) return;
    idle_.reset();
    idle_timer_.cancel();
    if (session->stop_done) session->stop_done(error);
    if (session->on_end) session->on_end(error);
}

void ImapConnection::start_idle_command() {
    auto self = this;  // stored in client_: see after_greeting()
    auto session = idle_;
    session->renewing = false;
    client_.idle(
        [session](const MailboxEvent& e) {
            if (session->on_change) session->on_change(e);
        },
        [self, session](const Error& e) {
            if (e) return self->end_idle(session, e);
            if (!session->stop_requested) self->arm_idle_renewal();
        });
    flush();
    arm_watchdog();
}

void ImapConnection::arm_idle_renewal() {
    auto self = shared_from_this();
    auto session = idle_;
    idle_timer_.expires_after(options_.idle_renewal);
    idle_timer_.async_wait([self, session](const boost::system::error_code& ec) {
        if (ec || self->idle_ != session || self->phase_ == Phase::closed) return;
        if (session->stop_requested) return;
        session->renewing = true;
        auto* raw = self.get();
        self->client_.idle_done([raw, session](const Error& e) {
            auto* self = raw;
            if (e) return self->end_idle(session, e);
            if (session->stop_requested) return self->end_idle(session, Error{});
            if (self->idle_ == session) self->start_idle_command();
        });
        self->flush();
        self->arm_watchdog();
    });
}

void ImapConnection::stop_idle(DoneHandler done) {
    auto session = idle_;
    if (!session || session->stop_requested) {
        if (done) done(Error{Errc::wrong_state, "IDLE is not running", {}});
        return;
    }
    session->stop_requested = true;
    session->stop_done = std::move(done);
    idle_timer_.cancel();
    if (session->renewing) return;  // the renewal's DONE completion ends the session
    client_.idle_done([this, session](const Error& e) { end_idle(session, e); });
    flush();
    arm_watchdog();
}

}  // namespace rapport::imap

#include "smtp/smtp_listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <list>

namespace rapport::smtp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, const ListenerOptions& options, Deliver deliver,
               std::shared_ptr<std::size_t> active)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          options_(options),
          deliver_(std::move(deliver)),
          core_(options.session),
          active_(std::move(active)) {
        ++*active_;
    }
    ~Connection() { --*active_; }

    void start() {
        write_then(core_.greeting(), [](Connection& self) { self.pump(); });
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        timer_.cancel();
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

private:
    // Writes `bytes` (if any), then runs `next` unless the connection closed meanwhile.
    template <class F>
    void write_then(std::string bytes, F next) {
        if (closed_) return;
        if (bytes.empty()) {
            next(*this);
            return;
        }
        auto buffer = std::make_shared<std::string>(std::move(bytes));
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(*buffer),
                          [self, buffer, next](const boost::system::error_code& ec, std::size_t) {
                              if (ec) return self->close();
                              if (!self->closed_) next(*self);
                          });
    }

    // Runs the core until it needs input or something asynchronous must happen first.
    void pump() {
        std::string out;
        while (!closed_) {
            auto e = core_.next();
            if (!e) break;
            switch (e->kind) {
                case Event::Kind::reply:
                    out += e->text;
                    continue;
                case Event::Kind::close:
                    out += e->text;
                    write_then(std::move(out), [](Connection& self) { self.close(); });
                    return;
                case Event::Kind::reply_after_delay: {
                    auto text = std::make_shared<std::string>(std::move(e->text));
                    write_then(std::move(out), [text](Connection& self) {
                        // Nothing is read or answered during the delay: one guess per delay.
                        self.timer_.expires_after(self.options_.auth_failure_delay);
                        auto s = self.shared_from_this();
                        self.timer_.async_wait([s, text](const boost::system::error_code& ec) {
                            if (ec || s->closed_) return;
                            s->write_then(std::move(*text), [](Connection& c) { c.pump(); });
                        });
                    });
                    return;
                }
                case Event::Kind::message: {
                    auto ev = std::make_shared<Event>(std::move(*e));
                    write_then(std::move(out), [ev](Connection& self) {
                        // Held strongly: while the relay runs nothing else (no read, no
                        // write) keeps the connection alive, and the client waits for it.
                        auto strong = self.shared_from_this();
                        self.deliver_(std::move(ev->envelope), std::move(ev->data),
                                      [strong](int code, std::string text) {
                                          auto s = strong;
                                          if (s->closed_) return;
                                          s->core_.deliver_result(code, text);
                                          s->pump();
                                      });
                    });
                    return;
                }
            }
        }
        if (closed_) return;
        write_then(std::move(out), [](Connection& self) {
            if (!self.core_.waiting()) self.read();
        });
    }

    void read() {
        auto self = shared_from_this();
        timer_.expires_after(options_.idle_timeout);
        timer_.async_wait([weak = std::weak_ptr<Connection>(self)](const boost::system::error_code& ec) {
            auto s = weak.lock();
            if (ec || !s || s->closed_) return;
            s->timed_out_ = true;
            s->write_then(s->core_.timeout_event().text, [](Connection& c) { c.close(); });
        });
        socket_.async_read_some(asio::buffer(buffer_), [self](const boost::system::error_code& ec, std::size_t n) {
            if (self->timed_out_) return;
            self->timer_.cancel();
            if (ec) return self->close();  // the client went away: a half-read message is dropped
            self->core_.receive(std::string_view(self->buffer_.data(), n));
            self->pump();
        });
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    const ListenerOptions options_;  // a copy: handlers may outlive the listener
    Deliver deliver_;
    SmtpSession core_;
    std::shared_ptr<std::size_t> active_;
    std::array<char, 64 * 1024> buffer_{};
    bool closed_ = false;
    bool timed_out_ = false;
};

}  // namespace

struct SmtpListener::Impl : std::enable_shared_from_this<SmtpListener::Impl> {
    asio::io_context& io;
    ListenerOptions options;
    Deliver deliver;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::shared_ptr<std::size_t> active = std::make_shared<std::size_t>(0);
    std::list<std::weak_ptr<Connection>> connections;
    bool stopped = false;

    Impl(asio::io_context& io_, ListenerOptions o, Deliver d) : io(io_), options(std::move(o)), deliver(std::move(d)) {}

    void log(const std::string& line) const {
        if (options.log) options.log(line);
    }

    void open(const asio::ip::address& address, bool required) {
        auto acceptor = std::make_unique<tcp::acceptor>(io);
        boost::system::error_code ec;
        const tcp::endpoint endpoint(address, options.port);
        acceptor->open(endpoint.protocol(), ec);
        if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
        if (!ec) acceptor->bind(endpoint, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            if (required) throw boost::system::system_error(ec, "listen on " + address.to_string() + ":" + std::to_string(options.port));
            log("not listening on [" + address.to_string() + "]:" + std::to_string(options.port) + ": " + ec.message());
            return;
        }
        acceptors.push_back(std::move(acceptor));
    }

    void accept(tcp::acceptor& acceptor) {
        auto self = shared_from_this();
        acceptor.async_accept([self, &acceptor](const boost::system::error_code& ec, tcp::socket socket) {
            if (self->stopped) return;
            if (!ec) {
                self->admit(std::move(socket));
                self->accept(acceptor);
                return;
            }
            // Out of file descriptors and the like: accepting again at once would spin; the
            // pending connection waits in the backlog meanwhile.
            self->log("accept failed: " + ec.message() + "; retrying in 100 ms");
            auto timer = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
            timer->async_wait([self, timer, &acceptor](const boost::system::error_code&) {
                if (!self->stopped) self->accept(acceptor);
            });
        });
    }

    void admit(tcp::socket socket) {
        connections.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        if (*active >= options.max_connections) {
            // Told, not just dropped, so the client reports a temporary failure and retries.
            auto text = std::make_shared<std::string>("421 4.7.0 Too many connections; try again later\r\n");
            auto s = std::make_shared<tcp::socket>(std::move(socket));
            asio::async_write(*s, asio::buffer(*text), [s, text](const boost::system::error_code&, std::size_t) {
                boost::system::error_code ignored;
                s->close(ignored);
            });
            log("connection refused: " + std::to_string(*active) + " connections already");
            return;
        }
        auto c = std::make_shared<Connection>(std::move(socket), options, deliver, active);
        connections.push_back(c);
        c->start();
    }
};

SmtpListener::SmtpListener(asio::io_context& io, ListenerOptions options, Deliver deliver)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(deliver))) {
    impl_->open(asio::ip::address_v4::loopback(), true);
    impl_->open(asio::ip::address_v6::loopback(), false);
    for (auto& a : impl_->acceptors) impl_->accept(*a);
}

SmtpListener::~SmtpListener() { stop(); }

void SmtpListener::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    boost::system::error_code ignored;
    for (auto& a : impl_->acceptors) a->close(ignored);
    for (auto& w : impl_->connections)
        if (auto c = w.lock()) c->close();
    impl_->connections.clear();
}

std::vector<std::string> SmtpListener::endpoints() const {
    std::vector<std::string> out;
    for (const auto& a : impl_->acceptors) {
        boost::system::error_code ec;
        const auto e = a->local_endpoint(ec);
        if (ec) continue;
        out.push_back(e.address().is_v6() ? "[" + e.address().to_string() + "]:" + std::to_string(e.port())
                                          : e.address().to_string() + ":" + std::to_string(e.port()));
    }
    return out;
}

std::size_t SmtpListener::connections() const { return *impl_->active; }

}  // namespace rapport::smtp

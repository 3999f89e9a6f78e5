// The Asio listener with a fake relay, over real loopback sockets: loopback-only endpoints, the
// idle timeout, the delay after a wrong token, a verdict that arrives later, a client that
// leaves while its message is relayed, and the connection limit.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "smtp/smtp_listener.hpp"

using namespace rapport::smtp;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Server {
    asio::io_context io;
    std::unique_ptr<SmtpListener> listener;
    std::thread thread;
    int port = 0;
    std::vector<Envelope> delivered;  // touched on the io thread only, read after stop

    explicit Server(ListenerOptions o) {
        for (int attempt = 0; attempt < 20 && !listener; ++attempt) {
            tcp::acceptor probe(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            o.port = probe.local_endpoint().port();
            probe.close();
            try {
                listener = std::make_unique<SmtpListener>(io, o, [this](Envelope e, std::string, DeliverDone done) {
                    delivered.push_back(e);
                    // The verdict comes later, as from the worker pool.
                    auto t = std::make_shared<asio::steady_timer>(io, 50ms);
                    t->async_wait([t, done](const boost::system::error_code&) { done(250, "2.0.0 Relayed"); });
                });
                port = o.port;
            } catch (const std::exception&) {
            }
        }
        REQUIRE(listener);
        thread = std::thread([this] { io.run(); });
    }
    ~Server() {
        asio::post(io, [this] {
            listener->stop();
            io.stop();
        });
        thread.join();
    }
};

struct Client {
    asio::io_context io;
    tcp::socket socket{io};
    asio::streambuf buf;
    explicit Client(int port) { socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port))); }
    std::string line() {
        asio::read_until(socket, buf, "\r\n");
        std::istream in(&buf);
        std::string l;
        std::getline(in, l);
        return l;
    }
    // The last line of a (possibly multi-line) reply.
    std::string reply() {
        std::string l;
        do l = line();
        while (l.size() > 3 && l[3] == '-');
        return l;
    }
    void send(const std::string& s) { asio::write(socket, asio::buffer(s)); }
};

ListenerOptions options() {
    ListenerOptions o;
    o.session.token = "tok";
    o.idle_timeout = 300ms;
    o.auth_failure_delay = 300ms;
    o.max_connections = 3;
    return o;
}

}  // namespace

TEST_CASE("listener: loopback only, a delayed verdict, a wrong token's delay, the idle timeout", "[smtp][listener]") {
    Server server(options());
    for (const auto& e : server.listener->endpoints())
        CHECK((e.rfind("127.0.0.1:", 0) == 0 || e.rfind("[::1]:", 0) == 0));

    Client c(server.port);
    CHECK(c.line().rfind("220 ", 0) == 0);
    c.send("EHLO t\r\nAUTH PLAIN AHUAd3Jvbmc=\r\n");  // "\0u\0wrong"
    CHECK(c.reply().rfind("250 ", 0) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.reply().rfind("535 ", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
    c.send("AUTH PLAIN AHUAdG9r\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");  // "\0u\0tok"
    CHECK(c.reply().rfind("235 ", 0) == 0);
    CHECK(c.reply().rfind("250 ", 0) == 0);
    CHECK(c.reply().rfind("250 ", 0) == 0);
    CHECK(c.reply().rfind("354 ", 0) == 0);
    c.send("Subject: x\r\n\r\nbody\r\n.\r\n");
    CHECK(c.reply() == "250 2.0.0 Relayed\r");
    // Idle: told 421, then closed.
    CHECK(c.reply().rfind("421 4.4.2", 0) == 0);
    boost::system::error_code ec;
    char byte;
    c.socket.read_some(asio::buffer(&byte, 1), ec);
    CHECK(ec);
}

TEST_CASE("listener: a client leaving mid-relay or mid-DATA; the connection limit", "[smtp][listener]") {
    Server server(options());
    {
        Client c(server.port);
        c.line();
        c.send("EHLO t\r\nAUTH PLAIN AHUAdG9r\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nx\r\n.\r\n");
    }  // gone before the verdict
    {
        Client c(server.port);
        c.line();
        c.send("EHLO t\r\nAUTH PLAIN AHUAdG9r\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\nhalf a mess");
    }  // gone mid-DATA
    std::this_thread::sleep_for(200ms);
    Client a(server.port), b(server.port), c(server.port);
    CHECK(a.line().rfind("220 ", 0) == 0);
    CHECK(b.line().rfind("220 ", 0) == 0);
    CHECK(c.line().rfind("220 ", 0) == 0);
    Client d(server.port);
    CHECK(d.line().rfind("421 4.7.0", 0) == 0);
    a.send("QUIT\r\n");
    CHECK(a.reply().rfind("221 ", 0) == 0);
    std::this_thread::sleep_for(100ms);
    Client e(server.port);
    CHECK(e.line().rfind("220 ", 0) == 0);  // a slot is free again
}

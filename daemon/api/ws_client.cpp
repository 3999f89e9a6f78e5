// The synchronous client's Beast side (the only client translation unit that includes Beast).
#include "ws_client.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace rapport::api {
namespace {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
}  // namespace

struct WsClient::Impl {
    explicit Impl(WsClientOptions o) : options(std::move(o)) {}

    WsClientOptions options;
    net::io_context io;
    std::optional<websocket::stream<tcp::socket>> ws;
    beast::flat_buffer buffer;

    // Runs the io_context until `done` or the deadline; on timeout drops the connection and
    // drains the aborted operation before throwing.
    void run(bool& done, std::chrono::milliseconds timeout, const char* what) {
        io.restart();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done && std::chrono::steady_clock::now() < deadline)
            io.run_one_until(deadline);
        if (done) return;
        drop();
        io.restart();
        io.run();
        throw WsError(WsError::Kind::timed_out, std::string(what) + ": timed out");
    }

    void drop() {
        if (!ws) return;
        beast::error_code ignored;
        beast::get_lowest_layer(*ws).shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(*ws).close(ignored);
    }

    [[noreturn]] void fail(const beast::error_code& ec, const char* what) {
        if (ec == websocket::error::closed) {
            const auto reason = ws->reason();
            drop();
            throw WsError(WsError::Kind::closed,
                          "connection closed by the server (" + std::to_string(reason.code) +
                              (reason.reason.empty() ? "" : " " + std::string(reason.reason)) + ")",
                          reason.code);
        }
        drop();
        throw WsError(WsError::Kind::protocol, std::string(what) + ": " + ec.message());
    }
};

WsClient::WsClient(WsClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
WsClient::~WsClient() { impl_->drop(); }

bool WsClient::is_open() const { return impl_->ws && impl_->ws->is_open(); }

void WsClient::connect(std::uint16_t port, std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    m.drop();
    m.ws.emplace(m.io);
    m.buffer.clear();
    m.ws->read_message_max(m.options.max_message_bytes);
    const std::string origin = m.options.origin;
    m.ws->set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "rapportctl");
        if (!origin.empty()) req.set(beast::http::field::origin, origin);
    }));
    const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
    const std::string host = "127.0.0.1:" + std::to_string(port);

    bool done = false;
    beast::error_code result;
    beast::get_lowest_layer(*m.ws).async_connect(endpoint, [&](beast::error_code ec) {
        if (ec) {
            result = ec;
            done = true;
            return;
        }
        m.ws->async_handshake(host, "/", [&](beast::error_code hec) {
            result = hec;
            done = true;
        });
    });
    m.run(done, timeout, "connect");
    if (result) {
        m.drop();
        throw WsError(WsError::Kind::connect_failed, "cannot connect to " + host + ": " + result.message());
    }
    m.ws->text(true);
}

void WsClient::send_text(const std::string& text, std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    if (!is_open()) throw WsError(WsError::Kind::protocol, "send: not connected");
    bool done = false;
    beast::error_code result;
    m.ws->async_write(net::buffer(text), [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    m.run(done, timeout, "send");
    if (result) m.fail(result, "send");
}

std::string WsClient::receive_text(std::chrono::milliseconds timeout) {
    Impl& m = *impl_;
    if (!is_open()) throw WsError(WsError::Kind::protocol, "receive: not connected");
    bool done = false;
    beast::error_code result;
    m.buffer.clear();
    m.ws->async_read(m.buffer, [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    m.run(done, timeout, "receive");
    if (result) m.fail(result, "receive");
    if (!m.ws->got_text()) throw WsError(WsError::Kind::protocol, "receive: binary frame");
    return beast::buffers_to_string(m.buffer.data());
}

void WsClient::close(std::chrono::milliseconds timeout) noexcept {
    Impl& m = *impl_;
    if (!is_open()) return;
    try {
        bool done = false;
        m.ws->async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
        m.run(done, timeout, "close");
    } catch (...) {
    }
    m.drop();
}

}  // namespace rapport::api

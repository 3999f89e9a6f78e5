// The WebSocket API server. The only server translation unit that includes Beast: listener,
// HTTP (upgrade) session, WebSocket session and hub all live here, in the order a connection
// meets them. Design notes: api_server.hpp.
#include "api_server.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "handshake_policy.hpp"
#include "jsonrpc.hpp"
#include "secret_compare.hpp"

namespace rapport::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;
using Frame = std::shared_ptr<const std::string>;
// The io_context's own executor, not asio's type-erased any_io_executor and no strand: the
// daemon runs its io_context on one thread (api_server.hpp), so every handler is already
// serialized, and the erased executor's copies and the strand's queue cost a compose.check
// ~4 µs of its ~23 (docs/api.md#speed).
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using HttpStream = beast::basic_stream<tcp, Executor>;

constexpr std::size_t max_request_header_bytes = 8 * 1024;
constexpr std::size_t replay_batch = 64;  // replayed frames queued at a time (see pump())

// Header values are attacker-chosen: logged printable, short, never whole.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 80)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    if (text.size() > 80) out += "...";
    return out;
}

std::string string_member(const json& object, const char* name) {
    if (!object.is_object()) return {};
    const auto it = object.find(name);
    if (it == object.end() || !it->is_string()) return {};
    return printable(it->get_ref<const std::string&>());
}

class WsSession;

// Shared state, as in chat-multi: what every connection needs to see.
struct Hub {
    Hub(ApiServerOptions o, ApiHandler* h) : options(std::move(o)), handler(h) {}

    const ApiServerOptions options;
    std::atomic<ApiHandler*> handler;  // null once stopped
    std::atomic<bool> stopped{false};
    std::atomic<std::size_t> connections{0};
    std::atomic<std::uint64_t> next_session_id{1};
    std::uint16_t port = 0;  // the bound port (options.port may be 0)

    std::mutex mutex;  // guards sessions (broadcast() may come from any thread)
    std::unordered_map<std::uint64_t, std::weak_ptr<WsSession>> sessions;

    void log(const std::string& line) const {
        if (options.log) options.log("api: " + line);
    }
    void join(std::uint64_t id, const std::shared_ptr<WsSession>& session) {
        std::lock_guard<std::mutex> lock(mutex);
        sessions.emplace(id, session);
    }
    void leave(std::uint64_t id) {
        std::lock_guard<std::mutex> lock(mutex);
        sessions.erase(id);
    }
    std::vector<std::shared_ptr<WsSession>> snapshot() {
        std::vector<std::shared_ptr<WsSession>> out;
        std::lock_guard<std::mutex> lock(mutex);
        out.reserve(sessions.size());
        for (auto& [id, weak] : sessions)
            if (auto s = weak.lock()) out.push_back(std::move(s));
        return out;
    }
};

// Counts a connection against max_sessions from accept until its last session object dies.
struct ConnectionTicket {
    explicit ConnectionTicket(std::shared_ptr<Hub> h) : hub(std::move(h)) { ++hub->connections; }
    ~ConnectionTicket() { --hub->connections; }
    ConnectionTicket(const ConnectionTicket&) = delete;
    ConnectionTicket& operator=(const ConnectionTicket&) = delete;
    std::shared_ptr<Hub> hub;
};

//------------------------------------------------------------------------------------------------
// WebSocket session: one per authenticated-or-not connection after the upgrade. Everything
// here runs on the io thread (the socket's executor).

class WsSession : public std::enable_shared_from_this<WsSession> {
public:
    WsSession(Socket&& socket, std::shared_ptr<Hub> hub, std::shared_ptr<ConnectionTicket> ticket,
              std::string origin)
        : ws_(std::move(socket)), hub_(std::move(hub)), ticket_(std::move(ticket)),
          hello_timer_(ws_.get_executor()) {
        info_.id = hub_->next_session_id++;
        info_.origin = std::move(origin);
    }
    ~WsSession() { hub_->leave(info_.id); }

    void run(http::request<http::empty_body> request) {
        const ApiServerOptions& o = hub_->options;
        auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.handshake_timeout = o.handshake_timeout;
        timeouts.idle_timeout = o.idle_timeout;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "rapportd"); }));
        ws_.read_message_max(o.max_message_bytes);
        ws_.text(true);
        ws_.async_accept(request, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
    }

    // From any thread.
    void post_notification(std::uint64_t id, Frame frame) {
        net::post(ws_.get_executor(), [self = shared_from_this(), id, frame = std::move(frame)]() mutable {
            self->deliver(id, std::move(frame));
        });
    }
    void post_stop() {
        net::post(ws_.get_executor(), [self = shared_from_this()] {
            self->close_gracefully(websocket::close_code::going_away, "server stopping");
        });
    }

private:
    enum class Phase { accepting, awaiting_hello, ready, closing, ended };
    enum class Subscription { none, pending, replaying, live };

    bool open() const { return phase_ == Phase::awaiting_hello || phase_ == Phase::ready; }

    void on_accept(beast::error_code ec) {
        if (ec) return;  // handshake failed or timed out; nothing was registered yet
        phase_ = Phase::awaiting_hello;
        hub_->join(info_.id, shared_from_this());
        if (hub_->stopped) return close_gracefully(websocket::close_code::going_away, "server stopping");
        hello_timer_.expires_after(hub_->options.hello_timeout);
        hello_timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
            if (!timer_ec && self->phase_ == Phase::awaiting_hello) {
                self->hub_->log("session " + std::to_string(self->info_.id) + ": no hello in time");
                self->close_gracefully(websocket::close_code::policy_error, "hello timeout");
            }
        });
        do_read();
    }

    // The read loop runs until the connection ends, also while closing (Beast wants reads to
    // continue until error::closed); its end is the session's single exit.
    void do_read() {
        ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return end(ec);
        if (open()) {
            if (!ws_.got_text()) {
                close_gracefully(websocket::close_code::unknown_data, "text frames only");
            } else {
                // flat_buffer is contiguous: parsed in place, released after the request ran.
                const auto data = buffer_.data();
                on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
                buffer_.consume(buffer_.size());
            }
        }
        buffer_.consume(buffer_.size());
        do_read();
    }

    void end(beast::error_code ec) {
        if (phase_ == Phase::ended) return;
        if (ec == websocket::error::message_too_big)
            hub_->log("session " + std::to_string(info_.id) + ": message too big, closed with 1009");
        phase_ = Phase::ended;
        hello_timer_.cancel();
        queue_.clear();
        pending_.clear();
        backlog_.clear();
        hub_->leave(info_.id);
        if (authenticated_)
            if (ApiHandler* handler = hub_->handler.load()) handler->closed(info_);
    }

    void on_text(std::string_view text) {
        ApiHandler* handler = hub_->handler.load();
        if (!handler) return;  // stopping
        const RpcFrame frame =
            parse_rpc_frame(text, RpcLimits{hub_->options.max_message_bytes, hub_->options.max_json_depth});
        if (phase_ == Phase::awaiting_hello) return on_first_frame(frame, *handler);

        if (frame.error) {
            enqueue(rpc_error(frame.error->id, frame.error->code, frame.error->message));
            return;
        }
        const RpcRequest& request = *frame.request;
        if (request.is_notification) return;  // see jsonrpc.hpp: not run, not answered
        if (request.method == "hello") {
            enqueue(rpc_error(request.id, rpc_code::invalid_request, "hello was already said"));
            return;
        }
        if (request.method == "subscribe") return start_subscribe(request, *handler);

        std::string reply;
        try {
            reply = rpc_result(request.id, handler->handle(request.method, request.params, info_));
        } catch (const RpcError& e) {
            reply = rpc_error(request.id, e.code(), e.what(), e.data());
        } catch (const std::exception& e) {
            hub_->log("handler failed on " + printable(request.method) + ": " + e.what());
            reply = rpc_error(request.id, rpc_code::internal_error, "internal error");
        }
        enqueue(std::move(reply));
    }

    // Before hello nothing but a well-formed hello request with the right token gets through;
    // everything else ends the connection with 1008 and no handler method runs.
    void on_first_frame(const RpcFrame& frame, ApiHandler& handler) {
        const RpcRequest* request = frame.request ? &*frame.request : nullptr;
        bool ok = request && !request->is_notification && request->method == "hello";
        if (ok) {
            const auto token = request->params.is_object() ? request->params.find("token")
                                                           : request->params.end();
            ok = token != request->params.end() && token->is_string() &&
                 constant_time_equals(token->get_ref<const std::string&>(), hub_->options.token);
        }
        if (!ok) {
            hub_->log("session " + std::to_string(info_.id) + ": refused (first frame not hello with a valid token)");
            return close_gracefully(websocket::close_code::policy_error, "hello with a valid token required");
        }
        phase_ = Phase::ready;
        authenticated_ = true;
        hello_timer_.cancel();
        info_.client = string_member(request->params, "client");
        info_.client_version = string_member(request->params, "version");

        json result = json::object();
        try {
            json extra = handler.hello(request->params, info_);
            if (extra.is_object()) result = std::move(extra);
        } catch (const RpcError& e) {
            enqueue(rpc_error(request->id, e.code(), e.what(), e.data()));
            return close_gracefully(websocket::close_code::policy_error, "hello refused");
        } catch (const std::exception& e) {
            hub_->log(std::string("handler failed on hello: ") + e.what());
            enqueue(rpc_error(request->id, rpc_code::internal_error, "internal error"));
            return close_gracefully(websocket::close_code::internal_error, "internal error");
        }
        const ApiServerOptions& o = hub_->options;
        if (!result.contains("server")) result["server"] = o.server_name;
        if (!result.contains("version")) result["version"] = o.server_version;
        if (!result.contains("protocol")) result["protocol"] = o.protocol;
        enqueue(rpc_result(request->id, result));
    }

    //--------------------------------------------------------------------------------------------
    // Subscription: none -> pending (handler working; live ones held) -> replaying (backlog fed
    // into the write queue as it drains; live ones still held) -> live (id filter only).

    void start_subscribe(const RpcRequest& request, ApiHandler& handler) {
        if (subscription_ != Subscription::none) {
            enqueue(rpc_error(request.id, rpc_code::invalid_request, "already subscribed"));
            return;
        }
        subscription_ = Subscription::pending;
        auto once = std::make_shared<std::atomic<bool>>(false);
        std::weak_ptr<WsSession> weak = shared_from_this();
        const json id = request.id;
        SubscribeDone done = [weak, once, id](SubscribeResult result) {
            if (once->exchange(true)) return;
            if (auto self = weak.lock()) {
                // Posted, never run inline: the handler may call this from inside subscribe().
                net::post(self->ws_.get_executor(), [self, id, result = std::move(result)]() mutable {
                    self->finish_subscribe(id, std::move(result));
                });
            }
        };
        auto refuse = [&](const std::string& reply) {
            if (once->exchange(true)) return;
            subscription_ = Subscription::none;
            pending_.clear();
            enqueue(reply);
        };
        try {
            handler.subscribe(request.params, info_, std::move(done));
        } catch (const RpcError& e) {
            refuse(rpc_error(id, e.code(), e.what(), e.data()));
        } catch (const std::exception& e) {
            hub_->log(std::string("handler failed on subscribe: ") + e.what());
            refuse(rpc_error(id, rpc_code::internal_error, "internal error"));
        }
    }

    void finish_subscribe(const json& id, SubscribeResult result) {
        if (!open() || subscription_ != Subscription::pending) return;
        if (result.error) {
            subscription_ = Subscription::none;
            pending_.clear();
            enqueue(rpc_error(id, result.error->code(), result.error->what(), result.error->data()));
            return;
        }
        std::stable_sort(result.replay.begin(), result.replay.end(),
                         [](const Notification& a, const Notification& b) { return a.id < b.id; });
        std::uint64_t last = result.live_after;
        backlog_.clear();
        for (auto& n : result.replay) {
            if (!backlog_.empty() && n.id == backlog_.back().id) continue;
            last = std::max(last, n.id);
            backlog_.push_back(std::move(n));
        }
        last_sent_ = last;
        subscription_ = Subscription::replaying;
        info_.subscribed = true;
        if (!enqueue(rpc_result(id, result.result.is_null() ? json::object() : result.result))) return;
        pump();
    }

    // Moves replayed notifications into the write queue a batch at a time, so a long replay
    // never trips the queue bound; when the backlog is empty, releases the held live ones.
    void pump() {
        if (subscription_ != Subscription::replaying || !open()) return;
        while (!backlog_.empty() && queue_.size() < replay_batch) {
            auto frame = std::make_shared<const std::string>(rpc_notification("notify", backlog_.front().params));
            backlog_.pop_front();
            if (!enqueue(std::move(frame))) return;
        }
        if (!backlog_.empty()) return;
        subscription_ = Subscription::live;
        auto held = std::move(pending_);
        pending_.clear();
        for (auto& [nid, frame] : held) {
            if (nid <= last_sent_) continue;  // already in the replay
            last_sent_ = nid;
            if (!enqueue(std::move(frame))) return;
        }
    }

    void deliver(std::uint64_t id, Frame frame) {
        if (phase_ != Phase::ready) return;
        switch (subscription_) {
            case Subscription::none: return;
            case Subscription::pending:
            case Subscription::replaying:
                if (pending_.size() >= hub_->options.max_queue_messages) return overflow();
                pending_.emplace_back(id, std::move(frame));
                return;
            case Subscription::live:
                if (id <= last_sent_) return;
                last_sent_ = id;
                enqueue(std::move(frame));
                return;
        }
    }

    //--------------------------------------------------------------------------------------------
    // Write queue (chat-multi's, bounded).

    bool enqueue(std::string text) { return enqueue(std::make_shared<const std::string>(std::move(text))); }

    bool enqueue(Frame frame) {
        if (!open()) return false;
        const ApiServerOptions& o = hub_->options;
        if (queue_.size() >= o.max_queue_messages || queued_bytes_ + frame->size() > o.max_queue_bytes) {
            overflow();
            return false;
        }
        queued_bytes_ += frame->size();
        queue_.push_back(std::move(frame));
        if (!writing_) do_write();
        return true;
    }

    void do_write() {
        writing_ = true;
        ws_.async_write(net::buffer(*queue_.front()),
                        beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        writing_ = false;
        if (ec || queue_.empty()) return;  // the read loop notices the broken connection
        queued_bytes_ -= queue_.front()->size();
        queue_.pop_front();
        if (!open()) return;  // closing: Beast allows no writes after the close frame
        pump();
        if (!queue_.empty() && !writing_) do_write();
    }

    // The client fell too far behind: its queue is stuck behind a full socket, so a close frame
    // could not get out either. Drop the TCP connection; the pending read ends the session.
    void overflow() {
        if (phase_ == Phase::ended) return;
        hub_->log("session " + std::to_string(info_.id) + ": client too slow (" + std::to_string(queue_.size()) +
                  " frames queued), disconnected");
        phase_ = Phase::closing;
        queue_.clear();
        queued_bytes_ = 0;
        pending_.clear();
        backlog_.clear();
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close(ignored);
    }

    void close_gracefully(websocket::close_code code, const char* reason) {
        if (!open()) return;
        phase_ = Phase::closing;
        hello_timer_.cancel();
        pending_.clear();
        backlog_.clear();
        ws_.async_close(websocket::close_reason(code, reason),
                        [self = shared_from_this()](beast::error_code) {});
    }

    websocket::stream<Socket> ws_;
    std::shared_ptr<Hub> hub_;
    std::shared_ptr<ConnectionTicket> ticket_;
    net::steady_timer hello_timer_;
    beast::flat_buffer buffer_;
    SessionInfo info_;
    Phase phase_ = Phase::accepting;
    bool authenticated_ = false;

    std::deque<Frame> queue_;  // front is being written while writing_
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;

    Subscription subscription_ = Subscription::none;
    std::uint64_t last_sent_ = 0;  // live notifications with id <= this are duplicates
    std::deque<Notification> backlog_;                         // replay not yet queued
    std::vector<std::pair<std::uint64_t, Frame>> pending_;     // live ones held during replay
};

//------------------------------------------------------------------------------------------------
// HTTP session: reads the request header, applies handshake_policy, then either hands the
// socket to a WsSession or answers 403/404 and closes.

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(Socket&& socket, std::shared_ptr<Hub> hub, std::shared_ptr<ConnectionTicket> ticket)
        : stream_(std::move(socket)), hub_(std::move(hub)), ticket_(std::move(ticket)) {}

    void run() {
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
    }

private:
    void do_read() {
        parser_.emplace();
        parser_->header_limit(max_request_header_bytes);
        stream_.expires_after(hub_->options.handshake_timeout);
        // Only the header: a request with a body is refused without reading the body.
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec || hub_->stopped) return;  // malformed, too long, timed out: just close
        const auto& req = parser_->get();
        HandshakeRequest h;
        h.method = req.method_string();
        h.target = req.target();
        h.host_count = req.count(http::field::host);
        h.host = req[http::field::host];
        h.origin_count = req.count(http::field::origin);
        h.origin = req[http::field::origin];
        h.is_websocket_upgrade = websocket::is_upgrade(req);
        const HandshakeDecision decision = decide_handshake(h, hub_->port);
        if (decision.accepted()) {
            std::make_shared<WsSession>(stream_.release_socket(), hub_, ticket_, std::string(h.origin))
                ->run(parser_->release());
            return;
        }
        hub_->log("refused " + std::to_string(decision.status) + " " + std::string(decision.reason) + " (Host: " +
                  printable(h.host) + ", Origin: " + printable(h.origin) + ")");
        response_.version(11);
        response_.result(static_cast<unsigned>(decision.status));
        response_.set(http::field::server, "rapportd");
        response_.set(http::field::content_type, "text/plain");
        response_.keep_alive(false);
        response_.body() = std::string(decision.reason) + "\n";
        response_.prepare_payload();
        http::async_write(stream_, response_, beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    HttpStream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
    std::shared_ptr<Hub> hub_;
    std::shared_ptr<ConnectionTicket> ticket_;
};

//------------------------------------------------------------------------------------------------
// Listener: one per loopback address.

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& io, tcp::acceptor acceptor, std::shared_ptr<Hub> hub)
        : io_(io), acceptor_(std::move(acceptor)), hub_(std::move(hub)), retry_(io) {}

    void run() { do_accept(); }
    void stop() {
        beast::error_code ignored;
        acceptor_.close(ignored);
        retry_.cancel();
    }

private:
    void do_accept() {
        acceptor_.async_accept(io_,
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, Socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open() || hub_->stopped) return;
        if (ec) {
            // Typically EMFILE: back off instead of spinning on a failing accept.
            hub_->log("accept failed: " + ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
                if (!timer_ec) self->do_accept();
            });
            return;
        }
        if (hub_->connections >= hub_->options.max_sessions) {
            hub_->log("too many connections, one refused");
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            // Replies are single small frames written as soon as they are ready: Nagle would
            // only hold one back behind an unacknowledged previous reply.
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            auto ticket = std::make_shared<ConnectionTicket>(hub_);
            std::make_shared<HttpSession>(std::move(socket), hub_, std::move(ticket))->run();
        }
        do_accept();
    }

    net::io_context& io_;
    tcp::acceptor acceptor_;
    std::shared_ptr<Hub> hub_;
    net::steady_timer retry_;
};

tcp::acceptor open_acceptor(net::io_context& io, const tcp::endpoint& endpoint, beast::error_code& ec) {
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return acceptor;
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (endpoint.address().is_v6()) acceptor.set_option(net::ip::v6_only(true), ec);
    acceptor.bind(endpoint, ec);
    if (ec) return acceptor;
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    return acceptor;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    const std::string address = endpoint.address().to_string();
    return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(endpoint.port());
}

}  // namespace

//------------------------------------------------------------------------------------------------

struct ApiServer::Impl {
    std::shared_ptr<Hub> hub;
    std::vector<std::shared_ptr<Listener>> listeners;
    std::vector<std::string> endpoints;
};

ApiServer::ApiServer(boost::asio::io_context& io, ApiServerOptions options, ApiHandler& handler)
    : impl_(std::make_shared<Impl>()) {
    const bool want_v6 = options.bind_ipv6_loopback;
    impl_->hub = std::make_shared<Hub>(std::move(options), &handler);
    Hub& hub = *impl_->hub;

    beast::error_code ec;
    tcp::acceptor v4 = open_acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), hub.options.port), ec);
    if (ec) throw std::system_error(ec, "cannot listen on 127.0.0.1:" + std::to_string(hub.options.port));
    hub.port = v4.local_endpoint().port();
    impl_->endpoints.push_back(endpoint_text(v4.local_endpoint()));
    impl_->listeners.push_back(std::make_shared<Listener>(io, std::move(v4), impl_->hub));

    if (want_v6) {
        tcp::acceptor v6 = open_acceptor(io, tcp::endpoint(net::ip::address_v6::loopback(), hub.port), ec);
        if (ec == net::error::address_family_not_supported || ec == boost::system::errc::address_not_available) {
            hub.log("no IPv6 loopback here; listening on 127.0.0.1 only");
        } else if (ec) {
            throw std::system_error(ec, "cannot listen on [::1]:" + std::to_string(hub.port));
        } else {
            impl_->endpoints.push_back(endpoint_text(v6.local_endpoint()));
            impl_->listeners.push_back(std::make_shared<Listener>(io, std::move(v6), impl_->hub));
        }
    }
    for (auto& listener : impl_->listeners) listener->run();
}

ApiServer::~ApiServer() { stop(); }

std::uint16_t ApiServer::port() const { return impl_->hub->port; }

std::vector<std::string> ApiServer::endpoints() const { return impl_->endpoints; }

void ApiServer::broadcast(const Notification& notification) {
    if (impl_->hub->stopped) return;
    auto frame = std::make_shared<const std::string>(rpc_notification("notify", notification.params));
    for (auto& session : impl_->hub->snapshot()) session->post_notification(notification.id, frame);
}

void ApiServer::stop() {
    Hub& hub = *impl_->hub;
    if (hub.stopped.exchange(true)) return;
    hub.handler = nullptr;
    for (auto& listener : impl_->listeners) listener->stop();
    for (auto& session : hub.snapshot()) session->post_stop();
}

std::size_t ApiServer::session_count() const { return impl_->hub->connections; }

}  // namespace rapport::api

#pragma once
// The local WebSocket API server (CONTRACT.md "The WebSocket API"), shaped like Beast's
// chat-multi example: a listener per loopback address, an HTTP session that vets the upgrade
// request, a WebSocket session per connection (its own bounded write queue; no strand: see
// Threading) and a shared hub that fans notifications out. Beast stays inside api_server.cpp;
// this header is plain C++.
//
// Threading. The daemon runs its io_context on ONE thread, and this server relies on it:
// every ApiHandler call and every session handler happens on that thread, so the handler may
// touch core state without locks, and sessions need no strand. Running the io_context on more
// threads would need a strand per session again (and locks in the handler). broadcast() is
// safe from any thread; the constructor, stop() and the destructor belong on the io thread
// (or before/after it runs).
//
// Connection life:
//   TCP accept (127.0.0.1 and [::1] only; max_sessions) -> read the HTTP request header
//   (handshake_timeout, 8 KiB) -> handshake_policy: 403 foreign Host/Origin, 404 anything but an
//   upgrade of "/" -> WebSocket accept -> the first frame must be a `hello` request whose token
//   matches (constant-time), within hello_timeout; anything else closes with 1008 and no
//   handler method runs -> requests, answered in the order they arrive.
// Frames: text only (a binary frame closes with 1003 "unsupported data"); at most
// max_message_bytes (a bigger one closes with 1009, the others are unaffected); framing errors
// as in jsonrpc.hpp. Beast's suggested server timeouts: pings when idle, closes a peer that
// answers nothing for idle_timeout.
//
// Notifications. broadcast(n) serializes n once and posts it to every session; a session
// forwards it only once it has subscribed. `subscribe` is answered by ApiHandler::subscribe,
// which returns (now or later, from any thread) the reply, the stored notifications to replay
// and `live_after`, the newest id it had stored when it built the replay. The session then
// sends, in this order: the reply, the replay (sorted, duplicates dropped), and every live
// notification with id > max(live_after, last replayed id) — the ones broadcast while the
// handler worked are held meanwhile and filtered by that same rule. So each subscribed client
// gets every notification exactly once and in id order, provided the daemon (1) stores a
// notification before broadcasting it and (2) broadcasts ids in increasing order.
//
// Back-pressure. Each session's outgoing queue is bounded (max_queue_messages and
// max_queue_bytes, replies included). A client that stops reading fills it and is
// disconnected (TCP closed without a close frame: the queue is stuck behind it); it can catch
// up later with `subscribe` {"after": last id seen}. Nobody else waits for it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/rpc_error.hpp"

namespace boost::asio {
class io_context;
}

namespace rapport::api {

struct ApiServerOptions {
    std::uint16_t port = 7717;          // 0 picks a free port (tests); see ApiServer::port()
    std::string token;                  // empty: nobody can say hello
    std::string server_name = "rapportd";
    std::string server_version;         // hello's "version"
    int protocol = 1;                   // hello's "protocol"
    bool bind_ipv6_loopback = true;     // also [::1] when the machine has it
    std::size_t max_sessions = 1024;    // connections (any phase) beyond this are closed at once
    std::size_t max_message_bytes = 64 * 1024;
    std::size_t max_json_depth = 32;
    std::size_t max_queue_messages = 10000;             // per session, replies + notifications
    std::size_t max_queue_bytes = 32 * 1024 * 1024;     // per session
    std::chrono::milliseconds handshake_timeout{10000};  // TCP accept -> WebSocket open; close
    std::chrono::milliseconds hello_timeout{10000};      // WebSocket open -> hello
    std::chrono::milliseconds idle_timeout{300000};      // ping after half of it, close after it
    // Called with one line per notable event (refused handshake, dropped slow client, handler
    // exception). Never given the token. Empty: silent.
    std::function<void(const std::string&)> log;
};

// What the handler may know and keep about a connection. Owned by the session; the reference
// passed to the handler is valid during the call only (copy what you need; `id` is stable).
struct SessionInfo {
    std::uint64_t id = 0;        // unique per server run
    std::string client;          // hello's "client"
    std::string client_version;  // hello's "version"
    std::string origin;          // the Origin header ("" when absent)
    bool subscribed = false;
};

// Thrown by the handler to answer with a JSON-RPC error (codes in rapport/rpc_error.hpp and docs/api.md).
// Any other exception becomes -32603 "internal error" (its what() is logged, not sent).
using RpcError = ::rapport::rpc::Failure;

// A notification as stored by the daemon: `params` is the `notify` params object (it carries
// "id" too; the server reads the id from here, not from params).
struct Notification {
    std::uint64_t id = 0;
    nlohmann::json params;
};

struct SubscribeResult {
    nlohmann::json result = nlohmann::json::object();  // the reply's result
    std::vector<Notification> replay;                  // stored ones after the client's `after`
    std::uint64_t live_after = 0;  // newest stored id when the replay was built
    std::optional<RpcError> error;  // set: answer with this error, stay unsubscribed
};

// Completes a subscribe. Copyable, callable from any thread, at most once (later calls and
// calls after the session closed are ignored).
using SubscribeDone = std::function<void(SubscribeResult)>;

class ApiHandler {
public:
    virtual ~ApiHandler() = default;

    // `hello` after the server checked the token. The returned object's members are added to
    // the result; the server fills "server", "version" and "protocol" unless given here.
    virtual nlohmann::json hello(const nlohmann::json& params, SessionInfo& session) {
        (void)params;
        (void)session;
        return nlohmann::json::object();
    }

    // Every other method of an authenticated session (not hello, not subscribe). Return the
    // result or throw RpcError (e.g. -32601 for an unknown method).
    virtual nlohmann::json handle(const std::string& method, const nlohmann::json& params,
                                  SessionInfo& session) = 0;

    // `subscribe`: this is how the handler learns a session subscribed. Call done (now or
    // later) with the replay; throwing RpcError here answers with that error instead.
    virtual void subscribe(const nlohmann::json& params, SessionInfo& session, SubscribeDone done) = 0;

    // An authenticated session ended (for any reason). Not called after ApiServer::stop().
    virtual void closed(const SessionInfo& session) { (void)session; }
};

class ApiServer {
public:
    // Binds 127.0.0.1:port (and [::1]:port when enabled and present) and starts accepting once
    // the io_context runs. Throws std::system_error when the port cannot be bound.
    ApiServer(boost::asio::io_context& io, ApiServerOptions options, ApiHandler& handler);
    ~ApiServer();  // stop()
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    std::uint16_t port() const;
    std::vector<std::string> endpoints() const;  // e.g. {"127.0.0.1:7717", "[::1]:7717"}

    // Delivers to every subscribed session (see above). Thread-safe.
    void broadcast(const Notification& notification);

    // Stops accepting, closes every session (1001 going away) and detaches the handler: no
    // handler method is called after stop() returns. Idempotent.
    void stop();

    std::size_t session_count() const;  // connections in any phase

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace rapport::api

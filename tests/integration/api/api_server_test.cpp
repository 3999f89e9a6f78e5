// The API server in-process on its own io thread with a scripted handler; clients are real:
// raw sockets for the HTTP handshake policy, Debian's python3-websockets for everything after
// (api_scenarios.py), and the C++ WsClient.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "api_server.hpp"
#include "jsonrpc.hpp"
#include "test_process.hpp"
#include "ws_client.hpp"

using namespace rapport::api;
using nlohmann::json;
namespace net = boost::asio;

namespace {

const std::string test_token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// Scripted handler. Runs on the io thread only (as the daemon's will).
class TestHandler : public ApiHandler {
public:
    explicit TestHandler(net::io_context& io) : io_(io) {}

    ApiServer* server = nullptr;
    std::atomic<int> calls{0}, hellos{0}, closes{0}, subscribes{0};

    json hello(const json&, SessionInfo&) override {
        ++hellos;
        return {{"user", {{"name", "Test User"}}}};
    }

    json handle(const std::string& method, const json& params, SessionInfo& session) override {
        ++calls;
        if (method == "echo") return params;
        if (method == "whoami")
            return {{"id", session.id}, {"client", session.client}, {"version", session.client_version},
                    {"origin", session.origin}, {"subscribed", session.subscribed}};
        if (method == "fail") throw RpcError(-32000, "refused on purpose", {{"why", "test"}});
        if (method == "crash") throw std::runtime_error("boom");
        if (method == "test.last_id") return last_id();
        if (method == "test.broadcast") {
            const int count = params.value("count", 1);
            const std::size_t bytes = params.value("bytes", 0u);
            for (int i = 0; i < count; ++i) publish(bytes);
            return {{"last", last_id()}};
        }
        if (method == "test.stop_ticker") {
            ++ticker_generation_;
            return last_id();
        }
        if (method == "test.ticker") {
            tick(ticker_generation_, params.value("count", 1), params.value("per_tick", 1), params.value("bytes", 0u),
                 std::chrono::milliseconds(params.value("interval_ms", 1)));
            return json::object();
        }
        throw RpcError(rpc_code::method_not_found, "unknown method");
    }

    // Three ways to complete, by session id, so the server's ordering holds for all of them:
    // at once; later with the replay built now; later with the replay built then.
    void subscribe(const json& params, SessionInfo& session, SubscribeDone done) override {
        ++subscribes;
        const auto after_it = params.find("after");
        std::uint64_t after = 0;
        if (after_it != params.end()) {
            if (!after_it->is_number_unsigned()) throw RpcError(rpc_code::invalid_params, "after must be an id");
            after = after_it->get<std::uint64_t>();
        }
        switch (session.id % 3) {
            case 0: done(replay(after)); break;
            case 1: later([result = replay(after), done] { done(result); }); break;
            default: later([this, after, done] { done(replay(after)); }); break;
        }
    }

    void closed(const SessionInfo&) override { ++closes; }

private:
    std::uint64_t last_id() const { return store_.empty() ? 0 : store_.back().id; }

    void publish(std::size_t bytes) {
        Notification n;
        n.id = last_id() + 1;
        n.params = {{"id", n.id}, {"kind", "test"}, {"text", std::string(bytes, 'x')}};
        store_.push_back(n);  // stored before broadcast, as the contract of ApiServer asks
        server->broadcast(store_.back());
    }

    SubscribeResult replay(std::uint64_t after) const {
        SubscribeResult r;
        for (const auto& n : store_)
            if (n.id > after) r.replay.push_back(n);
        r.live_after = last_id();
        return r;
    }

    template <class F>
    void later(F f) {
        auto timer = std::make_shared<net::steady_timer>(io_, std::chrono::milliseconds(1 + calls % 7));
        timer->async_wait([timer, f = std::move(f)](boost::system::error_code) { f(); });
    }

    void tick(int generation, int remaining, int per_tick, std::size_t bytes, std::chrono::milliseconds interval) {
        if (generation != ticker_generation_) return;
        for (int i = 0; i < per_tick && remaining > 0; ++i, --remaining) publish(bytes);
        if (remaining <= 0) return;
        auto timer = std::make_shared<net::steady_timer>(io_, interval);
        timer->async_wait([this, timer, generation, remaining, per_tick, bytes, interval](boost::system::error_code ec) {
            if (!ec) tick(generation, remaining, per_tick, bytes, interval);
        });
    }

    net::io_context& io_;
    std::vector<Notification> store_;
    int ticker_generation_ = 0;
};

// The server under test on its own io thread (one thread, like the daemon).
struct TestServer {
    explicit TestServer(ApiServerOptions options = {}) : handler(io) {
        options.port = 0;
        options.token = test_token;
        options.server_version = "test-version";
        options.log = [this](const std::string& line) {
            std::lock_guard<std::mutex> lock(log_mutex);
            log_text += line + "\n";
        };
        server = std::make_unique<ApiServer>(io, std::move(options), handler);
        handler.server = server.get();
        thread = std::thread([this] { io.run(); });
    }
    ~TestServer() {
        net::post(io, [this] { server->stop(); });
        work.reset();
        // Give sessions a moment to say goodbye, then stop hard.
        for (int i = 0; i < 100 && server->session_count() > 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        io.stop();
        thread.join();
        server.reset();
    }
    std::uint16_t port() const { return server->port(); }
    std::string log() {
        std::lock_guard<std::mutex> lock(log_mutex);
        return log_text;
    }

    net::io_context io;
    net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
    TestHandler handler;
    std::unique_ptr<ApiServer> server;
    std::thread thread;
    std::mutex log_mutex;
    std::string log_text;
};

// Runs one python scenario against the server; returns its output, failing the test on error.
std::string scenario(const std::string& name, std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto [status, output] = rapport::test::run(
        {"/usr/bin/python3", rapport::test::source_dir() + "/tests/integration/api/api_scenarios.py", name,
         std::to_string(port), test_token},
        timeout);
    INFO(output);
    REQUIRE(status == 0);
    return output;
}

struct HttpReply {
    int status = 0;
    std::string head;
};

// Sends a raw HTTP request and reads the response head: what a browser or a script would see.
HttpReply raw_request(std::uint16_t port, const std::string& request, bool ipv6 = false) {
    const int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int rc;
    if (ipv6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons(port);
        rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    REQUIRE(rc == 0);
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    HttpReply reply;
    reply.head = in.substr(0, in.find("\r\n\r\n"));
    if (in.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::atoi(in.c_str() + 9);
    return reply;
}

std::string upgrade_request(const std::optional<std::string>& host, const std::optional<std::string>& origin,
                            const std::string& target = "/") {
    std::string r = "GET " + target + " HTTP/1.1\r\n";
    if (host) r += "Host: " + *host + "\r\n";
    r += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n";
    if (origin) r += "Origin: " + *origin + "\r\n";
    return r + "\r\n";
}

}  // namespace

TEST_CASE("foreign Origins are refused with 403 before the upgrade", "[api][integration]") {
    TestServer s;
    const std::string p = std::to_string(s.port());
    const std::string host = "127.0.0.1:" + p;
    const std::vector<std::string> origins = {
        "null", "http://localhost", "https://evil.example", "http://127.0.0.1:" + p, "http://localhost:" + p,
        "http://[::1]:" + p, "https://localhost", "ws://127.0.0.1:" + p, "file://", "data:",
        "moz-extension:/x", "moz-extension:abc", "moz-extension//abc", "xmoz-extension://abc",
        "moz-extension-evil://abc", "moz-extension://", "MOZ-EXTENSION://abc", "chrome-extension://abc",
        "moz-extension://abc/evil", "moz-extension://abc@evil.example", "moz-extension://abc:443",
        "https://moz-extension.evil.example", "https://evil.example/moz-extension://abc", ""};
    REQUIRE(origins.size() >= 20);
    for (const auto& origin : origins) {
        INFO("Origin: " << origin);
        const HttpReply r = raw_request(s.port(), upgrade_request(host, origin));
        CHECK(r.status == 403);
        CHECK(r.head.find("Access-Control") == std::string::npos);
        CHECK(r.head.find("Upgrade") == std::string::npos);
    }
    // Two Origin headers, one of them fine, are refused too.
    std::string twice = upgrade_request(host, std::string("moz-extension://abc"));
    twice.insert(twice.size() - 2, "Origin: https://evil.example\r\n");
    CHECK(raw_request(s.port(), twice).status == 403);
    CHECK(s.handler.hellos == 0);
    CHECK(s.log().find("forbidden origin") != std::string::npos);
}

// The README's "foreign Origins refused" figure: K handshakes from foreign Origins and Hosts,
// counted; every one must be refused with 403 and none may reach hello.
TEST_CASE("1000 handshakes with foreign Origins or Hosts are all refused", "[api][integration]") {
    TestServer s;
    const std::string p = std::to_string(s.port());
    const std::vector<std::string> origins = {"null", "https://evil.example", "http://127.0.0.1:" + p,
                                              "http://localhost:" + p, "chrome-extension://abc",
                                              "moz-extension://abc/evil", "MOZ-EXTENSION://abc", ""};
    const std::vector<std::string> hosts = {"evil.example", "evil.example:" + p, "127.0.0.1:1", "localhost.evil.example:" + p,
                                            "127.0.0.2:" + p};
    constexpr int attempts = 1000;
    int refused = 0;
    for (int i = 0; i < attempts; ++i) {
        const bool foreign_origin = i % 2 == 0;
        const std::string request =
            foreign_origin ? upgrade_request("127.0.0.1:" + p, origins[(i / 2) % origins.size()])
                           : upgrade_request(hosts[(i / 2) % hosts.size()], std::string("moz-extension://abc"));
        if (raw_request(s.port(), request).status == 403) ++refused;
    }
    WARN("foreign Origins/Hosts refused: " << refused << " of " << attempts);
    CHECK(refused == attempts);
    CHECK(s.handler.hellos == 0);
}

TEST_CASE("foreign Hosts are refused with 403; loopback names with our port are accepted", "[api][integration]") {
    TestServer s;
    const std::string p = std::to_string(s.port());
    const std::string other = std::to_string(s.port() == 65535 ? 1 : s.port() + 1);
    for (const std::optional<std::string>& host : std::vector<std::optional<std::string>>{
             std::string("evil.example:" + p), std::string("127.0.0.1:" + other), std::string("localhost"),
             std::string("127.0.0.1"), std::string("[::1]"), std::nullopt, std::string(""),
             std::string("localhost." + std::string(":") + p), std::string("127.0.0.2:" + p),
             std::string("0.0.0.0:" + p), std::string("localhost:" + p + ".evil.example")}) {
        INFO("Host: " << host.value_or("(none)"));
        CHECK(raw_request(s.port(), upgrade_request(host, std::nullopt)).status == 403);
    }
    std::string twice = upgrade_request("127.0.0.1:" + p, std::nullopt);
    twice.insert(twice.size() - 2, "Host: evil.example:" + p + "\r\n");
    CHECK(raw_request(s.port(), twice).status == 403);

    for (const std::string& host : {"127.0.0.1:" + p, "localhost:" + p, "LocalHost:" + p, "[::1]:" + p}) {
        INFO("Host: " << host);
        CHECK(raw_request(s.port(), upgrade_request(host, std::nullopt)).status == 101);
        CHECK(raw_request(s.port(), upgrade_request(host, std::string("moz-extension://abc"))).status == 101);
    }
    CHECK(raw_request(s.port(), upgrade_request("[::1]:" + p, std::nullopt), /*ipv6=*/true).status == 101);
}

TEST_CASE("nothing but an upgrade of / is served over HTTP", "[api][integration]") {
    TestServer s;
    const std::string host = "127.0.0.1:" + std::to_string(s.port());
    CHECK(raw_request(s.port(), "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n").status == 404);
    CHECK(raw_request(s.port(), "POST /hello HTTP/1.1\r\nHost: " + host +
                                    "\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\"} ")
              .status == 404);
    CHECK(raw_request(s.port(), "OPTIONS / HTTP/1.1\r\nHost: " + host +
                                    "\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")
              .status == 403);
    CHECK(raw_request(s.port(), upgrade_request(host, std::nullopt, "/admin")).status == 404);
    // A header block beyond 8 KiB is not answered at all.
    CHECK(raw_request(s.port(), "GET / HTTP/1.1\r\nHost: " + host + "\r\nX: " + std::string(10000, 'a') + "\r\n\r\n")
              .status == 0);
}

TEST_CASE("connections beyond max_sessions are closed at once", "[api][integration]") {
    ApiServerOptions o;
    o.max_sessions = 2;
    TestServer s(o);
    const std::string host = "127.0.0.1:" + std::to_string(s.port());
    std::vector<int> held;
    for (int i = 0; i < 2; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(s.port());
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        held.push_back(fd);
    }
    for (int i = 0; i < 100 && s.server->session_count() < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(raw_request(s.port(), upgrade_request(host, std::nullopt)).status == 0);
    for (int fd : held) ::close(fd);
    for (int i = 0; i < 100 && s.server->session_count() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(raw_request(s.port(), upgrade_request(host, std::nullopt)).status == 101);
    CHECK(s.log().find("too many connections") != std::string::npos);
}

TEST_CASE("the port is bound on loopback only", "[api][integration]") {
    TestServer s;
    const auto [status, out] = rapport::test::run({"ss", "-ltnH"});
    REQUIRE(status == 0);
    const std::string suffix = ":" + std::to_string(s.port());
    std::istringstream lines(out);
    std::string line;
    std::vector<std::string> locals;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string state, recvq, sendq, local;
        fields >> state >> recvq >> sendq >> local;
        if (local.size() > suffix.size() && local.compare(local.size() - suffix.size(), suffix.size(), suffix) == 0)
            locals.push_back(local);
    }
    INFO(out);
    REQUIRE_FALSE(locals.empty());
    for (const auto& local : locals) {
        INFO(local);
        CHECK((local == "127.0.0.1" + suffix || local == "[::1]" + suffix));
    }
    CHECK(std::find(locals.begin(), locals.end(), "127.0.0.1" + suffix) != locals.end());
    for (const auto& e : s.server->endpoints()) CHECK(std::find(locals.begin(), locals.end(), e) != locals.end());
}

TEST_CASE("without hello and the right token the connection closes with 1008 and nothing runs", "[api][integration]") {
    TestServer s;
    scenario("auth_refused", s.port());
    CHECK(s.handler.calls == 0);
    CHECK(s.handler.hellos == 0);
    CHECK(s.handler.subscribes == 0);
    CHECK(s.handler.closes == 0);
}

TEST_CASE("hello must come in time", "[api][integration]") {
    ApiServerOptions o;
    o.hello_timeout = std::chrono::milliseconds(300);
    TestServer s(o);
    scenario("hello_timeout", s.port());
    CHECK(s.handler.hellos == 0);
}

TEST_CASE("JSON-RPC framing: results, errors, notifications, limits", "[api][integration]") {
    TestServer s;
    scenario("basics", s.port());
    scenario("accepted_origins", s.port());
    CHECK(s.handler.hellos == 4);
}

TEST_CASE("binary frames close the connection with 1003", "[api][integration]") {
    TestServer s;
    scenario("binary_frame", s.port());
}

TEST_CASE("a 10 MB frame closes that connection with 1009 while another is served", "[api][integration]") {
    TestServer s;
    scenario("big_frame", s.port());
    CHECK(s.log().find("message too big") != std::string::npos);
}

TEST_CASE("a burst of 1000 requests is answered in full and in order", "[api][integration]") {
    TestServer s;
    WARN(scenario("burst", s.port()));
}

TEST_CASE("subscribe replays stored notifications, then live ones", "[api][integration]") {
    TestServer s;
    scenario("subscribe_replay", s.port());
}

TEST_CASE("500 subscribers receive every notification exactly once and in order", "[api][integration]") {
    TestServer s;
    WARN(scenario("many_subscribers", s.port(), std::chrono::seconds(240)));
    CHECK(s.handler.subscribes == 500);
}

TEST_CASE("a client that stops reading is dropped without slowing the others", "[api][integration]") {
    ApiServerOptions o;
    o.max_queue_messages = 500;  // 2 MB of these 4 KB notifications: far less than a round
    TestServer s(o);
    WARN(scenario("slow_reader", s.port()));
    CHECK(s.log().find("client too slow") != std::string::npos);
}

TEST_CASE("WsClient talks to the server; a wrong token surfaces as close 1008", "[api][integration]") {
    TestServer s;
    const auto timeout = std::chrono::seconds(5);
    {
        WsClient client;
        client.connect(s.port(), timeout);
        client.send_text(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "hello"},
                                  {"params", {{"token", test_token}, {"client", "rapportctl"}, {"version", "1"}}}}
                                 .dump(),
                         timeout);
        const json hello = json::parse(client.receive_text(timeout));
        CHECK(hello["result"]["server"] == "rapportd");
        client.send_text(R"({"jsonrpc":"2.0","id":2,"method":"echo","params":{"x":1}})", timeout);
        CHECK(json::parse(client.receive_text(timeout))["result"]["x"] == 1);
        CHECK_THROWS_AS(client.receive_text(std::chrono::milliseconds(200)), WsError);  // nothing to read
        CHECK_FALSE(client.is_open());  // a timed-out operation drops the connection
    }
    {
        WsClient client(WsClientOptions{"moz-extension://abc", 1 << 20});
        client.connect(s.port(), timeout);
        client.send_text(R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"token":"nope"}})", timeout);
        try {
            client.receive_text(timeout);
            FAIL("expected the server to close");
        } catch (const WsError& e) {
            CHECK(e.kind() == WsError::Kind::closed);
            CHECK(e.close_code() == 1008);
        }
    }
    {
        WsClient client(WsClientOptions{"https://evil.example", 1 << 20});
        CHECK_THROWS_AS(client.connect(s.port(), timeout), WsError);
    }
    {
        WsClient client;
        CHECK_THROWS_AS(client.connect(rapport::test::free_port(), timeout), WsError);
    }
}

// For debugging a scenario by hand: api_server_test "[.serve]" then run
// /usr/bin/python3 api_scenarios.py NAME PORT TOKEN against the printed port.
TEST_CASE("serve for manual scenario runs", "[.serve]") {
    ApiServerOptions o;
    if (const char* q = std::getenv("RAPPORT_API_MAX_QUEUE")) o.max_queue_messages = std::stoul(q);
    TestServer s(o);
    std::printf("port %u token %s\n", s.port(), test_token.c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(std::getenv("RAPPORT_API_SERVE_S") ? std::atoi(std::getenv("RAPPORT_API_SERVE_S")) : 120));
    std::printf("%s", s.log().c_str());
}

// rules_http_get's bounds that the HTTPS integration test (tests/integration/rules_url) cannot
// afford to wait for: a server that accepts and never answers is given up at the deadline, and
// a port nobody listens on is "unreachable" (the daemon keeps its last good copy), not a refusal.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "app/rules_source.hpp"

using namespace rapport;
using namespace std::chrono_literals;

namespace {
// A listening socket that is never accepted: the kernel completes the TCP handshake, nobody
// ever says a word (a hung web server, a black-holing proxy).
struct SilentServer {
    int fd = -1;
    int port = 0;
    SilentServer() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 8) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~SilentServer() { ::close(fd); }
};
}  // namespace

TEST_CASE("a rules server that never answers is given up at the deadline", "[rules_url]") {
    SilentServer server;
    RulesHttpRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server.port) + "/rules.json";
    req.timeout = 2s;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = rules_http_get(req);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(r.status == 0);
    CHECK(r.transport_failure);
    CHECK(r.error.rfind("cannot fetch: ", 0) == 0);
}

TEST_CASE("nobody listening: unreachable, so the last good copy stays in force", "[rules_url]") {
    int port = 0;
    {
        SilentServer gone;  // a port that was free a moment ago
        port = gone.port;
    }
    Settings s;
    s.rules_url = "https://127.0.0.1:" + std::to_string(port) + "/rules.json";
    s.rules_file = "/nonexistent/rules-cache.json";
    const auto c = check_rules_url(s, UrlRulesOptions{true, false});
    CHECK(c.kind == UrlRulesCheck::Kind::unreachable);
    REQUIRE(c.diagnostics.size() == 1);
    CHECK(c.diagnostics[0].file == s.rules_url);
    CHECK(cached_url_rules(s).rules == nullptr);  // and no copy: the caller says so
}

TEST_CASE("only https URLs are fetched", "[rules_url]") {
    RulesHttpRequest req;
    req.url = "http://127.0.0.1:1/rules.json";
    const auto r = rules_http_get(req);
    CHECK(r.status == 0);
    CHECK_FALSE(r.error.empty());
}

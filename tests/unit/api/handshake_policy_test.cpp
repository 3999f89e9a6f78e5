#include <catch2/catch.hpp>

#include "handshake_policy.hpp"

using namespace rapport::api;

TEST_CASE("only loopback Host values with our port are allowed", "[api][handshake]") {
    for (const char* host : {"127.0.0.1:7717", "localhost:7717", "LOCALHOST:7717", "LocalHost:7717", "[::1]:7717"}) {
        INFO(host);
        CHECK(host_allowed(host, 7717));
    }
    for (const char* host : {"", "127.0.0.1", "localhost", "[::1]", "127.0.0.1:7718", "127.0.0.1:07717",
                             "127.0.0.1:7717 ", " 127.0.0.1:7717", "evil.example:7717", "localhost.:7717",
                             "127.0.0.2:7717", "0.0.0.0:7717", "[::]:7717", "::1:7717", "[::ffff:127.0.0.1]:7717",
                             "127.1:7717", "2130706433:7717", "localhost:7717.evil.example", "x127.0.0.1:7717",
                             "localhost:77170", "user@localhost:7717", "127.0.0.1:7717:7717", ":7717"}) {
        INFO(host);
        CHECK_FALSE(host_allowed(host, 7717));
    }
}

TEST_CASE("only moz-extension origins are allowed", "[api][handshake]") {
    for (const char* origin : {"moz-extension://abc", "moz-extension://6f9c1e2a-0b1c-4d2e-9f3a-1234567890ab"}) {
        INFO(origin);
        CHECK(origin_allowed(origin));
    }
    for (const char* origin :
         {"", "null", "http://localhost", "https://evil.example", "http://127.0.0.1:7717", "moz-extension:/x",
          "moz-extension:", "moz-extension://", "xmoz-extension://abc", "moz-extension-evil://abc",
          "MOZ-EXTENSION://abc", "moz-extension:abc", "moz-extension//abc", "chrome-extension://abc",
          "moz-extension://abc/path", "moz-extension://abc:80", "moz-extension://user@abc",
          "moz-extension://abc def", "moz-extension://abc\r\n", " moz-extension://abc", "file://",
          "moz-extension://%61bc"}) {
        INFO(origin);
        CHECK_FALSE(origin_allowed(origin));
    }
    CHECK_FALSE(origin_allowed("moz-extension://" + std::string(256, 'a')));
    CHECK(origin_allowed("moz-extension://" + std::string(255, 'a')));
}

TEST_CASE("decide_handshake refuses before it upgrades", "[api][handshake]") {
    HandshakeRequest ok{"GET", "/", 1, "127.0.0.1:7717", 0, "", true};
    CHECK(decide_handshake(ok, 7717).accepted());

    HandshakeRequest extension = ok;
    extension.origin_count = 1;
    extension.origin = "moz-extension://abc";
    CHECK(decide_handshake(extension, 7717).accepted());

    HandshakeRequest r = ok;
    r.host_count = 0;
    r.host = "";
    CHECK(decide_handshake(r, 7717).status == 403);
    r = ok;
    r.host_count = 2;
    CHECK(decide_handshake(r, 7717).status == 403);
    r = ok;
    r.origin_count = 1;
    r.origin = "null";
    CHECK(decide_handshake(r, 7717).status == 403);
    r = extension;
    r.origin_count = 2;
    CHECK(decide_handshake(r, 7717).status == 403);
    r = ok;
    r.is_websocket_upgrade = false;
    CHECK(decide_handshake(r, 7717).status == 404);
    r = ok;
    r.target = "/admin";
    CHECK(decide_handshake(r, 7717).status == 404);
    // A foreign origin gets 403 even on a plain request: the policy runs first.
    r.origin_count = 1;
    r.origin = "https://evil.example";
    r.is_websocket_upgrade = false;
    CHECK(decide_handshake(r, 7717).status == 403);
}

// The shared TLS client context: one per CA file while any connection holds it, a clear error
// when a CA file cannot be read.
#include <catch2/catch.hpp>

#include <fstream>

#include "client_context.hpp"
#include "test_process.hpp"

using rapport::tls::client_context;

TEST_CASE("connections asking for the same CA file share one context; another file gets its own") {
    boost::system::error_code ec;
    const auto first = client_context("", ec);
    REQUIRE(first);
    CHECK_FALSE(ec);
    const auto again = client_context("", ec);
    CHECK(again == first);  // the system store was not read a second time

    rapport::test::TempDir dir;
    const std::string missing = dir / "missing.pem";
    const auto none = client_context(missing, ec);
    CHECK_FALSE(none);
    CHECK(ec);
    const std::string junk = dir / "junk.pem";
    std::ofstream(junk) << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    CHECK_FALSE(client_context(junk, ec));
    CHECK(ec);
    // A failed load leaves the shared context alone.
    CHECK(client_context("", ec) == first);
    CHECK_FALSE(ec);
}

TEST_CASE("a context nobody holds any more is built again for the next connection") {
    boost::system::error_code ec;
    std::weak_ptr<boost::asio::ssl::context> old;
    {
        const auto held = client_context("", ec);
        REQUIRE(held);
        old = held;
    }
    CHECK(old.expired());  // the cache does not keep it alive
    const auto fresh = client_context("", ec);
    REQUIRE(fresh);
    CHECK(fresh.use_count() == 1);
}

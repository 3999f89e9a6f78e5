// Message-ID, In-Reply-To, References.
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::crlf;
using rapport::mime::test::has_warning;

TEST_CASE("ids lose their brackets", "[mime]") {
    auto h = parse_message_headers(crlf({
        "Message-ID: <CAF=abc+123@mail.gmail.com>",
        "In-Reply-To: <parent@acme.example> (some comment <not@this>)",
        "References: <root@acme.example> <mid@acme.example>",
        "\t<parent@acme.example>",
    }));
    CHECK(h.message_id == "CAF=abc+123@mail.gmail.com");
    CHECK(h.in_reply_to == "parent@acme.example");
    CHECK(h.references ==
          std::vector<std::string>{"root@acme.example", "mid@acme.example", "parent@acme.example"});
}

TEST_CASE("missing brackets, commas, phrases", "[mime]") {
    auto h = parse_message_headers(crlf({
        "Message-ID: bare-id@acme.example",
        "In-Reply-To: Your message of \"Tue, 3 Jan\" <old@acme.example>",
        "References: <a@x>,<b@x>, c@x junk <d@x",
    }));
    CHECK(h.message_id == "bare-id@acme.example");
    CHECK(h.in_reply_to == "old@acme.example");
    CHECK(h.references == std::vector<std::string>{"a@x", "b@x", "c@x", "d@x"});
}

TEST_CASE("ids folded inside brackets are rejoined", "[mime]") {
    auto h = parse_message_headers(crlf({"Message-ID: <very-long-id", " @acme.example>"}));
    CHECK(h.message_id == "very-long-id@acme.example");
}

TEST_CASE("too many references keep the root and the newest", "[mime]") {
    HeaderLimits limits;
    limits.max_references = 3;
    auto h = parse_message_headers(crlf({"References: <1@x> <2@x> <3@x> <4@x> <5@x>"}), limits);
    CHECK(h.references == std::vector<std::string>{"1@x", "4@x", "5@x"});
    CHECK(has_warning(h, "References: too many ids"));
}

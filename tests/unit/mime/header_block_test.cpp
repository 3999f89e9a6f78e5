// Splitting the header block into fields: folding, line ends, duplicates, limits, junk lines.
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::crlf;
using rapport::mime::test::has_warning;
using rapport::mime::test::utc;

TEST_CASE("fields are found case-insensitively, with CRLF or LF line ends", "[mime]") {
    const std::string lf =
        "FROM: Jane <jane@acme.example>\nsubject: Hello\nmessage-id: <1@acme.example>\n\n";
    auto h = parse_message_headers(lf);
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].address == "jane@acme.example");
    CHECK(h.subject == "Hello");
    CHECK(h.message_id == "1@acme.example");
    CHECK(h.warnings.empty());

    auto h2 = parse_message_headers(crlf({"From: Jane <jane@acme.example>", "Subject: Hello"}));
    CHECK(h2.from == h.from);
    CHECK(h2.subject == "Hello");
}

TEST_CASE("folded lines are unfolded", "[mime]") {
    auto h = parse_message_headers(crlf({
        "Subject: a subject that was",
        "\tfolded twice",
        " by the sender",
        "To: Jane Doe",
        " <jane@acme.example>,",
        "\tbob@vendor.example",
    }));
    CHECK(h.subject == "a subject that was folded twice by the sender");
    REQUIRE(h.to.size() == 2);
    CHECK(h.to[0].name == "Jane Doe");
    CHECK(h.to[0].address == "jane@acme.example");
    CHECK(h.to[1].address == "bob@vendor.example");
}

TEST_CASE("the block ends at the first empty line; no trailing newline is fine", "[mime]") {
    auto h = parse_message_headers("Subject: one\r\n\r\nSubject: body text\r\n");
    CHECK(h.subject == "one");
    CHECK(h.warnings.empty());
    CHECK(parse_message_headers("Subject: no newline").subject == "no newline");
    CHECK(parse_message_headers("").subject.empty());
}

TEST_CASE("unwanted fields are ignored, malformed lines skipped with a warning", "[mime]") {
    auto h = parse_message_headers(crlf({
        " leading continuation with no field",
        "X-Mailer: something",
        "this line has no colon",
        "Received: from x (y [1.2.3.4])",
        "  by z; Tue, 3 Jan 2023 10:00:00 +0000",
        "Subject : obsolete space before colon",
    }));
    CHECK(h.subject == "obsolete space before colon");
    CHECK(has_warning(h, "malformed header line"));
}

TEST_CASE("duplicate fields: first From wins, To and Cc concatenate", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: first@acme.example",
        "From: second@acme.example",
        "To: a@acme.example",
        "Cc: c@acme.example",
        "To: b@acme.example",
        "Subject: first",
        "Subject: second",
    }));
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].address == "first@acme.example");
    REQUIRE(h.to.size() == 2);
    CHECK(h.to[1].address == "b@acme.example");
    CHECK(h.cc.size() == 1);
    CHECK(h.subject == "first");
    CHECK(has_warning(h, "From: field repeated"));
    CHECK(has_warning(h, "To: field repeated; addresses concatenated"));
    CHECK(has_warning(h, "Subject: field repeated"));
}

TEST_CASE("NUL bytes are dropped", "[mime]") {
    const char data[] = "Subject: he\0llo\r\nFrom: ja\0ne@acme.example\r\n\r\n";
    const std::string raw(data, sizeof data - 1);
    auto h = parse_message_headers(raw);
    CHECK(h.subject == "hello");
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].address == "jane@acme.example");
    CHECK(has_warning(h, "NUL"));
}

TEST_CASE("a block over the size limit is cut at a line end", "[mime]") {
    HeaderLimits limits;
    limits.max_block_bytes = 40;
    auto h = parse_message_headers(crlf({"Subject: kept", "From: dropped-because-too-far@acme.example"}),
                                   limits);
    CHECK(h.subject == "kept");
    CHECK(h.from.empty());
    CHECK(has_warning(h, "truncated"));
}

TEST_CASE("warnings are bounded", "[mime]") {
    std::string raw;
    for (int i = 0; i < 1000; ++i) raw += "garbage line without colon\r\n";
    auto h = parse_message_headers(raw);
    HeaderLimits defaults;
    CHECK(h.warnings.size() == defaults.max_warnings);
    CHECK(h.warnings.back() == "further warnings suppressed");
}

TEST_CASE("Content-Type and Auto-Submitted", "[mime]") {
    auto h = parse_message_headers(crlf({
        "Content-Type: Multipart/Report; boundary=\"xyz\";",
        "\treport-type=Delivery-Status",
        "Auto-Submitted: Auto-Replied (vacation)",
    }));
    CHECK(h.content_type == "multipart/report");
    CHECK(h.content_type_report_type == "delivery-status");
    CHECK(h.auto_submitted == "auto-replied");

    auto q = parse_message_headers(
        crlf({"Content-Type: multipart/report; report-type=\"disposition-notification\""}));
    CHECK(q.content_type_report_type == "disposition-notification");

    auto plain = parse_message_headers(crlf({"Content-Type: text/plain; charset=\"utf-8\""}));
    CHECK(plain.content_type == "text/plain");
    CHECK(plain.content_type_report_type.empty());

    auto broken = parse_message_headers(crlf({"Content-Type: text"}));
    CHECK(broken.content_type.empty());
    CHECK(has_warning(broken, "Content-Type: unparsable"));
}

TEST_CASE("Date converts to UTC; a bad date is nullopt with a warning", "[mime]") {
    auto h = parse_message_headers(crlf({"Date: Tue, 03 Jan 2023 10:15:30 +0100"}));
    REQUIRE(h.date);
    CHECK(*h.date == utc(2023, 1, 3, 9, 15, 30));

    auto bad = parse_message_headers(crlf({"Date: yesterday at noon"}));
    CHECK_FALSE(bad.date);
    CHECK(has_warning(bad, "Date: unparsable"));
}

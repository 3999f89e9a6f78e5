// Address lists: what a user would check is the decoded display name and the address.
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::crlf;
using rapport::mime::test::has_warning;

namespace {
std::vector<MailAddress> to_of(std::string_view value) {
    std::string raw = "To: ";
    raw.append(value);
    raw.append("\r\n\r\n");
    return parse_message_headers(raw).to;
}
MessageHeaders parse_to(std::string_view value) {
    std::string raw = "To: ";
    raw.append(value);
    raw.append("\r\n\r\n");
    return parse_message_headers(raw);
}
}  // namespace

TEST_CASE("display names quoted, unquoted, with escapes", "[mime]") {
    auto a = to_of("\"Doe, Jane\" <jane@acme.example>, Bob Rep <bob@vendor.example>, "
                   "\"Al \\\"Scarface\\\" Capone\" <al@acme.example>");
    REQUIRE(a.size() == 3);
    CHECK(a[0].name == "Doe, Jane");
    CHECK(a[0].address == "jane@acme.example");
    CHECK(a[1].name == "Bob Rep");
    CHECK(a[2].name == "Al \"Scarface\" Capone");
}

TEST_CASE("bare addresses and the old 'address (Name)' form", "[mime]") {
    auto a = to_of("jane@acme.example, bob@vendor.example (Bob Rep), <carol@acme.example>");
    REQUIRE(a.size() == 3);
    CHECK(a[0].name.empty());
    CHECK(a[0].address == "jane@acme.example");
    CHECK(a[1].name == "Bob Rep");
    CHECK(a[1].address == "bob@vendor.example");
    CHECK(a[2].address == "carol@acme.example");
}

TEST_CASE("comments, nested, anywhere", "[mime]") {
    auto a = to_of("Jane (Sales (EMEA)) Doe <jane(at work)@acme.example (primary)>");
    REQUIRE(a.size() == 1);
    CHECK(a[0].name == "Jane Doe");
    CHECK(a[0].address == "jane@acme.example");
}

TEST_CASE("group syntax", "[mime]") {
    auto empty = parse_to("undisclosed-recipients:;");
    CHECK(empty.to.empty());
    CHECK(empty.warnings.empty());

    auto team = to_of("Team: a@acme.example, \"Bee\" <b@acme.example>; c@vendor.example");
    REQUIRE(team.size() == 3);
    CHECK(team[0].address == "a@acme.example");
    CHECK(team[1].name == "Bee");
    CHECK(team[2].address == "c@vendor.example");

    auto unclosed = to_of("undisclosed-recipients:");
    CHECK(unclosed.empty());
}

TEST_CASE("route addresses keep only the addr-spec", "[mime]") {
    auto a = to_of("Jane <@relay1.example,@relay2.example:jane@acme.example>");
    REQUIRE(a.size() == 1);
    CHECK(a[0].address == "jane@acme.example");
    CHECK(a[0].name == "Jane");
}

TEST_CASE("quoted local parts stay quoted only where needed", "[mime]") {
    auto a = to_of("\"john doe\"@acme.example, \"jane\"@acme.example, <\"a\\\"b\"@acme.example>");
    REQUIRE(a.size() == 3);
    CHECK(a[0].address == "\"john doe\"@acme.example");
    CHECK(a[1].address == "jane@acme.example");
    CHECK(a[2].address == "\"a\\\"b\"@acme.example");
}

TEST_CASE("IDN and UTF-8 addresses are kept as written", "[mime]") {
    auto a = to_of("Jürgen <Jürgen@Bücher.example>, JANE@ACME.EXAMPLE");
    REQUIRE(a.size() == 2);
    CHECK(a[0].name == "Jürgen");
    CHECK(a[0].address == "Jürgen@Bücher.example");
    CHECK(a[1].address == "JANE@ACME.EXAMPLE");
}

TEST_CASE("garbage between commas is skipped, not the whole list", "[mime]") {
    auto h = parse_to("jane@acme.example, , garbage here, <>, bob@vendor.example,");
    REQUIRE(h.to.size() == 2);
    CHECK(h.to[0].address == "jane@acme.example");
    CHECK(h.to[1].address == "bob@vendor.example");
    CHECK(has_warning(h, "To: skipped (no address) \"garbage here\""));
    CHECK(has_warning(h, "To: skipped empty address"));
}

TEST_CASE("semicolons as separators (Outlook users type them)", "[mime]") {
    auto a = to_of("jane@acme.example; bob@vendor.example");
    REQUIRE(a.size() == 2);
    CHECK(a[1].address == "bob@vendor.example");
}

TEST_CASE("broken brackets and quotes do not lose neighbours", "[mime]") {
    auto h = parse_to("Jane <jane@acme.example, bob@vendor.example");
    REQUIRE(h.to.size() == 2);
    CHECK(h.to[0].address == "jane@acme.example");
    CHECK(h.to[1].address == "bob@vendor.example");
    CHECK(has_warning(h, "missing '>'"));

    auto q = parse_to("\"unterminated <jane@acme.example>");
    CHECK(q.to.empty());
    CHECK_FALSE(q.warnings.empty());
}

TEST_CASE("address without domain in angle brackets is kept (MAILER-DAEMON)", "[mime]") {
    auto h = parse_message_headers(crlf({"From: Mail Delivery Subsystem <MAILER-DAEMON>"}));
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].address == "MAILER-DAEMON");
    CHECK(h.from[0].name == "Mail Delivery Subsystem");
}

TEST_CASE("an unquoted display name before a bare address", "[mime]") {
    auto a = to_of("Jane Doe jane@acme.example");
    REQUIRE(a.size() == 1);
    CHECK(a[0].name == "Jane Doe");
    CHECK(a[0].address == "jane@acme.example");
}

TEST_CASE("obsolete whitespace around dots and @", "[mime]") {
    auto a = to_of("jane . doe @ acme . example");
    REQUIRE(a.size() == 1);
    CHECK(a[0].address == "jane.doe@acme.example");
}

TEST_CASE("domain literals", "[mime]") {
    auto a = to_of("<postmaster@[192.0.2.1]>");
    REQUIRE(a.size() == 1);
    CHECK(a[0].address == "postmaster@[192.0.2.1]");
}

TEST_CASE("10,000 recipients are kept; more are dropped with a warning", "[mime]") {
    std::string to = "To: ";
    for (int i = 0; i < 10050; ++i) {
        if (i) to += ",\r\n ";
        to += "\"User " + std::to_string(i) + "\" <user" + std::to_string(i) + "@acme.example>";
    }
    to += "\r\n\r\n";
    auto h = parse_message_headers(to);
    REQUIRE(h.to.size() == 10000);
    CHECK(h.to[9999].address == "user9999@acme.example");
    CHECK(h.to[9999].name == "User 9999");
    CHECK(has_warning(h, "To: too many addresses"));

    HeaderLimits small;
    small.max_addresses_per_field = 2;
    auto s = parse_message_headers(crlf({"To: a@x.example, b@x.example", "To: c@x.example"}), small);
    CHECK(s.to.size() == 2);
    CHECK(has_warning(s, "too many addresses"));
}

TEST_CASE("encoded-word look-alikes do not hide address structure", "[mime]") {
    // Found by differential fuzzing of the fast and the general path.
    auto a = to_of("=?a.e<x@y>;?q?a?= <z@y>");
    REQUIRE(a.size() == 2);
    CHECK(a[0].name == "=?a.e");
    CHECK(a[0].address == "x@y");
    CHECK(a[1].address == "z@y");
    auto b = to_of("=?utf-8?q?<a=?= <x@y>");
    REQUIRE(b.size() == 1);
    CHECK(b[0].address == "x@y");
}

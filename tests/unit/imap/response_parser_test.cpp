// The incremental response parser: grammar, literals, chunking, limits, hostile input.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "response_parser.hpp"

using namespace rapport::imap;

namespace {

struct Parsed {
    std::vector<Response> responses;
    Error error;
};

// Feeds input in chunks of the given size (0 = all at once) and collects every response.
Parsed parse_all(const std::string& input, std::size_t chunk = 0, ParserLimits limits = {}) {
    ResponseParser p(limits);
    Parsed out;
    auto drain = [&] {
        Response r;
        for (;;) {
            auto res = p.next(r);
            if (res == ResponseParser::Result::response) out.responses.push_back(r);
            else {
                if (res == ResponseParser::Result::error) out.error = p.error();
                return res == ResponseParser::Result::need_more;
            }
        }
    };
    if (chunk == 0) {
        p.feed(input);
        drain();
    } else {
        for (std::size_t i = 0; i < input.size(); i += chunk) {
            p.feed(input.substr(i, chunk));
            if (!drain()) break;
        }
    }
    return out;
}

// A compact rendering so that results of different chunkings can be compared exactly.
std::string render(const Response& r) {
    std::string s;
    switch (r.kind) {
        case Response::Kind::continuation: return "+" + r.continuation_text;
        case Response::Kind::tagged:
            s = "T " + r.tag + " " + std::to_string(static_cast<int>(r.status.kind));
            if (r.status.code) s += " [" + r.status.code->name + "|" + r.status.code->args + "]";
            return s + " " + r.status.text;
        case Response::Kind::untagged: break;
    }
    const Untagged& u = r.untagged;
    s = "U " + u.keyword + " " + std::to_string(u.number);
    for (const auto& w : u.words) s += " w:" + w;
    if (u.kind == Untagged::Kind::fetch) {
        const auto& f = u.fetch;
        if (f.uid) s += " uid:" + std::to_string(*f.uid);
        if (f.modseq) s += " modseq:" + std::to_string(*f.modseq);
        if (f.flags)
            for (const auto& fl : *f.flags) s += " flag:" + fl;
        for (const auto& b : f.bodies) s += " body[" + b.section + "]=" + b.data + (b.nil ? "NIL" : "");
    }
    for (auto n : u.search.numbers) s += " n:" + std::to_string(n);
    if (u.kind == Untagged::Kind::list) s += " list:" + u.list.name;
    for (const auto& [k, v] : u.status_data.items) s += " " + k + "=" + std::to_string(v);
    if (u.kind == Untagged::Kind::status) s += " text:" + u.status.text;
    return s;
}

std::vector<std::string> render_all(const Parsed& p) {
    std::vector<std::string> v;
    for (const auto& r : p.responses) v.push_back(render(r));
    if (p.error) v.push_back("ERROR " + p.error.message);
    return v;
}

const std::string session =
    "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE] Dovecot ready.\r\n"
    "A1 OK [CAPABILITY IMAP4rev1 IDLE CONDSTORE] Logged in\r\n"
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
    "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
    "* 3 EXISTS\r\n"
    "* 0 RECENT\r\n"
    "* OK [UIDVALIDITY 4294967295] UIDs valid\r\n"
    "* OK [UIDNEXT 700000001] Predicted next UID\r\n"
    "* OK [HIGHESTMODSEQ 9223372036854775807] Highest\r\n"
    "A2 OK [READ-ONLY] Examine completed (0.001 + 0.000 secs).\r\n"
    "* 1 FETCH (UID 699999998 FLAGS (\\Seen) MODSEQ (12) BODY[HEADER.FIELDS (FROM SUBJECT)] {42}\r\n"
    "From: a@b.example\r\nSubject: {5}\r\nhello\r\n\r\n)\r\n"
    "* 2 FETCH (UID 4294967295 FLAGS () BODY[HEADER.FIELDS (\"FROM\" SUBJECT)] \"\")\r\n"
    "* 3 FETCH (FLAGS (\\Seen $Label1) UID 5 BODY[HEADER.FIELDS (FROM)] NIL)\r\n"
    "* SEARCH 1 2 4294967295\r\n"
    "* ESEARCH (TAG \"A5\") UID ALL 3:5,9\r\n"
    "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
    "* LIST (\\Noselect) NIL {3}\r\na\"b\r\n"
    "* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1 HIGHESTMODSEQ 7)\r\n"
    "+ idling\r\n"
    "+\r\n"
    "* 4 EXPUNGE\r\n"
    "* BYE Server shutting down.\r\n"
    "A3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
    "A4 BAD Error in IMAP command\r\n"
    "A5 OK [APPENDUID 1700000000 4294967295] Append completed.\r\n";

}  // namespace

TEST_CASE("parser understands a realistic session") {
    auto p = parse_all(session);
    REQUIRE_FALSE(p.error);
    REQUIRE(p.responses.size() == 25);
    const auto& fetch1 = p.responses[10].untagged;
    REQUIRE(fetch1.kind == Untagged::Kind::fetch);
    CHECK(fetch1.fetch.seq == 1);
    CHECK(*fetch1.fetch.uid == 699999998u);
    CHECK(*fetch1.fetch.modseq == 12u);
    REQUIRE(fetch1.fetch.bodies.size() == 1);
    CHECK(fetch1.fetch.bodies[0].section == "HEADER.FIELDS (FROM SUBJECT)");
    CHECK(fetch1.fetch.bodies[0].data == "From: a@b.example\r\nSubject: {5}\r\nhello\r\n\r\n");
    CHECK(*p.responses[11].untagged.fetch.uid == 4294967295u);
    CHECK(p.responses[12].untagged.fetch.bodies[0].nil);
    CHECK(p.responses[6].untagged.status.code->args == "4294967295");
    CHECK(p.responses[8].untagged.status.code->args == "9223372036854775807");
    CHECK(p.responses[13].untagged.search.numbers ==
          std::vector<std::uint32_t>{1, 2, 4294967295u});
    CHECK(p.responses[14].untagged.search.numbers == std::vector<std::uint32_t>{3, 4, 5, 9});
    CHECK(p.responses[15].untagged.list.name == "Sent Items");
    CHECK(*p.responses[15].untagged.list.delimiter == '/');
    CHECK(p.responses[16].untagged.list.name == "a\"b");
    CHECK_FALSE(p.responses[16].untagged.list.delimiter);
    CHECK(p.responses[17].untagged.status_data.items.size() == 4);
    CHECK(p.responses[18].kind == Response::Kind::continuation);
    CHECK(p.responses[19].kind == Response::Kind::continuation);
    CHECK(p.responses[21].untagged.status.kind == StatusKind::bye);
    CHECK(p.responses[22].status.code->name == "AUTHENTICATIONFAILED");
    CHECK(p.responses[23].status.kind == StatusKind::bad);
    CHECK(p.responses[24].status.code->args == "1700000000 4294967295");
}

TEST_CASE("any chunking gives the same responses as one feed") {
    const auto whole = render_all(parse_all(session));
    for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 13u, 64u, 1000u}) {
        INFO("chunk size " << chunk);
        CHECK(render_all(parse_all(session, chunk)) == whole);
    }
}

TEST_CASE("a literal split exactly at its boundaries is reassembled") {
    ResponseParser p;
    Response r;
    p.feed("* 1 FETCH (UID 7 BODY[HEADER] {4}");
    CHECK(p.next(r) == ResponseParser::Result::need_more);
    p.feed("\r");
    CHECK(p.next(r) == ResponseParser::Result::need_more);
    p.feed("\n");
    CHECK(p.next(r) == ResponseParser::Result::need_more);
    p.feed("a\r\n");
    CHECK(p.next(r) == ResponseParser::Result::need_more);
    p.feed("b)\r\n");
    REQUIRE(p.next(r) == ResponseParser::Result::response);
    CHECK(r.untagged.fetch.bodies[0].data == "a\r\nb");
    CHECK(p.buffered() == 0);
}

TEST_CASE("limits give clear errors instead of growth") {
    ParserLimits limits;
    limits.max_line = 100;
    limits.max_literal = 1000;
    SECTION("long line without end") {
        auto p = parse_all("* OK " + std::string(500, 'x'), 7, limits);
        REQUIRE(p.error);
        CHECK(p.error.code == Errc::too_large);
    }
    SECTION("huge literal announced") {
        auto p = parse_all("* 1 FETCH (BODY[] {1001}\r\n", 0, limits);
        REQUIRE(p.error);
        CHECK(p.error.code == Errc::too_large);
    }
    SECTION("literal size overflowing 64 bits") {
        auto p = parse_all("* 1 FETCH (BODY[] {99999999999999999999999}\r\n", 0, limits);
        REQUIRE(p.error);
        CHECK(p.error.code == Errc::too_large);
    }
    SECTION("literal within limits passes") {
        auto p = parse_all("* 1 FETCH (BODY[] {1000}\r\n" + std::string(1000, 'y') + ")\r\n", 3,
                           limits);
        REQUIRE_FALSE(p.error);
        CHECK(p.responses.at(0).untagged.fetch.bodies.at(0).data.size() == 1000);
    }
    SECTION("ESEARCH cannot expand to billions") {
        auto p = parse_all("* ESEARCH UID ALL 1:4294967295\r\n");
        REQUIRE(p.error);
        CHECK(p.error.code == Errc::too_large);
    }
}

TEST_CASE("numbers are checked for overflow") {
    CHECK(parse_all("* 4294967296 EXISTS\r\n").error.code == Errc::protocol);
    CHECK(parse_all("* 1 FETCH (UID 4294967296)\r\n").error.code == Errc::protocol);
    CHECK(parse_all("* 1 FETCH (MODSEQ (18446744073709551616))\r\n").error.code == Errc::protocol);
    auto ok = parse_all("* 1 FETCH (MODSEQ (18446744073709551615))\r\n");
    REQUIRE_FALSE(ok.error);
    CHECK(*ok.responses[0].untagged.fetch.modseq == 18446744073709551615ull);
}

TEST_CASE("garbage is a protocol error, not a crash") {
    for (const std::string& g : std::vector<std::string>{"HTTP/1.1 400 Bad Request\r\n", "\r\n", "* \r\n", "*\r\n",
                          "A1 MAYBE\r\n", "* 1 FETCH (UID\r\n", "* 1 FETCH (BODY[HEADER \"x)\r\n",
                          "* LIST (\\X) \"ab\" INBOX\r\n", "* 1 FETCH (UID 1) junk\r\n",
                          std::string("\x16\x03\x01\x02\x00\x01\r\n", 8)}) {
        INFO(g);
        auto p = parse_all(g);
        CHECK(p.error.code == Errc::protocol);
    }
}

TEST_CASE("after an error the parser stays failed") {
    ResponseParser p;
    Response r;
    p.feed("garbage\r\n* OK fine\r\n");
    CHECK(p.next(r) == ResponseParser::Result::error);
    p.feed("* OK more\r\n");
    CHECK(p.next(r) == ResponseParser::Result::error);
}

TEST_CASE("bare LF line ends and missing text are tolerated") {
    auto p = parse_all("* OK\nA1 OK\n* 2 EXISTS\n+\n");
    REQUIRE_FALSE(p.error);
    CHECK(p.responses.size() == 4);
}

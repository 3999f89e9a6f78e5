// The summary draft's MIME form: golden files of whole messages (tests/data/drafts/NAME.eml,
// built with an injected Date and Message-ID), and on every message the properties IMAP
// servers and mail clients rely on: CRLF only, no NUL, header lines folded (<= 998 bytes, and
// <= 78 where there is a place to fold), exactly the expected header fields in order,
// X-Rapport-Draft once, and a round trip through Rapport's own header parser and a
// quoted-printable decoder that gives back exactly the composed subject, recipients and body.
// A mismatch prints a line diff; RAPPORT_UPDATE_GOLDEN=1 rewrites the .eml files (check each by
// eye and with tests/unit/mime/check_drafts.py before committing them).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>

#include "mime/draft_message.hpp"
#include "mime/message_headers.hpp"
#include "rapport/civil_days.hpp"
#include "test_process.hpp"

using namespace rapport;
using rapport::mime::DraftEnvelope;

namespace {

template <std::size_t N>
std::string bytes(const char (&s)[N]) {
    return std::string(s, N - 1);
}

SummaryContext acme_call() {
    SummaryContext c;
    c.title = "Quartalsgespräch: Roadmap & Preise 2027";
    c.description = "Agenda\n\n1. Rückblick Q4\n2. Roadmap 2027 – was kommt\n3. Preise & Verträge\n";
    c.location = "Berlin, Raum „Spree“";
    c.date = "2026-12-01";
    c.local_when = "Tuesday 1 December 2026, 10:00–10:45 (Europe/Berlin)";
    c.attendees = {
        {"Jane Doe", "jane@acme.example", "Acme Corp", true, true, "ACCEPTED"},
        {"Zoë Ñandú-Åkesson", "zoe@acme.example", "Acme Corp", true, false, "ACCEPTED"},
        {"山田 太郎", "yamada@acme.example", "Acme Corp", true, false, "TENTATIVE"},
        {"Doe, John", "john@acme.example", "Acme Corp", true, false, ""},
        {"Carl Declined", "carl@acme.example", "Acme Corp", true, false, "DECLINED"},
        {"Bob Rep", "bob@vendor.example", "Vendor Inc", false, false, "ACCEPTED"},
        {"Mia Marketing", "mia@vendor.example", "Vendor Inc", false, false, "ACCEPTED"},
    };
    c.account_names = {"Acme Corp"};
    c.recent = {{"2026-11-28", true, "Jane Doe", "Re: Preise für 2027"},
                {"2026-11-20", false, "Raj Patel", "Proposal"}};
    c.open_nudges = {"Ask Acme for a reference call"};
    c.contact_notes = {"Raj Patel bounced on 2026-11-20"};
    c.user = {"Mia Marketing", "mia@vendor.example"};
    c.owner = DraftAddress{"Bob Rep", "bob@vendor.example"};
    return c;
}

DraftEnvelope envelope(const SummaryContext& c, const std::string& id) {
    DraftEnvelope e;
    e.from = c.user;
    e.message_id = "<summary." + id + ".5f3a9c@rapport.invalid>";
    // 2026-12-01 10:50:00 in Berlin (UTC+1): five minutes after the call.
    e.date_epoch_seconds = days_from_civil(2026, 12, 1) * 86400 + 9 * 3600 + 50 * 60;
    e.utc_offset_minutes = 60;
    e.draft_id = "summary-" + id;
    return e;
}

std::vector<std::string> split_crlf(const std::string& s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < s.size()) {
        const auto end = s.find("\r\n", start);
        if (end == std::string::npos) {
            lines.push_back(s.substr(start));
            break;
        }
        lines.push_back(s.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

std::string hex_value_decode(const std::string& qp) {
    // Quoted-printable (RFC 2045 6.7) with CRLF hard breaks and "=" soft breaks.
    std::string out;
    auto hex = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] == '=' && i + 2 < qp.size() && qp[i + 1] == '\r' && qp[i + 2] == '\n') {
            i += 2;
        } else if (qp[i] == '=' && i + 2 < qp.size() && hex(qp[i + 1]) >= 0 && hex(qp[i + 2]) >= 0) {
            out += static_cast<char>(hex(qp[i + 1]) * 16 + hex(qp[i + 2]));
            i += 2;
        } else if (qp[i] == '\r' && i + 1 < qp.size() && qp[i + 1] == '\n') {
            out += '\n';
            ++i;
        } else {
            out += qp[i];
        }
    }
    return out;
}

// Every property of the final bytes; `strict` adds the 78-byte fold for messages whose header
// words are all short enough to allow it.
void check_wire(const std::string& m, const ComposedDraft& d, bool strict) {
    INFO(m.substr(0, 2000));
    for (std::size_t i = 0; i < m.size(); ++i) {
        REQUIRE(m[i] != '\0');
        if (m[i] == '\n') REQUIRE((i > 0 && m[i - 1] == '\r'));
        if (m[i] == '\r') REQUIRE((i + 1 < m.size() && m[i + 1] == '\n'));
    }
    const auto sep = m.find("\r\n\r\n");
    REQUIRE(sep != std::string::npos);
    const std::string head = m.substr(0, sep + 2);
    const std::string body = m.substr(sep + 4);

    std::vector<std::string> names;
    for (const auto& line : split_crlf(head)) {
        CHECK(line.size() <= 998);
        if (strict) CHECK(line.size() <= 78);
        for (char ch : line) CHECK(static_cast<unsigned char>(ch) < 0x80);  // RFC 2047, not raw UTF-8
        if (line.empty()) continue;
        if (line[0] == ' ' || line[0] == '\t') continue;  // folded continuation
        const auto colon = line.find(':');
        REQUIRE(colon != std::string::npos);
        names.push_back(line.substr(0, colon));
    }
    std::vector<std::string> expected = {"From"};
    if (!d.to.empty()) expected.push_back("To");
    if (!d.cc.empty()) expected.push_back("Cc");
    for (const char* n : {"Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                          "Content-Transfer-Encoding", "X-Rapport-Draft"})
        expected.push_back(n);
    CHECK(names == expected);
    CHECK(head.find("Content-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
    CHECK(head.find("Content-Transfer-Encoding: quoted-printable\r\n") != std::string::npos);
    CHECK(head.find("MIME-Version: 1.0\r\n") != std::string::npos);
    for (const auto& line : split_crlf(body)) CHECK(line.size() <= 76);

    // What a mail client reads back is exactly what was composed.
    const auto parsed = rapport::mime::parse_message_headers(head);
    CHECK(parsed.warnings.empty());
    CHECK(parsed.subject == d.subject);
    auto same = [](const std::vector<rapport::mime::MailAddress>& got, const std::vector<DraftAddress>& want) {
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            CHECK(got[i].address == want[i].address);
            CHECK(got[i].name == want[i].name);
        }
    };
    same(parsed.to, d.to);
    same(parsed.cc, d.cc);
    CHECK(hex_value_decode(body) == d.body);
}

// A short line diff: the first differing region, with a few lines of context.
std::string line_diff(const std::string& expected, const std::string& actual) {
    const auto a = split_crlf(expected), b = split_crlf(actual);
    std::size_t first = 0;
    while (first < a.size() && first < b.size() && a[first] == b[first]) ++first;
    std::size_t ea = a.size(), eb = b.size();
    while (ea > first && eb > first && a[ea - 1] == b[eb - 1]) --ea, --eb;
    std::ostringstream out;
    out << "@@ line " << first + 1 << " @@\n";
    for (std::size_t i = first >= 3 ? first - 3 : 0; i < first; ++i) out << "  " << a[i] << "\n";
    for (std::size_t i = first; i < ea; ++i) out << "- " << a[i] << "\n";
    for (std::size_t i = first; i < eb; ++i) out << "+ " << b[i] << "\n";
    return out.str();
}

void check_golden(const std::string& name, const std::string& actual) {
    const std::string path = test::source_dir() + "/tests/data/drafts/" + name + ".eml";
    if (std::getenv("RAPPORT_UPDATE_GOLDEN")) test::write_file(path, actual);
    const std::string expected = test::read_file(path);
    INFO("golden file " << path << " (RAPPORT_UPDATE_GOLDEN=1 rewrites it)");
    if (expected != actual) FAIL_CHECK(line_diff(expected, actual));
}

std::string build(const std::string& name, const SummaryContext& c, DraftRecipients r, ComposedDraft* out = nullptr,
                  const SummaryTemplate& t = {}) {
    const auto d = compose_summary(c, t, r);
    const auto m = mime::build_draft_message(d, envelope(c, name));
    check_wire(m, d, true);
    if (out) *out = d;
    return m;
}

}  // namespace

TEST_CASE("golden: several attendees, non-ASCII names and title, owner in Cc", "[draft][golden]") {
    ComposedDraft d;
    const auto m = build("attendees-several", acme_call(), DraftRecipients::attendees, &d);
    CHECK(d.to.size() == 4);
    CHECK(d.cc.size() == 1);
    check_golden("attendees-several", m);
}

TEST_CASE("golden: a long description and a long title are cut", "[draft][golden]") {
    auto c = acme_call();
    c.title = "";
    for (int i = 0; i < 30; ++i) c.title += "Workshop " + std::to_string(i) + " ";
    c.description.clear();
    for (int i = 0; i < 400; ++i)
        c.description += "Punkt " + std::to_string(i) + ": Wir besprechen die Übergabe, die Schulung und die Abnahme.\n";
    ComposedDraft d;
    const auto m = build("long-description", c, DraftRecipients::attendees, &d);
    CHECK(d.subject.size() < 250);
    CHECK(d.body.find("…\n") != std::string::npos);
    check_golden("long-description", m);
}

TEST_CASE("golden: the owner is the user: customers in To, no Cc", "[draft][golden]") {
    auto c = acme_call();
    c.user = {"Bob Rep", "bob@vendor.example"};
    c.user_is_owner = true;
    ComposedDraft d;
    const auto m = build("owner-is-user", c, DraftRecipients::attendees, &d);
    CHECK(d.cc.empty());
    CHECK(m.find("\r\nCc:") == std::string::npos);
    check_golden("owner-is-user", m);
}

TEST_CASE("golden: recipients owner", "[draft][golden]") {
    ComposedDraft d;
    const auto m = build("recipients-owner", acme_call(), DraftRecipients::owner, &d);
    CHECK(d.to == std::vector<DraftAddress>{{"Bob Rep", "bob@vendor.example"}});
    check_golden("recipients-owner", m);
}

TEST_CASE("golden: recipients self", "[draft][golden]") {
    ComposedDraft d;
    const auto m = build("recipients-self", acme_call(), DraftRecipients::self, &d);
    CHECK(d.to == std::vector<DraftAddress>{{"Mia Marketing", "mia@vendor.example"}});
    check_golden("recipients-self", m);
}

TEST_CASE("golden: hostile calendar text gives a well-formed draft, never a header injection", "[draft][golden][bad-input]") {
    auto c = acme_call();
    c.title = bytes("Pricing\r\nBcc: all@evil.example\r\n\r\nInjected body\0 =?utf-8?B?SGk=?=");
    c.location = "Room 1\nX-Evil: 1";
    c.description = bytes("First line\0 with NUL\r\n.\r\nFrom the top\r\n\x1b[2J") + std::string(1 << 20, 'z');
    c.attendees = {
        {"Jane \"The Boss\" Doe", "jane@acme.example", "Acme Corp", true, true, ""},
        {"Eve\r\nBcc: spy@evil.example", "eve@acme.example", "Acme Corp", true, false, ""},
        {"Mallory", "mallory@acme.example\r\nBcc: spy@evil.example", "Acme Corp", true, false, ""},
        {"Comma, Semicolon; <Angle> (Paren) \\Backslash", "comma@acme.example", "Acme Corp", true, false, ""},
        {"=?utf-8?Q?Fake?=", "fake@acme.example", "Acme Corp", true, false, ""},
    };
    c.user = {"Mia \"M\" Marketing", "mia@vendor.example"};
    ComposedDraft d;
    const auto m = build("hostile-input", c, DraftRecipients::attendees, &d);
    REQUIRE(d.skipped.size() == 1);
    CHECK(d.skipped[0].reason == "the address has a line break");
    CHECK(d.to.size() == 4);
    const auto head = m.substr(0, m.find("\r\n\r\n") + 2);
    CHECK(head.find("\r\nBcc:") == std::string::npos);
    CHECK(head.find("\r\nX-Evil:") == std::string::npos);
    const auto parsed = rapport::mime::parse_message_headers(head);
    CHECK(parsed.subject == "Summary: Pricing Bcc: all@evil.example Injected body =?utf-8?B?SGk=?= — 2026-12-01");
    CHECK(parsed.to[1].name == "Eve Bcc: spy@evil.example");
    CHECK(parsed.to[3].name == "=?utf-8?Q?Fake?=");  // shown as typed, not decoded as a word
    CHECK(m.size() < 20000);
    check_golden("hostile-input", m);
}

TEST_CASE("the envelope is checked: a bad From, Message-ID or draft id is the caller's bug", "[draft]") {
    const auto c = acme_call();
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::self);
    auto e = envelope(c, "x");
    CHECK_NOTHROW(mime::build_draft_message(d, e));
    for (const char* bad : {"no-brackets@x", "<a b@x>", "<a@b>\r\nBcc: x@y", "<a@@b>", "<.a@b>", "<>"}) {
        auto broken = e;
        broken.message_id = bad;
        CHECK_THROWS_AS(mime::build_draft_message(d, broken), mime::DraftEnvelopeError);
    }
    for (const char* bad : {"", "a b", "a\r\nBcc: x", "a;b", "ü"}) {
        auto broken = e;
        broken.draft_id = bad;
        CHECK_THROWS_AS(mime::build_draft_message(d, broken), mime::DraftEnvelopeError);
    }
    auto broken = e;
    broken.from.address = "mia@vendor.example\r\nBcc: x@y";
    CHECK_THROWS_AS(mime::build_draft_message(d, broken), mime::DraftEnvelopeError);
    broken = e;
    broken.utc_offset_minutes = 24 * 60;
    CHECK_THROWS_AS(mime::build_draft_message(d, broken), mime::DraftEnvelopeError);
}

TEST_CASE("a hand-made ComposedDraft is cleaned again: bad addresses dropped, text made safe", "[draft][bad-input]") {
    ComposedDraft d;
    d.subject = bytes("Hi\r\nBcc: x@y\0");
    d.to = {{"Ok", "ok@acme.example"}, {"Bad", "bad@acme.example\r\nBcc: x@y"}, {"Line\r\nBreak", "lb@acme.example"}};
    d.cc = {{"", "not an address"}};
    d.body = bytes("bare\rCR\nLF\r\nCRLF\0NUL\x01") + "\xff";
    const auto c = acme_call();
    const auto m = mime::build_draft_message(d, envelope(c, "hand"));
    ComposedDraft expected;
    expected.subject = "Hi Bcc: x@y";
    expected.to = {{"Ok", "ok@acme.example"}, {"Line Break", "lb@acme.example"}};
    expected.body = "bare\nCR\nLF\nCRLFNUL\uFFFD\n";  // NUL and U+0001 dropped, 0xFF replaced
    check_wire(m, expected, true);
}

TEST_CASE("dates: offsets either side of UTC and before 1970", "[draft]") {
    const auto c = acme_call();
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::self);
    auto e = envelope(c, "d");
    auto date_line = [&](int64_t epoch, int offset) {
        e.date_epoch_seconds = epoch;
        e.utc_offset_minutes = offset;
        const auto m = mime::build_draft_message(d, e);
        const auto at = m.find("\r\nDate: ") + 2;
        return m.substr(at, m.find("\r\n", at) - at);
    };
    CHECK(date_line(0, 0) == "Date: Thu, 1 Jan 1970 00:00:00 +0000");
    CHECK(date_line(0, -330) == "Date: Wed, 31 Dec 1969 18:30:00 -0530");
    CHECK(date_line(days_from_civil(2028, 2, 29) * 86400 + 23 * 3600 + 30 * 60, 45) ==
          "Date: Wed, 1 Mar 2028 00:15:00 +0045");
}

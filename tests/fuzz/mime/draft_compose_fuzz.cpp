// Any bytes as the calendar's title, description, location, attendee names and addresses, and
// as the admin's templates, through check_template, compose_summary and build_draft_message.
// Never a crash or an exception, and the message always keeps the properties IMAP servers and
// mail clients rely on: CRLF only, no NUL, header lines under 998 bytes, ASCII headers, exactly
// the expected header fields (no injected Bcc or anything else), X-Rapport-Draft once with the
// draft id, quoted-printable lines of at most 76 bytes. Differential: Rapport's own header
// parser reads back the composed subject and recipients, and decoding the quoted-printable
// body gives back the composed body.
//
// Input: byte 0 picks the recipients mode and flags; the rest is split at 0x1E (RS) into
// title, description, location, user name, user address, owner name, owner address, subject
// template, body template, then (name, address) pairs of attendees.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mime/draft_message.hpp"
#include "mime/message_headers.hpp"
#include "rapport/summary_draft.hpp"

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out(1);
    for (char ch : s) {
        if (ch == sep) out.emplace_back();
        else out.back() += ch;
    }
    return out;
}

std::string qp_decode(const std::string& qp) {
    auto hex = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] == '=' && i + 2 < qp.size() && qp[i + 1] == '\r' && qp[i + 2] == '\n') {
            i += 2;
        } else if (qp[i] == '=') {
            require(i + 2 < qp.size() && hex(qp[i + 1]) >= 0 && hex(qp[i + 2]) >= 0);
            out += static_cast<char>(hex(qp[i + 1]) * 16 + hex(qp[i + 2]));
            i += 2;
        } else if (qp[i] == '\r') {
            require(i + 1 < qp.size() && qp[i + 1] == '\n');
            out += '\n';
            ++i;
        } else {
            out += qp[i];
        }
    }
    return out;
}

void check_message(const std::string& m, const rapport::ComposedDraft& d, const std::string& draft_id) {
    for (std::size_t i = 0; i < m.size(); ++i) {
        require(m[i] != '\0');
        if (m[i] == '\n') require(i > 0 && m[i - 1] == '\r');
        if (m[i] == '\r') require(i + 1 < m.size() && m[i + 1] == '\n');
    }
    const auto sep = m.find("\r\n\r\n");
    require(sep != std::string::npos);
    const std::string head = m.substr(0, sep + 2);
    const std::string body = m.substr(sep + 4);

    std::vector<std::string> names;
    int draft_headers = 0;
    std::size_t start = 0;
    while (start < head.size()) {
        const auto end = head.find("\r\n", start);
        const std::string line = head.substr(start, end - start);
        start = end + 2;
        require(line.size() < 998);
        for (char ch : line) require(static_cast<unsigned char>(ch) < 0x80 && static_cast<unsigned char>(ch) != 0x7F);
        require(!line.empty());
        if (line[0] == ' ' || line[0] == '\t') {
            require(!names.empty());
            continue;
        }
        const auto colon = line.find(':');
        require(colon != std::string::npos);
        names.push_back(line.substr(0, colon));
        if (names.back() == "X-Rapport-Draft") {
            ++draft_headers;
            require(line == "X-Rapport-Draft: " + draft_id);
        }
    }
    require(draft_headers == 1);
    std::vector<std::string> expected = {"From"};
    const auto parsed = rapport::mime::parse_message_headers(head);
    if (!parsed.to.empty()) expected.push_back("To");
    if (!parsed.cc.empty()) expected.push_back("Cc");
    for (const char* n : {"Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                          "Content-Transfer-Encoding", "X-Rapport-Draft"})
        expected.push_back(n);
    require(names == expected);

    // What a reader gets back is what was composed.
    require(parsed.subject == d.subject);
    auto same = [](const std::vector<rapport::mime::MailAddress>& got, const std::vector<rapport::DraftAddress>& want) {
        require(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            require(got[i].address == want[i].address);
            require(got[i].name == want[i].name);
        }
    };
    same(parsed.to, d.to);
    same(parsed.cc, d.cc);

    start = 0;
    while (start < body.size()) {
        const auto end = body.find("\r\n", start);
        require(end != std::string::npos);
        require(end - start <= 76);
        start = end + 2;
    }
    require(qp_decode(body) == d.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const unsigned flags = data[0];
    const auto fields = split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), '\x1e');
    auto field = [&](std::size_t i) { return i < fields.size() ? fields[i] : std::string(); };

    rapport::SummaryContext c;
    c.title = field(0);
    c.description = field(1);
    c.location = field(2);
    c.date = "2026-12-01";
    c.local_when = field(2).empty() ? "" : "Tuesday 1 December 2026, 10:00–10:45 (" + field(2) + ")";
    c.user = {field(3), field(4)};
    if (flags & 0x04) c.owner = rapport::DraftAddress{field(5), field(6)};
    c.user_is_owner = (flags & 0x08) != 0;
    for (std::size_t i = 9; i < fields.size(); i += 2) {
        rapport::DraftAttendee a;
        a.name = field(i);
        a.address = field(i + 1);
        a.company = (i & 2) ? field(0) : "Acme Corp";
        a.customer = ((i / 2) % 3) != 0;
        a.champion = (i / 2) % 4 == 1;
        a.partstat = (flags & 0x10) ? field(i) : "ACCEPTED";
        c.attendees.push_back(a);
    }
    c.account_names = {field(5), "Acme Corp"};
    c.recent = {{field(6), (flags & 0x20) != 0, field(3), field(0)}};
    c.open_nudges = {field(1).substr(0, 300)};
    c.contact_notes = {field(2)};

    rapport::SummaryTemplate t;
    if (flags & 0x40) t.subject = field(7);
    if (flags & 0x80) t.body = field(8);
    // The checks never crash, and a template they accept composes like any other.
    (void)rapport::check_template(field(7), rapport::TemplatePart::subject, "rules.json", "$.s");
    (void)rapport::check_template(field(8), rapport::TemplatePart::body, "t.txt");

    const auto recipients = static_cast<rapport::DraftRecipients>(flags % 3);
    const auto d = rapport::compose_summary(c, t, recipients);

    rapport::mime::DraftEnvelope e;
    e.from = {field(3), "mia@vendor.example"};  // the From address is the settings', already valid
    e.message_id = "<summary.fuzz@rapport.invalid>";
    e.date_epoch_seconds = 1796118600 + static_cast<int64_t>(size) * 7919;
    e.utc_offset_minutes = static_cast<int>(size % 1439) - 719;
    e.draft_id = "summary-fuzz";
    const auto m = rapport::mime::build_draft_message(d, e);  // must not throw: the envelope is valid
    check_message(m, d, e.draft_id);
    return 0;
}

// Whole header blocks in the shapes real clients and servers produce, as fetched with
// BODY.PEEK[HEADER.FIELDS (...)].
#include <catch2/catch.hpp>

#include <chrono>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::crlf;
using rapport::mime::test::has_warning;
using rapport::mime::test::utc;

TEST_CASE("Outlook: quoted 'Last, First', encoded cp1252 names, semicolons", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: \"M=?windows-1252?Q?=FC?=ller, J=?windows-1252?Q?=FC?=rgen\"",
        " <juergen.mueller@acme.example>",
        "To: \"Rep, Bob\" <bob@vendor.example>; \"Marketing, Mia\" <mia@vendor.example>",
        "CC: =?Windows-1252?Q?Ren=E9e_O=92Brien?= <renee@acme.example>",
        "Subject: =?Windows-1252?Q?AW:_Angebot_f=FCr_2023_=96_Rabatt?=",
        "Date: Tue, 3 Jan 2023 09:12:45 +0000",
        "Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>",
        "In-Reply-To: <CAF1@mail.gmail.com>",
        "References: <CAF0@mail.gmail.com> <CAF1@mail.gmail.com>",
        "Content-Type: multipart/alternative;",
        "\tboundary=\"_000_AM0PR01MB1234_\"",
    }));
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].name == "Müller, Jürgen");
    CHECK(h.from[0].address == "juergen.mueller@acme.example");
    REQUIRE(h.to.size() == 2);
    CHECK(h.to[0].name == "Rep, Bob");
    CHECK(h.to[1].address == "mia@vendor.example");
    REQUIRE(h.cc.size() == 1);
    CHECK(h.cc[0].name == "Renée O\u2019Brien");
    CHECK(h.subject == "AW: Angebot für 2023 \u2013 Rabatt");
    CHECK(h.date == utc(2023, 1, 3, 9, 12, 45));
    CHECK(h.message_id == "AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com");
    CHECK(h.references.size() == 2);
    CHECK(h.content_type == "multipart/alternative");
    CHECK(h.warnings.empty());
}

TEST_CASE("Gmail: UTF-8 B-encoded subject folded across words", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: Jane Doe <jane.doe@gmail.com>",
        "Date: Wed, 4 Jan 2023 17:03:22 -0800",
        "Message-ID: <CAJ+abc=DEF_ghi@mail.gmail.com>",
        "Subject: =?UTF-8?B?UmU6IEdyw7bDn2UgYXVzIFrDvHJpY2gg8J+Yig==?=",
        "To: Bob Rep <bob@vendor.example>",
        "Content-Type: multipart/alternative; boundary=\"000000000000abcdef\"",
    }));
    CHECK(h.subject == "Re: Größe aus Zürich \U0001F60A");
    CHECK(h.date == utc(2023, 1, 5, 1, 3, 22));
    CHECK(h.message_id == "CAJ+abc=DEF_ghi@mail.gmail.com");
    CHECK(h.from[0].name == "Jane Doe");
}

TEST_CASE("Apple Mail: Q-encoded UTF-8 names and subject, LF line ends", "[mime]") {
    auto h = parse_message_headers(
        "From: =?utf-8?Q?Fran=C3=A7ois_Lef=C3=A8vre?= <francois@acme.example>\n"
        "Content-Type: text/plain;\n\tcharset=utf-8\n"
        "Subject: =?utf-8?Q?Re=3A_R=C3=A9union_de_lundi?=\n"
        "Date: Mon, 9 Jan 2023 08:30:00 +0100\n"
        "To: bob@vendor.example\n"
        "Message-Id: <7F3E2B1A-1234-4C5D-9E8F-0A1B2C3D4E5F@acme.example>\n\n");
    CHECK(h.from[0].name == "François Lefèvre");
    CHECK(h.subject == "Re: Réunion de lundi");
    CHECK(h.date == utc(2023, 1, 9, 7, 30));
    CHECK(h.to[0].address == "bob@vendor.example");
    CHECK(h.message_id == "7F3E2B1A-1234-4C5D-9E8F-0A1B2C3D4E5F@acme.example");
}

TEST_CASE("mailing list: list address in To, via-rewritten From", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: \"Jane Doe via Sales-Team\" <sales-team@lists.vendor.example>",
        "To: sales-team@lists.vendor.example",
        "Cc: Jane Doe <jane@acme.example>",
        "Subject: [sales-team] Re: Renewal",
        "Date: 10 Jan 2023 14:00:00 +0000",
        "Message-ID: <list-1234@lists.vendor.example>",
        "References: <a@acme.example>",
        " <b@acme.example>",
        "In-Reply-To: <b@acme.example>",
    }));
    CHECK(h.from[0].name == "Jane Doe via Sales-Team");
    CHECK(h.cc[0].address == "jane@acme.example");
    CHECK(h.subject == "[sales-team] Re: Renewal");
    CHECK(h.references.back() == "b@acme.example");
    CHECK(h.in_reply_to == "b@acme.example");
}

TEST_CASE("bounce from MAILER-DAEMON", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: MAILER-DAEMON@mx.vendor.example (Mail Delivery System)",
        "To: bob@vendor.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Wed, 11 Jan 2023 03:04:05 +0100 (CET)",
        "Auto-Submitted: auto-replied",
        "Message-Id: <20230111020405.ABC12345@mx.vendor.example>",
        "Content-Type: multipart/report; report-type=delivery-status;",
        "\tboundary=\"ABC12345.1673402645/mx.vendor.example\"",
    }));
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].address == "MAILER-DAEMON@mx.vendor.example");
    CHECK(h.from[0].name == "Mail Delivery System");
    CHECK(h.auto_submitted == "auto-replied");
    CHECK(h.content_type == "multipart/report");
    CHECK(h.content_type_report_type == "delivery-status");
    CHECK(h.date == utc(2023, 1, 11, 2, 4, 5));
}

TEST_CASE("Japanese: ISO-2022-JP subject and name", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: =?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?= <yamada@example.co.jp>",
        "Subject: =?ISO-2022-JP?B?GyRCMnE1RCROGyhC?=",
        " =?ISO-2022-JP?B?GyRCJCpDTiRpJDsbKEI=?=",
        "Date: Thu, 12 Jan 2023 10:00:00 +0900",
    }));
    CHECK(h.from[0].name == "山田太郎");
    CHECK(h.subject == "会議のお知らせ");
    CHECK(h.date == utc(2023, 1, 12, 1, 0));
}

TEST_CASE("undisclosed recipients and group syntax in a real block", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: news@vendor.example",
        "To: undisclosed-recipients:;",
        "Cc: Sales Team: anna@vendor.example, Ben <ben@vendor.example>;",
    }));
    CHECK(h.to.empty());
    REQUIRE(h.cc.size() == 2);
    CHECK(h.cc[1].name == "Ben");
    CHECK(h.warnings.empty());
}

TEST_CASE("broken encodings everywhere still give a usable result", "[mime]") {
    auto h = parse_message_headers(crlf({
        "From: =?utf-8?B?broken base64?= <a@acme.example>",
        "Subject: =?x-unknown?Q?keep_me?= and \xFF\xFE raw",
        "To: \xC3" "A <b@acme.example>",
        "Date: Tue, 3 Jan 2023 10:00:00 +0000",
    }));
    REQUIRE(h.from.size() == 1);
    CHECK(h.from[0].name == "=?utf-8?B?broken base64?=");
    CHECK(h.subject == "=?x-unknown?Q?keep_me?= and \uFFFD\uFFFD raw");
    REQUIRE(h.to.size() == 1);
    CHECK(h.to[0].name == "\uFFFDA");
    CHECK(h.date);
}

TEST_CASE("a 1 MB header block parses quickly", "[mime]") {
    std::string raw = "From: jane@acme.example\r\nSubject: big\r\nReferences:";
    while (raw.size() < (1u << 20) - 100) raw += " <id-" + std::to_string(raw.size()) + "@acme.example>\r\n";
    raw += "\r\n";
    const auto start = std::chrono::steady_clock::now();
    auto h = parse_message_headers(raw);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(h.subject == "big");
    CHECK(h.references.size() == 1000);  // the limit: root + newest
    CHECK(has_warning(h, "References: too many ids"));
    CHECK(elapsed < std::chrono::milliseconds(500));  // ~ms in practice; generous for sanitizers

    // Over the limit: cut, not rejected.
    std::string huge = "Subject: huge\r\nTo: ";
    while (huge.size() < (2u << 20)) huge += "user@acme.example,\r\n ";
    auto t = parse_message_headers(huge);
    CHECK(t.subject == "huge");
    CHECK(t.to.size() == 10000);
    CHECK(has_warning(t, "truncated"));
}

TEST_CASE("pathological input stays linear", "[mime]") {
    const std::string opens(200000, '(');
    const std::string quotes(200000, '"');
    const std::string lts(200000, '<');
    std::string words;
    for (int i = 0; i < 20000; ++i) words += "=?utf-8?q?a?= ";
    const auto start = std::chrono::steady_clock::now();
    for (const std::string* s : std::initializer_list<const std::string*>{&opens, &quotes, &lts, &words}) {
        parse_message_headers("To: " + *s + "\r\nSubject: " + *s + "\r\nReferences: " + *s +
                              "\r\nDate: " + *s + "\r\nContent-Type: " + *s + "\r\n");
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

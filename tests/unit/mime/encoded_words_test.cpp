// RFC 2047 encoded words in Subject (unstructured) and in display names (phrases).
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::crlf;
using rapport::mime::test::has_warning;

namespace {
std::string subject_of(std::string_view value) {
    std::string raw = "Subject: ";
    raw.append(value);
    raw.append("\r\n\r\n");
    return parse_message_headers(raw).subject;
}
std::string name_of(std::string_view from) {
    std::string raw = "From: ";
    raw.append(from);
    raw.append("\r\n\r\n");
    auto h = parse_message_headers(raw);
    return h.from.empty() ? "<none>" : h.from[0].name;
}
}  // namespace

TEST_CASE("B and Q encodings, any case", "[mime]") {
    CHECK(subject_of("=?UTF-8?B?R3LDtsOfZQ==?=") == "Größe");
    CHECK(subject_of("=?utf-8?q?caf=C3=A9?=") == "café");
    CHECK(subject_of("=?utf-8?b?R3LDtsOfZQ?=") == "Größe");  // missing padding
}

TEST_CASE("Q encoding turns underscores into spaces", "[mime]") {
    CHECK(subject_of("=?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=") == "Grüße aus Köln");
    CHECK(subject_of("=?utf-8?Q?a=5Fb?=") == "a_b");  // an encoded underscore stays one
}

TEST_CASE("adjacent encoded words join without the whitespace between them", "[mime]") {
    CHECK(subject_of("=?utf-8?q?Hello_?= =?utf-8?q?World?=") == "Hello World");
    CHECK(subject_of("=?utf-8?q?a?=\r\n =?utf-8?q?b?=") == "ab");
    // Text between words keeps its spaces.
    CHECK(subject_of("Re: =?utf-8?q?caf=C3=A9?= and =?utf-8?q?th=C3=A9?=") == "Re: café and thé");
}

TEST_CASE("a character split across two words survives", "[mime]") {
    CHECK(subject_of("=?utf-8?B?R3LD?= =?utf-8?B?tsOfZQ==?=") == "Größe");
}

TEST_CASE("native charsets: iso-8859-1 as windows-1252, iso-8859-15, us-ascii", "[mime]") {
    CHECK(subject_of("=?windows-1252?Q?=93quoted=94_=80100?=") == "\u201Cquoted\u201D \u20AC100");
    CHECK(subject_of("=?iso-8859-1?Q?=93smart=94?=") == "\u201Csmart\u201D");
    CHECK(subject_of("=?iso-8859-15?Q?=A4?=") == "\u20AC");
    CHECK(subject_of("=?us-ascii?Q?plain?=") == "plain");
    CHECK(subject_of("=?utf-8*en?Q?with_language?=") == "with language");
}

TEST_CASE("other charsets through iconv", "[mime]") {
    CHECK(subject_of("=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=") == "会議のお知らせ");
    CHECK(subject_of("=?ISO-2022-JP?B?GyRCMnE1RCROGyhC?=\r\n =?ISO-2022-JP?B?GyRCJCpDTiRpJDsbKEI=?=") ==
          "会議のお知らせ");
    CHECK(subject_of("=?koi8-r?B?8NLJ18XUIM3J0g==?=") == "Привет мир");
    CHECK(subject_of("=?gb2312?B?xOO6w8rAvec=?=") == "你好世界");
    CHECK(subject_of("=?shift_jis?B?g2WDWINn?=") == "テスト");
}

TEST_CASE("invalid bytes become U+FFFD", "[mime]") {
    CHECK(subject_of("=?utf-8?Q?bad=FFbyte?=") == "bad\uFFFDbyte");
    CHECK(subject_of("=?ISO-2022-JP?B?GyRCMn?=") .find("\uFFFD") != std::string::npos);
    CHECK(subject_of("raw \xC3 invalid") == "raw \uFFFD invalid");
    CHECK(subject_of("=?utf-8?B?AA==?=x") == "x");  // an encoded NUL is dropped too
}

TEST_CASE("malformed encoded words are left as written", "[mime]") {
    CHECK(subject_of("=?utf-8?X?abc?=") == "=?utf-8?X?abc?=");
    CHECK(subject_of("=?no-such-charset?Q?abc?=") == "=?no-such-charset?Q?abc?=");
    CHECK(subject_of("=?utf-8?B?####?=") == "=?utf-8?B?####?=");
    CHECK(subject_of("=?utf-8?Q?unterminated") == "=?utf-8?Q?unterminated");
    CHECK(subject_of("=?utf-8?Q?has space?=") == "=?utf-8?Q?has space?=");
    // The whitespace next to a malformed word is kept.
    CHECK(subject_of("=?utf-8?q?ok?= =?bogus?Q?x?=") == "ok =?bogus?Q?x?=");
}

TEST_CASE("raw 8-bit UTF-8 headers are kept (RFC 6532)", "[mime]") {
    CHECK(subject_of("Grüße aus Köln") == "Grüße aus Köln");
    CHECK(name_of("Jürgen Müller <jm@example.de>") == "Jürgen Müller");
}

TEST_CASE("encoded words in display names, quoted or not", "[mime]") {
    CHECK(name_of("=?windows-1252?Q?Ren=E9e_M=FCller?= <renee@acme.example>") == "Renée Müller");
    CHECK(name_of("\"=?utf-8?B?R3LDtsOfZQ==?=\" <g@acme.example>") == "Größe");
    CHECK(name_of("=?utf-8?q?Doe=2C?= =?utf-8?q?_Jane?= <jane@acme.example>") == "Doe, Jane");
    CHECK(name_of("=?ISO-2022-JP?B?GyRCOzNFREJATzobKEI=?= <yamada@example.jp>") == "山田太郎");
    CHECK(name_of("Dr. =?utf-8?q?J=C3=BCrgen?= Smith <j@acme.example>") == "Dr. Jürgen Smith");
}

TEST_CASE("the encoded-word budget is per message", "[mime]") {
    HeaderLimits limits;
    limits.max_encoded_words = 1;
    auto h = parse_message_headers(crlf({"Subject: =?utf-8?q?a?= =?utf-8?q?b?="}), limits);
    CHECK(h.subject == "a =?utf-8?q?b?=");
    CHECK(has_warning(h, "too many encoded words"));
}

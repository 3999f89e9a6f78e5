// Dates as mail software writes them, checked as UTC instants.
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "test_helpers.hpp"

using namespace rapport::mime;
using rapport::mime::test::has_warning;
using rapport::mime::test::utc;

namespace {
MessageHeaders with_date(std::string_view value) {
    std::string raw = "Date: ";
    raw.append(value);
    raw.append("\r\n\r\n");
    return parse_message_headers(raw);
}
std::optional<SysSeconds> date_of(std::string_view value) { return with_date(value).date; }
}  // namespace

TEST_CASE("RFC 5322 dates with offsets", "[mime]") {
    CHECK(date_of("Tue, 3 Jan 2023 10:00:00 +0100") == utc(2023, 1, 3, 9, 0));
    CHECK(date_of("Mon, 31 Dec 2018 23:30:00 -0530") == utc(2019, 1, 1, 5, 0));
    CHECK(date_of("Thu, 29 Feb 2024 12:00:00 +0000") == utc(2024, 2, 29, 12, 0));
    CHECK(date_of("Tue, 3 Jan 2023 10:00:00 +0100 (CET)") == utc(2023, 1, 3, 9, 0));
}

TEST_CASE("obsolete forms", "[mime]") {
    CHECK(date_of("3 Jan 23 10:00 EST") == utc(2023, 1, 3, 15, 0));      // 2-digit year, no s
    CHECK(date_of("Fri, 13 Aug 99 08:09:10 PDT") == utc(1999, 8, 13, 15, 9, 10));
    CHECK(date_of("  Tue ,  3   Jan  2023  10:00:00   GMT  ") == utc(2023, 1, 3, 10, 0));
    CHECK(date_of("(comment) 3 (x) Jan 2023 10:00:00 UT") == utc(2023, 1, 3, 10, 0));
    CHECK(date_of("03 Jan 2023 10:00:00 z") == utc(2023, 1, 3, 10, 0));
    CHECK(date_of("Tue, 3 Jan 103 10:00:00 +0000") == utc(2003, 1, 3, 10, 0));  // 3-digit
}

TEST_CASE("real-world variants", "[mime]") {
    CHECK(date_of("Tue Jan  3 10:00:00 2023") == utc(2023, 1, 3, 10, 0));  // asctime
    CHECK(date_of("Tue, 3 Jan 2023 10:00:00 GMT+0100") == utc(2023, 1, 3, 9, 0));
    CHECK(date_of("Tuesday, 03-Jan-2023 10:00:00 +01:00") == utc(2023, 1, 3, 9, 0));
    CHECK(date_of("Tue, 3 January 2023 10:00:00.123 +0000") == utc(2023, 1, 3, 10, 0));
    CHECK(date_of("Tue, 3 Jan 2023 10:00:00 CEST") == utc(2023, 1, 3, 8, 0));
}

TEST_CASE("missing or unknown zone is UTC with a warning", "[mime]") {
    auto h = with_date("Tue, 3 Jan 2023 10:00:00");
    CHECK(h.date == utc(2023, 1, 3, 10, 0));
    CHECK(has_warning(h, "no time zone"));
    auto u = with_date("Tue, 3 Jan 2023 10:00:00 XYZT");
    CHECK(u.date == utc(2023, 1, 3, 10, 0));
    CHECK(has_warning(u, "unknown time zone"));
}

TEST_CASE("impossible dates are rejected", "[mime]") {
    CHECK_FALSE(date_of("30 Feb 2023 10:00:00 +0000"));
    CHECK_FALSE(date_of("29 Feb 2023 10:00:00 +0000"));
    CHECK_FALSE(date_of("3 Jan 2023 25:00:00 +0000"));
    CHECK_FALSE(date_of("3 Jan 2023 10:60:00 +0000"));
    CHECK_FALSE(date_of("3 Jan 2023 +0000"));
    CHECK_FALSE(date_of("3 Foo 2023 10:00:00 +0000"));
    CHECK_FALSE(date_of("3 Jan 2023 10:00:00 +9960"));
    CHECK_FALSE(date_of(""));
    CHECK_FALSE(date_of("99999999999999999999 Jan 2023 10:00:00"));
    auto h = with_date("not a date");
    CHECK(has_warning(h, "Date: unparsable \"not a date\""));
}

#include <catch2/catch.hpp>

#include "rapport/time.hpp"

using namespace rapport;

TEST_CASE("ISO 8601 durations", "[time]") {
    CHECK(parse_duration("PT5M") == Seconds{300});
    CHECK(parse_duration("P14D") == Seconds{14 * 86400});
    CHECK(parse_duration("P1DT12H") == Seconds{36 * 3600});
    CHECK(parse_duration("PT2S") == Seconds{2});
    CHECK(parse_duration("P2W") == Seconds{14 * 86400});
    CHECK(parse_duration("PT1H30M") == Seconds{5400});
    for (const char* bad : {"", "P", "PT", "5M", "PT5", "P1M", "P1Y", "PT5M3H", "P1DT", "PT-5M",
                            "P99999999999D", "pt5m", "PT5M "})
        CHECK_FALSE(parse_duration(bad).has_value());
    CHECK(format_duration(Seconds{36 * 3600 + 61}) == "P1DT12H1M1S");
}

TEST_CASE("dates and date-times", "[time]") {
    REQUIRE(parse_date("2026-12-01"));
    CHECK(format_date(*parse_date("2026-12-01")) == "2026-12-01");
    CHECK(parse_date("2024-02-29"));
    CHECK_FALSE(parse_date("2026-02-29"));
    CHECK_FALSE(parse_date("2026-13-01"));
    CHECK_FALSE(parse_date("26-12-01"));
    auto t = parse_datetime("2026-12-01T10:30:00+01:00");
    REQUIRE(t);
    CHECK(format_datetime(*t) == "2026-12-01T09:30:00Z");
    CHECK(format_datetime(*parse_datetime("1969-12-31T23:59:59Z")) == "1969-12-31T23:59:59Z");
    CHECK_FALSE(parse_datetime("2026-12-01T10:30:00"));  // no zone: ambiguous
}

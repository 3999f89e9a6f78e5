// Inputs producers really send that fall between the main cases: several calendars in one
// text, date-valued RECURRENCE-IDs, stray END lines (libical would print them), threads.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "calendar_test_support.hpp"

using namespace rapport::calendar;
using namespace rapport::calendar::test;

namespace {
const auto kFrom = utc("2026-11-01T00:00:00Z");
const auto kTo = utc("2026-12-01T00:00:00Z");

// Runs fn with the process's stderr going to a file, and returns what was written there.
template <typename Fn>
std::string captured_stderr(Fn fn) {
    rapport::test::TempDir dir;
    std::fflush(stderr);
    const int saved = dup(2);
    FILE* sink = std::fopen((dir / "stderr").c_str(), "w");
    dup2(fileno(sink), 2);
    fn();
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::fclose(sink);
    return rapport::test::read_file(dir / "stderr");
}
}  // namespace

TEST_CASE("several VCALENDARs in one text are all read", "[calendar]") {
    const std::string text =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:one\r\nDTSTART:20261102T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nUID:two\r\nDTSTART:20261103T090000Z\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    auto r = expand_calendar(text, kFrom, kTo);
    CHECK(r.error.empty());
    REQUIRE(r.occurrences.size() == 2);
    CHECK_FALSE(r.occurrences[0].cancelled);
    CHECK(r.occurrences[1].cancelled);  // METHOD:CANCEL applies to its own calendar only
}

TEST_CASE("a date-valued RECURRENCE-ID replaces that day's occurrence", "[calendar]") {
    const std::string text =
        "BEGIN:VCALENDAR\r\n"
        "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;TZID=Europe/Berlin:20261102T090000\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:d\r\nRECURRENCE-ID;VALUE=DATE:20261103\r\nDTSTART;TZID=Europe/Berlin:20261103T150000\r\n"
        "DURATION:PT1H\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:d\r\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261104T090000\r\n"
        "DTSTART;TZID=Europe/Berlin:20261104T100000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    auto r = expand_calendar(text, kFrom, kTo);
    REQUIRE(r.occurrences.size() == 3);
    CHECK(iso(r.occurrences[0].start) == "2026-11-02T08:00:00Z");
    CHECK(iso(r.occurrences[1].start) == "2026-11-03T14:00:00Z");
    CHECK(iso(r.occurrences[2].start) == "2026-11-04T09:00:00Z");
    CHECK(iso(r.occurrences[2].recurrence_id) == "2026-11-04T08:00:00Z");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "event UID d: RANGE=THISANDFUTURE applied to one occurrence only");
}

TEST_CASE("stray END lines do not reach stderr", "[calendar]") {
    const std::string text = "END:VEVENT\r\nEND :VCALENDAR\r\nBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:s\r\n"
                             "DTSTART:20261102T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nEND;X=1:VCALENDAR\r\n";
    CalendarParseResult r;
    const std::string noise = captured_stderr([&] { r = expand_calendar(text, kFrom, kTo); });
    CHECK(noise.empty());
    CHECK(r.occurrences.size() == 1);
}

TEST_CASE("expansion runs from several threads at once", "[calendar]") {
    const std::string text = ical_file("weekly_moved_cancelled.ics");
    std::vector<std::size_t> counts(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < counts.size(); ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) counts[t] = expand_calendar(text, kFrom, utc("2026-12-15T00:00:00Z")).occurrences.size();
        });
    for (auto& th : threads) th.join();
    for (auto n : counts) CHECK(n == 4);
}

TEST_CASE("an empty or reversed window gives no occurrences", "[calendar]") {
    const std::string text = ical_file("weekly_moved_cancelled.ics");
    auto r = expand_calendar(text, kTo, kFrom);
    CHECK(r.occurrences.empty());
    CHECK(r.events == 1);
}

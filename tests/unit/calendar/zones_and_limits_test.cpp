// Time zone fallbacks (floating, unknown TZIDs, default zone) and the limits that keep hostile
// calendars bounded in time and memory.
#include <catch2/catch.hpp>

#include <chrono>

#include "calendar_test_support.hpp"

using namespace rapport::calendar;
using namespace rapport::calendar::test;

namespace {
std::string calendar(const std::string& events) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + events + "END:VCALENDAR\r\n";
}
std::string event(const std::string& uid, const std::string& body) {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\n" + body + "END:VEVENT\r\n";
}
CalendarParseResult expand(const std::string& text, const std::string& from, const std::string& to,
                           const ExpandLimits& limits = {}, const std::string& tz = "UTC") {
    return expand_calendar(text, utc(from), utc(to), limits, tz);
}
}  // namespace

TEST_CASE("floating times are read in the default zone", "[calendar]") {
    const auto text = calendar(event("f", "DTSTART:20261102T090000\r\nDTEND:20261102T100000\r\n"));
    auto berlin = expand(text, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", {}, "Europe/Berlin");
    REQUIRE(berlin.occurrences.size() == 1);
    CHECK(iso(berlin.occurrences[0].start) == "2026-11-02T08:00:00Z");
    CHECK(berlin.occurrences[0].floating);
    auto utc_default = expand(text, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
    REQUIRE(utc_default.occurrences.size() == 1);
    CHECK(iso(utc_default.occurrences[0].start) == "2026-11-02T09:00:00Z");
}

TEST_CASE("an unknown TZID is read in the default zone with one warning", "[calendar]") {
    const auto text = calendar(event("u1", "DTSTART;TZID=Mars/Olympus_Mons:20261102T090000\r\n") +
                               event("u2", "DTSTART;TZID=Mars/Olympus_Mons:20261103T090000\r\n"));
    auto r = expand(text, "2026-11-01T00:00:00Z", "2026-11-05T00:00:00Z", {}, "Europe/Berlin");
    CHECK(r.skipped.empty());
    REQUIRE(r.occurrences.size() == 2);
    CHECK(iso(r.occurrences[0].start) == "2026-11-02T08:00:00Z");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0] == "TZID 'Mars/Olympus_Mons' not known; times read in Europe/Berlin");
}

TEST_CASE("TZIDs that look like paths are never opened as files", "[calendar]") {
    const auto text = calendar(event("p", "DTSTART;TZID=../../../../etc/passwd:20261102T090000\r\n"));
    auto r = expand(text, "2026-11-01T00:00:00Z", "2026-11-05T00:00:00Z");
    REQUIRE(r.occurrences.size() == 1);
    CHECK(iso(r.occurrences[0].start) == "2026-11-02T09:00:00Z");
    CHECK(r.warnings.size() == 1);
}

TEST_CASE("zone names from other producers", "[calendar]") {
    struct Case {
        const char* tzid;
        const char* expected;  // 2026-07-01 12:00 local
    };
    const Case cases[] = {
        {"Europe/Berlin", "2026-07-01T10:00:00Z"},
        {"/mozilla.org/20050126_1/Europe/Berlin", "2026-07-01T10:00:00Z"},
        {"/freeassociation.sourceforge.net/Europe/Berlin", "2026-07-01T10:00:00Z"},
        {"W. Europe Standard Time", "2026-07-01T10:00:00Z"},
        {"Eastern Standard Time", "2026-07-01T16:00:00Z"},
        {"India Standard Time", "2026-07-01T06:30:00Z"},
        {"Asia/Calcutta", "2026-07-01T06:30:00Z"},
        {"UTC", "2026-07-01T12:00:00Z"},
        {"Etc/GMT-3", "2026-07-01T09:00:00Z"},
        {"(UTC-05:00) Eastern Time (US & Canada)", "2026-07-01T16:00:00Z"},
        {"(UTC+05:45) Kathmandu", "2026-07-01T06:15:00Z"},
    };
    for (const auto& c : cases) {
        INFO(c.tzid);
        const auto text = calendar(event("z", std::string("DTSTART;TZID=\"") + c.tzid + "\":20260701T120000\r\n"));
        auto r = expand(text, "2026-06-01T00:00:00Z", "2026-08-01T00:00:00Z", {}, "Asia/Tokyo");
        REQUIRE(r.occurrences.size() == 1);
        CHECK(iso(r.occurrences[0].start) == c.expected);
        CHECK_FALSE(r.occurrences[0].floating);
    }
}

TEST_CASE("an unknown default zone falls back to UTC with a warning", "[calendar]") {
    const auto text = calendar(event("f", "DTSTART:20261102T090000\r\n"));
    auto r = expand(text, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", {}, "Nowhere/Special");
    REQUIRE(r.occurrences.size() == 1);
    CHECK(iso(r.occurrences[0].start) == "2026-11-02T09:00:00Z");
    REQUIRE(r.warnings.size() == 1);
}

TEST_CASE("input that is too large or not a calendar is refused with a clear error", "[calendar]") {
    ExpandLimits limits;
    limits.max_input_bytes = 1000;
    auto big = expand(std::string(1001, 'x'), "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", limits);
    CHECK(big.error == "calendar too large: 1001 bytes (limit 1000)");
    CHECK(big.occurrences.empty());
    auto html = expand("<html><body>502 Bad Gateway</body></html>", "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
    CHECK(html.error == "not an iCalendar document (no VCALENDAR)");
    auto empty = expand("", "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
    CHECK_FALSE(empty.error.empty());
    auto no_events = expand(calendar(""), "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
    CHECK(no_events.error.empty());
    CHECK(no_events.events == 0);
}

TEST_CASE("absurd recurrences stay bounded in time and memory", "[calendar]") {
    const auto started = std::chrono::steady_clock::now();
    SECTION("FREQ=SECONDLY over a month-long window") {
        auto r = expand(calendar(event("s", "DTSTART:20200101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n")),
                        "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        CHECK(r.occurrences.size() == ExpandLimits{}.max_occurrences_per_event);
        CHECK(iso(r.occurrences.front().start) == "2026-11-01T00:00:00Z");
        REQUIRE(r.warnings.size() == 1);
        CHECK(r.warnings[0].find("more than 10000 occurrences") != std::string::npos);
    }
    SECTION("COUNT=1000000000 hourly from long ago") {
        auto r = expand(calendar(event("c", "DTSTART:20000101T090000Z\r\nRRULE:FREQ=HOURLY;COUNT=1000000000\r\n")),
                        "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        CHECK(r.occurrences.empty());  // 233,000 steps away: the iteration cap stops it first
        REQUIRE(r.warnings.size() == 1);
        CHECK(r.warnings[0].find("recurrence stopped after") != std::string::npos);
    }
    SECTION("COUNT=1000000000 hourly starting in the window") {
        auto r = expand(calendar(event("c", "DTSTART:20261101T000000Z\r\nRRULE:FREQ=HOURLY;COUNT=1000000000\r\n")),
                        "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        CHECK(r.occurrences.size() == 7 * 24);
        CHECK(r.warnings.empty());
    }
    SECTION("a rule that never matches") {
        auto r = expand(calendar(event("n", "DTSTART:20200101T090000Z\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4\r\n")),
                        "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
        CHECK(r.occurrences.empty());
    }
    SECTION("many events") {
        std::string events;
        for (int i = 0; i < 30; ++i) events += event("e" + std::to_string(i), "DTSTART:20261102T090000Z\r\n");
        ExpandLimits limits;
        limits.max_events = 20;
        auto r = expand(calendar(events), "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", limits);
        CHECK(r.occurrences.size() == 20);
        REQUIRE(r.skipped.size() == 1);
        CHECK(r.skipped[0] == "calendar has more than 20 events; 10 ignored");
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("jumping to the window gives the same occurrences as walking from DTSTART", "[calendar]") {
    // With COUNT the expander must walk from DTSTART; without it jumps close to the window
    // (libical's set_start, which loses the phase of sub-daily rules with INTERVAL > 1).
    // MINUTELY;INTERVAL=90 runs in UTC: an instance inside the repeated hour of a DST change
    // is ambiguous, and libical's walk and a fresh start read it differently.
    const std::pair<const char*, const char*> rules[] = {
        {"FREQ=WEEKLY;INTERVAL=2", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=MONTHLY;BYDAY=-1FR", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=MONTHLY;INTERVAL=3", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=YEARLY;BYMONTH=11;BYDAY=1TU", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=DAILY;INTERVAL=5", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=HOURLY;INTERVAL=7", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=MINUTELY;INTERVAL=90", ":20230107T093000Z"},
        {"FREQ=HOURLY", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "TZID=Europe/Berlin:20230107T093000"},
        {"FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", "TZID=Europe/Berlin:20230107T093000"},
    };
    ExpandLimits limits;
    limits.max_iterations_per_event = 2'000'000;
    for (const auto& [rule, dtstart] : rules) {
        INFO(rule);
        const std::string separator = dtstart[0] == ':' ? "" : ";";
        const std::string body = "DTSTART" + separator + dtstart + "\r\nDURATION:PT30M\r\nRRULE:";
        auto jumped = expand(calendar(event("j", body + rule + "\r\n")), "2026-10-01T00:00:00Z",
                             "2026-11-10T00:00:00Z", limits);
        auto walked = expand(calendar(event("j", body + rule + ";COUNT=900000\r\n")), "2026-10-01T00:00:00Z",
                             "2026-11-10T00:00:00Z", limits);
        REQUIRE_FALSE(jumped.occurrences.empty());
        REQUIRE(jumped.occurrences.size() == walked.occurrences.size());
        for (std::size_t i = 0; i < jumped.occurrences.size(); ++i)
            CHECK(iso(jumped.occurrences[i].start) == iso(walked.occurrences[i].start));
    }
}

TEST_CASE("cancellations: whole event, METHOD:CANCEL", "[calendar]") {
    auto r = expand(calendar(event("x", "DTSTART:20261102T090000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSTATUS:CANCELLED\r\n")),
                    "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    REQUIRE(r.occurrences.size() == 3);
    for (const auto& o : r.occurrences) CHECK(o.cancelled);
    const std::string cancel = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\n" +
                               event("y", "DTSTART:20261102T090000Z\r\nSEQUENCE:2\r\n") + "END:VCALENDAR\r\n";
    auto c = expand(cancel, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    REQUIRE(c.occurrences.size() == 1);
    CHECK(c.occurrences[0].cancelled);
}

TEST_CASE("an override without its master and an event without UID are still used", "[calendar]") {
    const auto text = calendar(event("lonely", "RECURRENCE-ID:20261102T090000Z\r\nDTSTART:20261102T100000Z\r\n"
                                               "DTEND:20261102T110000Z\r\n") +
                               "BEGIN:VEVENT\r\nDTSTART:20261103T090000Z\r\nSUMMARY:no uid\r\nEND:VEVENT\r\n");
    auto a = expand(text, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    auto b = expand(text, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    REQUIRE(a.occurrences.size() == 2);
    CHECK(iso(a.occurrences[0].recurrence_id) == "2026-11-02T09:00:00Z");
    CHECK(iso(a.occurrences[0].start) == "2026-11-02T10:00:00Z");
    CHECK(a.occurrences[1].uid.rfind("rapport-nouid-", 0) == 0);
    CHECK(a.occurrences[1].uid == b.occurrences[1].uid);
}

TEST_CASE("runaway rules in many events share one step budget for the whole calendar", "[calendar]") {
    std::string events;
    for (int i = 0; i < 20; ++i)
        events += event("s" + std::to_string(i), "DTSTART:20261028T000000Z\r\nRRULE:FREQ=SECONDLY;COUNT=1000000000\r\n");
    ExpandLimits limits;
    limits.max_iterations_per_event = 1000;
    limits.max_iterations = 5500;  // five events and a half
    auto r = expand(calendar(events), "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", limits);
    CHECK(r.error.empty());
    CHECK(r.events == 20);
    CHECK(r.limit.find(": recurrence stopped after 1000 steps") != std::string::npos);  // the first event's
    std::size_t budget_cuts = 0;
    for (const auto& w : r.warnings) budget_cuts += w.find("more than 5500 steps together") != std::string::npos;
    CHECK(budget_cuts == 15);  // the sixth event ran out, and the fourteen after it had nothing left

    SECTION("one runaway event alone is cut by the per-event limit, and reported in limit") {
        auto one = expand(calendar(event("s", "DTSTART:20261028T000000Z\r\nRRULE:FREQ=SECONDLY;COUNT=1000000000\r\n")),
                          "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", limits);
        CHECK(one.limit == "event UID s: recurrence stopped after 1000 steps; the rest of the series is ignored "
                           "(check its RRULE)");
    }
    SECTION("a calendar without runaway rules has no limit") {
        auto fine = expand(calendar(event("w", "DTSTART:20261002T090000Z\r\nRRULE:FREQ=WEEKLY\r\n")),
                           "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", limits);
        CHECK(fine.limit.empty());
        CHECK(fine.occurrences.size() == 1);
    }
}

TEST_CASE("a deadline stops expansion, and parsing, of a calendar", "[calendar]") {
    ExpandLimits past;
    past.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    SECTION("expansion keeps what it found and says why it stopped") {
        auto r = expand(calendar(event("s", "DTSTART:20261101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n")),
                        "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", past);
        CHECK(r.error.empty());
        CHECK(r.limit.find("time limit") != std::string::npos);
        // Checked every 256 steps: the instances of the steps made until then are kept.
        CHECK(r.occurrences.size() > 0);
        CHECK(r.occurrences.size() <= 257);
    }
    SECTION("parsing a long text refuses it as a whole") {
        std::string events;
        for (int i = 0; i < 2000; ++i) events += event("e" + std::to_string(i), "DTSTART:20261102T090000Z\r\n");
        auto r = expand(calendar(events), "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", past);
        CHECK(r.error.find("parsing it ran past the time limit") != std::string::npos);
        CHECK(r.occurrences.empty());
        CHECK(r.events == 0);
    }
    SECTION("a deadline not reached changes nothing") {
        ExpandLimits future;
        future.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
        auto r = expand(calendar(event("w", "DTSTART:20261002T090000Z\r\nRRULE:FREQ=DAILY\r\n")),
                        "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", future);
        CHECK(r.limit.empty());
        CHECK(r.occurrences.size() == 7);
    }
}

TEST_CASE("10 MB without a line break is refused quickly", "[calendar]") {
    // libical's own string reader looks for the line end over the whole rest of the text for
    // every 80-byte piece: minutes for this.
    std::string junk;
    while (junk.size() < 10'000'000) junk += "Xq7:;=,jUnK~";
    junk.resize(10'000'000);
    const auto started = std::chrono::steady_clock::now();
    auto r = expand(junk, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    CHECK(r.error == "not an iCalendar document (no VCALENDAR)");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    // The same junk as one long property value inside a real calendar is read, not refused.
    auto inside = expand(calendar(event("long", "DTSTART:20261102T090000Z\r\nDESCRIPTION:" + junk + "\r\n")),
                         "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z");
    CHECK(inside.error.empty());
    REQUIRE(inside.occurrences.size() == 1);
    CHECK(inside.occurrences[0].description.size() == kMaxDescription);
}

TEST_CASE("zones defined in calendars are shared only between identical definitions", "[calendar]") {
    // One TZID, two definitions, read in turn: each calendar gets its own offset every time.
    auto zone = [](const std::string& offset) {
        return "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:" + offset +
               "\r\nTZOFFSETTO:" + offset + "\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
    };
    const std::string body = event("z", "DTSTART;TZID=Custom:20261102T090000\r\n");
    const std::string plus_one = calendar(zone("+0100") + body), plus_five = calendar(zone("+0500") + body);
    for (int round = 0; round < 2; ++round) {
        auto one = expand(plus_one, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
        auto five = expand(plus_five, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z");
        REQUIRE(one.occurrences.size() == 1);
        REQUIRE(five.occurrences.size() == 1);
        CHECK(iso(one.occurrences[0].start) == "2026-11-02T08:00:00Z");
        CHECK(iso(five.occurrences[0].start) == "2026-11-02T04:00:00Z");
    }
}

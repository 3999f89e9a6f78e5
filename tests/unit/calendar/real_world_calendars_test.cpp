// Calendars as Outlook/Exchange, Google and CalDAV clients write them, expanded to exact UTC
// instants.
#include <catch2/catch.hpp>

#include "calendar_test_support.hpp"

using namespace rapport::calendar;
using namespace rapport::calendar::test;

namespace {
void check(const Occurrence& o, const std::string& start, const std::string& end) {
    INFO(o.uid << " " << iso(o.start) << " – " << iso(o.end));
    CHECK(iso(o.start) == start);
    CHECK(iso(o.end) == end);
}
}  // namespace

TEST_CASE("Outlook invitation with Windows zone names and no VTIMEZONE", "[calendar]") {
    auto r = expand_file("outlook_windows_tzid.ics", "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    CHECK(r.warnings.empty());
    CHECK(r.events == 3);
    REQUIRE(r.occurrences.size() == 3);

    auto pacific = of_uid(r, "outlook-pacific-1");
    REQUIRE(pacific.size() == 1);
    check(pacific[0], "2026-10-30T16:00:00Z", "2026-10-30T16:30:00Z");  // PDT, before Nov 1

    const std::string uid = "040000008200E00074C5B7101A82E00800000000B0C3A1E0D94DDC01000000000000000"
                            "010000000A1B2C3D4E5F60718293A4B5C6D7E8F90";
    auto review = of_uid(r, uid);
    REQUIRE(review.size() == 1);
    const Occurrence& o = review[0];
    check(o, "2026-11-03T13:00:00Z", "2026-11-03T14:00:00Z");  // 14:00 CET
    CHECK(o.recurrence_id == o.start);
    CHECK_FALSE(o.floating);
    CHECK_FALSE(o.all_day);
    CHECK_FALSE(o.cancelled);
    CHECK(o.sequence == 2);
    CHECK(o.summary == "Quartalsgespräch Customer GmbH");
    CHECK(o.organizer.address == "Anna.Berger@Example-Sales.COM");  // MAILTO: gone, case kept
    CHECK(o.organizer.name == "Anna Berger");
    REQUIRE(o.attendees.size() == 3);
    CHECK(o.attendees[0].address == "J.Mueller@Customer.DE");
    CHECK(o.attendees[0].name == "Müller, Jonas");
    CHECK(o.attendees[0].partstat == "NEEDS-ACTION");
    CHECK(o.attendees[0].role == "REQ-PARTICIPANT");
    CHECK(o.attendees[1].address == "lee.chen@customer.de");
    CHECK(o.attendees[1].partstat == "ACCEPTED");
    CHECK(o.attendees[1].role == "OPT-PARTICIPANT");
    CHECK(o.attendees[2].address == "room-berlin-3@example-sales.com");  // folded line
    CHECK(o.attendees[2].partstat == "TENTATIVE");

    auto display = of_uid(r, "outlook-display-name-1");
    REQUIRE(display.size() == 1);
    check(display[0], "2026-11-04T09:00:00Z", "2026-11-04T10:00:00Z");
}

TEST_CASE("Outlook series in a custom VTIMEZONE crosses the DST change", "[calendar]") {
    auto r = expand_file("outlook_custom_vtimezone.ics", "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    CHECK(r.warnings.empty());
    const std::string uid = "040000008200E00074C5B7101A82E0080000000010F0E7E1D94DDC01000000000000000"
                            "0100000002F4E5D6C7B8A99887766554433221100";
    auto series = of_uid(r, uid);
    REQUIRE(series.size() == 3);
    check(series[0], "2026-10-20T08:00:00Z", "2026-10-20T08:30:00Z");  // +02:00
    check(series[1], "2026-10-27T09:00:00Z", "2026-10-27T09:30:00Z");  // +01:00
    check(series[2], "2026-11-03T09:00:00Z", "2026-11-03T09:30:00Z");
    for (const auto& o : series) CHECK(o.recurrence_id == o.start);
    CHECK(series[0].attendees.at(0).address == "j.mueller@customer.de");

    // The file's own "Pacific Standard Time" definition is used (PST after Nov 1).
    auto pst = of_uid(r, "outlook-pst-defined");
    REQUIRE(pst.size() == 1);
    check(pst[0], "2026-11-02T17:00:00Z", "2026-11-02T18:00:00Z");
}

TEST_CASE("Google export: series with a moved occurrence, UTC and all-day events", "[calendar]") {
    auto r = expand_file("google_export.ics", "2026-10-26T00:00:00Z", "2026-11-30T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    CHECK(r.events == 3);
    auto weekly = of_uid(r, "5k2j3h4g5f6d7s8a9q0w1e2r3t@google.com");
    REQUIRE(weekly.size() == 5);
    check(weekly[0], "2026-10-28T15:00:00Z", "2026-10-28T16:00:00Z");  // EDT
    // 2026-11-04 moved to Thursday 14:00 EST; identity stays the original start.
    check(weekly[1], "2026-11-05T19:00:00Z", "2026-11-05T20:00:00Z");
    CHECK(iso(weekly[1].recurrence_id) == "2026-11-04T16:00:00Z");
    CHECK(weekly[1].summary == "Acme weekly (moved to Thursday)");
    CHECK(weekly[1].sequence == 1);
    REQUIRE(weekly[1].attendees.size() == 1);
    CHECK(weekly[1].attendees[0].partstat == "DECLINED");
    check(weekly[2], "2026-11-11T16:00:00Z", "2026-11-11T17:00:00Z");  // EST
    check(weekly[3], "2026-11-18T16:00:00Z", "2026-11-18T17:00:00Z");
    check(weekly[4], "2026-11-25T16:00:00Z", "2026-11-25T17:00:00Z");
    CHECK(weekly[0].attendees.size() == 2);
    CHECK(weekly[0].attendees[0].address == "pat.kim@acme.example");

    auto utc_call = of_uid(r, "0a9s8d7f6g5h4j3k2l1@google.com");
    REQUIRE(utc_call.size() == 1);
    check(utc_call[0], "2026-11-06T15:00:00Z", "2026-11-06T15:30:00Z");
    CHECK_FALSE(utc_call[0].floating);

    auto holiday = of_uid(r, "thanksgiving-2026@google.com");
    REQUIRE(holiday.size() == 1);
    check(holiday[0], "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z");
    CHECK(holiday[0].all_day);
}

TEST_CASE("weekly series with one moved, one cancelled and one excluded occurrence", "[calendar]") {
    auto r = expand_file("weekly_moved_cancelled.ics", "2026-11-01T00:00:00Z", "2026-12-15T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    CHECK(r.events == 1);
    const auto& os = r.occurrences;
    REQUIRE(os.size() == 4);
    check(os[0], "2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z");
    CHECK_FALSE(os[0].cancelled);
    CHECK(os[0].sequence == 3);

    check(os[1], "2026-11-10T10:00:00Z", "2026-11-10T10:30:00Z");  // moved, not also generated
    CHECK(iso(os[1].recurrence_id) == "2026-11-09T08:00:00Z");
    CHECK(os[1].summary == "Weekly with Customer (moved)");
    // The override lists no people; the master's are used.
    CHECK(os[1].organizer.address == "anna.berger@example-sales.com");
    REQUIRE(os[1].attendees.size() == 1);

    check(os[2], "2026-11-16T08:00:00Z", "2026-11-16T09:00:00Z");
    CHECK(os[2].cancelled);
    CHECK(iso(os[2].recurrence_id) == "2026-11-16T08:00:00Z");

    // 2026-11-23 is an EXDATE; UNTIL=20261130T080000Z includes the 30th.
    check(os[3], "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");

    SECTION("a window holding only the original slot of the moved occurrence shows nothing") {
        auto r2 = expand_file("weekly_moved_cancelled.ics", "2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z");
        CHECK(r2.occurrences.empty());
    }
    SECTION("a window holding only the moved slot shows it") {
        auto r2 = expand_file("weekly_moved_cancelled.ics", "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z");
        REQUIRE(r2.occurrences.size() == 1);
        CHECK(iso(r2.occurrences[0].recurrence_id) == "2026-11-09T08:00:00Z");
    }
}

TEST_CASE("identity is stable across re-reads and windows", "[calendar]") {
    auto a = expand_file("weekly_moved_cancelled.ics", "2026-11-01T00:00:00Z", "2026-12-15T00:00:00Z");
    auto b = expand_file("weekly_moved_cancelled.ics", "2026-11-08T00:00:00Z", "2026-12-15T00:00:00Z");
    REQUIRE(a.occurrences.size() == 4);
    REQUIRE(b.occurrences.size() == 3);
    for (std::size_t i = 0; i < b.occurrences.size(); ++i) {
        CHECK(b.occurrences[i].uid == a.occurrences[i + 1].uid);
        CHECK(b.occurrences[i].recurrence_id == a.occurrences[i + 1].recurrence_id);
        CHECK(b.occurrences[i].start == a.occurrences[i + 1].start);
    }
}

TEST_CASE("all-day events are midnight to midnight in the default zone", "[calendar]") {
    auto r = expand_file("all_day.ics", "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z", "Europe/Berlin");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    REQUIRE(r.occurrences.size() == 4);
    for (const auto& o : r.occurrences) {
        CHECK(o.all_day);
        CHECK(o.floating);
    }
    check(of_uid(r, "allday-duration").at(0), "2026-11-09T23:00:00Z", "2026-11-11T23:00:00Z");
    auto birthday = of_uid(r, "allday-yearly");
    REQUIRE(birthday.size() == 1);
    check(birthday[0], "2026-11-11T23:00:00Z", "2026-11-12T23:00:00Z");
    CHECK(birthday[0].recurrence_id == birthday[0].start);
    check(of_uid(r, "allday-single").at(0), "2026-12-23T23:00:00Z", "2026-12-24T23:00:00Z");
    check(of_uid(r, "allday-multi").at(0), "2026-12-27T23:00:00Z", "2026-12-30T23:00:00Z");
}

TEST_CASE("DST transitions in Europe/Berlin", "[calendar]") {
    auto r = expand_file("dst_berlin.ics", "2026-03-01T00:00:00Z", "2026-12-01T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    auto weekly = of_uid(r, "dst-weekly");
    REQUIRE(weekly.size() == 4);
    check(weekly[0], "2026-10-12T07:00:00Z", "2026-10-12T08:00:00Z");
    check(weekly[1], "2026-10-19T07:00:00Z", "2026-10-19T08:00:00Z");
    check(weekly[2], "2026-10-26T08:00:00Z", "2026-10-26T09:00:00Z");  // after 2026-10-25
    check(weekly[3], "2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z");
    // 01:30 CEST to 03:30 CET is three hours, not two.
    check(of_uid(r, "dst-across-autumn").at(0), "2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z");
    // 01:30 CET to 03:30 CEST is one hour.
    check(of_uid(r, "dst-across-spring").at(0), "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z");
    // DURATION:P1D is a nominal day: same wall-clock time the next day, 25 hours here.
    check(of_uid(r, "dst-nominal-day").at(0), "2026-10-24T10:00:00Z", "2026-10-25T11:00:00Z");
}

TEST_CASE("one malformed event is skipped with a reason, the rest are used", "[calendar]") {
    auto r = expand_file("malformed_mix.ics", "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.events == 2);
    REQUIRE(r.occurrences.size() == 2);
    check(r.occurrences[0], "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z");
    check(r.occurrences[1], "2026-11-04T09:00:00Z", "2026-11-04T09:45:00Z");
    REQUIRE(r.skipped.size() == 3);
    CHECK(r.skipped[0] == "event UID no-start: DTSTART missing");
    CHECK(r.skipped[1].rfind("event UID bad-start: DTSTART malformed", 0) == 0);
    CHECK(r.skipped[2].rfind("event UID bad-rule: RRULE", 0) == 0);
}

TEST_CASE("RDATE with a TZID is read in that zone", "[calendar]") {
    auto r = expand_file("rdate_tzid.ics", "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z");
    REQUIRE(r.error.empty());
    CHECK(r.skipped.empty());
    const auto& os = r.occurrences;
    REQUIRE(os.size() == 3);
    check(os[0], "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z");
    check(os[1], "2026-11-05T14:00:00Z", "2026-11-05T15:00:00Z");  // 15:00 CET, not 15:00Z
    check(os[2], "2026-11-12T12:00:00Z", "2026-11-12T12:30:00Z");  // PERIOD keeps its own end
    CHECK(os[1].recurrence_id == os[1].start);
}

// file: calendars: one file or a folder, re-read only when something changed.
#include <catch2/catch.hpp>

#include <filesystem>

#include "calendar/calendar_source.hpp"
#include "calendar_test_support.hpp"

using namespace rapport::calendar;
using namespace rapport::calendar::test;
namespace fs = std::filesystem;

namespace {
std::string one_event(const std::string& uid, const std::string& start) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTART:" + start +
           "\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
}
void touch_later(const std::string& path, int seconds) {
    fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(seconds));
}
}  // namespace

TEST_CASE("a folder of .ics files is re-read when a file changes, comes or goes", "[calendar]") {
    rapport::test::TempDir dir;
    rapport::test::write_file(dir / "cal/a.ics", one_event("a", "20261102T090000Z"));
    rapport::test::write_file(dir / "cal/b.ICS", one_event("b", "20261103T090000Z"));
    rapport::test::write_file(dir / "cal/notes.txt", "not a calendar");
    SourceSettings settings;
    settings.url = "file:cal";
    settings.base_dir = dir.path();
    std::string error;
    auto source = open_calendar_source(settings, error);
    REQUIRE(source);
    const auto from = utc("2026-11-01T00:00:00Z"), to = utc("2026-12-01T00:00:00Z");

    auto first = source->fetch(from, to);
    REQUIRE(first.state == FetchResult::State::changed);
    REQUIRE(first.documents.size() == 2);
    auto expanded = expand_documents(first.documents, from, to);
    CHECK(expanded.events == 2);
    REQUIRE(expanded.occurrences.size() == 2);
    CHECK(expanded.occurrences[0].uid == "a");

    CHECK(source->fetch(from, to).state == FetchResult::State::unchanged);

    rapport::test::write_file(dir / "cal/a.ics", one_event("a", "20261104T090000Z"));
    touch_later(dir / "cal/a.ics", 5);
    auto changed = source->fetch(from, to);
    REQUIRE(changed.state == FetchResult::State::changed);
    CHECK(iso(expand_documents(changed.documents, from, to).occurrences[0].start) == "2026-11-03T09:00:00Z");

    fs::remove(dir / "cal/b.ICS");
    auto removed = source->fetch(from, to);
    REQUIRE(removed.state == FetchResult::State::changed);
    CHECK(removed.documents.size() == 1);
}

TEST_CASE("a missing calendar file is a clear error", "[calendar]") {
    rapport::test::TempDir dir;
    SourceSettings settings;
    settings.url = "file:missing.ics";
    settings.base_dir = dir.path();
    std::string error;
    auto source = open_calendar_source(settings, error);
    REQUIRE(source);
    auto r = source->fetch(utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    CHECK(r.state == FetchResult::State::failed);
    CHECK(r.error.find("missing.ics") != std::string::npos);
}

TEST_CASE("documents are merged: one occurrence per identity, messages name the document", "[calendar]") {
    std::vector<CalendarDocument> docs = {
        {"one.ics", one_event("same", "20261102T090000Z")},
        {"two.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:same\r\nSEQUENCE:2\r\nSUMMARY:newer\r\n"
                    "DTSTART:20261102T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"},
        {"three.ics", "not a calendar"},
        {"four.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"},
    };
    auto r = expand_documents(docs, utc("2026-11-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    CHECK(r.error.empty());
    REQUIRE(r.occurrences.size() == 1);
    CHECK(r.occurrences[0].summary == "newer");
    REQUIRE(r.skipped.size() == 2);
    CHECK(r.skipped[0] == "three.ics: not an iCalendar document (no VCALENDAR)");
    CHECK(r.skipped[1] == "four.ics: event UID x: DTSTART missing");
}

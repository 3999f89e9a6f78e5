// How long expanding a large calendar takes, against just parsing it with libical.
// 2,000 events (a third recurring, several zone styles, overrides), window 7 days back and
// 30 days ahead. Prints median times of several runs, their ratio and peak RSS.
#include <libical/ical.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "calendar/expand_calendar.hpp"

using namespace rapport::calendar;

namespace {

const char* kCustomZone =
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

std::string two(int v) {
    char b[8];
    std::snprintf(b, sizeof b, "%02d", v);
    return b;
}

std::string make_calendar(int events) {
    std::mt19937 rng(42);
    const char* zones[] = {"TZID=Europe/Berlin", "TZID=America/New_York", "TZID=W. Europe Standard Time",
                           "TZID=Pacific Standard Time", "TZID=Customized Time Zone", "TZID=Asia/Tokyo",
                           "", /* floating */ "Z" /* UTC */};
    const char* rules[] = {"FREQ=WEEKLY", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
                           "FREQ=MONTHLY;BYDAY=1MO", "FREQ=WEEKLY;COUNT=52", "FREQ=DAILY;UNTIL=20270101T000000Z"};
    std::string text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rapport bench//EN\r\n";
    text += kCustomZone;
    for (int i = 0; i < events; ++i) {
        const bool recurring = i % 3 == 0;
        // Single events spread over 2026-09-01..2026-12-31; series started up to 3 years ago.
        const int year = recurring ? 2023 + static_cast<int>(rng() % 4) : 2026;
        const int month = recurring ? 1 + static_cast<int>(rng() % 12) : 9 + static_cast<int>(rng() % 4);
        const int day = 1 + static_cast<int>(rng() % 28);
        const int hour = 7 + static_cast<int>(rng() % 11);
        const std::string zone = zones[rng() % 8];
        const std::string stamp = std::to_string(year) + two(month) + two(day) + "T" + two(hour) + "0000";
        auto when = [&](const char* name, const std::string& value) {
            if (zone == "Z") return std::string(name) + ":" + value + "Z\r\n";
            if (zone.empty()) return std::string(name) + ":" + value + "\r\n";
            return std::string(name) + ";" + zone + ":" + value + "\r\n";
        };
        const std::string uid = "bench-" + std::to_string(i) + "@example.com";
        text += "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Meeting " +
                std::to_string(i) + "\r\n";
        text += when("DTSTART", stamp);
        text += when("DTEND", std::to_string(year) + two(month) + two(day) + "T" + two(hour + 1) + "0000");
        if (recurring) text += std::string("RRULE:") + rules[rng() % 6] + "\r\n";
        text += "ORGANIZER;CN=Owner " + std::to_string(i % 17) + ":mailto:owner" + std::to_string(i % 17) +
                "@example-sales.com\r\n";
        const int attendees = 2 + static_cast<int>(rng() % 4);
        for (int a = 0; a < attendees; ++a)
            text += "ATTENDEE;CN=Person " + std::to_string(a) + ";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:MAILTO:p" +
                    std::to_string(a) + "." + std::to_string(i) + "@customer" + std::to_string(i % 50) + ".com\r\n";
        text += "END:VEVENT\r\n";
        if (recurring && i % 9 == 0) {  // a moved occurrence in each third series
            text += "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Moved\r\n";
            text += when("RECURRENCE-ID", "20261125T" + two(hour) + "0000");
            text += when("DTSTART", "20261126T" + two(hour) + "0000");
            text += when("DTEND", "20261126T" + two(hour + 1) + "0000");
            text += "END:VEVENT\r\n";
        }
    }
    text += "END:VCALENDAR\r\n";
    return text;
}

double median_ms(int runs, const std::function<void()>& work) {
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        work();
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

int main() {
    const int kEvents = 2000;
    const int kRuns = 5;
    const int kRounds = 7;
    const std::string text = make_calendar(kEvents);
    const sys_seconds now(std::chrono::seconds(1795651200));  // 2026-11-25T00:00:00Z
    const sys_seconds from = now - std::chrono::hours(24 * 7);
    const sys_seconds to = now + std::chrono::hours(24 * 30);
    const long rss_start = peak_rss_kib();

    const double parse_ms = median_ms(kRuns, [&] {
        icalcomponent* root = icalparser_parse_string(text.c_str());
        icalcomponent_free(root);
    });
    const long rss_after_parse = peak_rss_kib();
    // The first expansion loads libical's builtin zones from the system tzdata and works out the
    // calendar's own VTIMEZONE (both kept for the process: the daemon expands each calendar
    // again on every poll); that one-off cost is shown apart from the steady-state median.
    const double first_ms = median_ms(1, [&] { (void)expand_calendar(text, from, to); });

    std::size_t occurrences = 0, skipped = 0, warnings = 0;
    int events = 0;
    const double expand_ms = median_ms(kRuns, [&] {
        const CalendarParseResult r = expand_calendar(text, from, to);
        occurrences = r.occurrences.size();
        skipped = r.skipped.size();
        warnings = r.warnings.size();
        events = r.events;
    });
    const long rss_after_expand = peak_rss_kib();

    // The same ratio taken round by round (one parse, then one expansion): when other work
    // loads the machine, both halves of a round see about the same load.
    std::vector<double> round_ratios;
    for (int i = 0; i < kRounds; ++i) {
        const double p = median_ms(1, [&] { icalcomponent_free(icalparser_parse_string(text.c_str())); });
        const double e = median_ms(1, [&] { (void)expand_calendar(text, from, to); });
        round_ratios.push_back(e / p);
    }
    std::sort(round_ratios.begin(), round_ratios.end());

    std::printf("calendar: %d VEVENTs (%d series), %.1f MiB of iCalendar text\n", kEvents, (kEvents + 2) / 3,
                static_cast<double>(text.size()) / (1024.0 * 1024.0));
    std::printf("window: 37 days (7 back, 30 ahead); result: %d events, %zu occurrences, %zu skipped, %zu warnings\n",
                events, occurrences, skipped, warnings);
    std::printf("baseline icalparser_parse_string + free: %8.1f ms (median of %d)\n", parse_ms, kRuns);
    std::printf("expand_calendar (parse + expand):        %8.1f ms (median of %d)\n", expand_ms, kRuns);
    std::printf("first expand_calendar (loads zones):      %8.1f ms\n", first_ms);
    std::printf("ratio expand/parse: %.2fx\n", expand_ms / parse_ms);
    std::printf("ratio expand/parse by rounds: %.2fx (median of %d rounds, range %.2f-%.2f)\n",
                round_ratios[round_ratios.size() / 2], kRounds, round_ratios.front(), round_ratios.back());
    std::printf("ratio first expand/parse: %.2fx (builtin zones read and the calendar's VTIMEZONE worked out)\n",
                first_ms / parse_ms);
    std::printf("peak RSS: %ld KiB at start, %ld KiB after parse runs, %ld KiB after expand runs\n", rss_start,
                rss_after_parse, rss_after_expand);
    return 0;
}

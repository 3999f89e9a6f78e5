#pragma once
// Times written as the tests' calendars and messages need them: iCalendar UTC date-times
// (DTSTART:20261202T070000Z) and RFC 5322 Date headers.
#include <ctime>
#include <string>

namespace rapport::test {

inline std::string ical_utc(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// UTC, offset_seconds from now.
inline std::string ical_in(long offset_seconds) { return ical_utc(std::time(nullptr) + offset_seconds); }

inline std::string rfc5322_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

}  // namespace rapport::test

#pragma once
// Shared by the calendar unit tests: UTC instants written as text, data files, lookups.
#include <ctime>
#include <stdexcept>
#include <string>

#include "calendar/expand_calendar.hpp"
#include "test_process.hpp"

namespace rapport::calendar::test {

// "2026-11-02T08:00:00Z" → instant.
inline sys_seconds utc(const std::string& iso) {
    std::tm tm{};
    if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) throw std::invalid_argument(iso);
    return sys_seconds(std::chrono::seconds(timegm(&tm)));
}

inline std::string iso(sys_seconds t) {
    const std::time_t secs = static_cast<std::time_t>(t.time_since_epoch().count());
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

inline std::string ical_file(const std::string& name) {
    return rapport::test::read_file(rapport::test::source_dir() + "/tests/data/ical/" + name);
}

inline CalendarParseResult expand_file(const std::string& name, const std::string& from, const std::string& to,
                                       const std::string& default_tz = "UTC") {
    return expand_calendar(ical_file(name), utc(from), utc(to), {}, default_tz);
}

// The occurrences of one UID.
inline std::vector<Occurrence> of_uid(const CalendarParseResult& r, const std::string& uid) {
    std::vector<Occurrence> out;
    for (const auto& o : r.occurrences)
        if (o.uid == uid) out.push_back(o);
    return out;
}

}  // namespace rapport::calendar::test

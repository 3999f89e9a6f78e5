#pragma once
// ISO 8601 durations and dates as the rules and settings files write them, and the injected
// clock: the core never reads the time itself.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rapport {

using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;
// Timers and schedules work in milliseconds: a nudge due at 10:00:02 must fire at 10:00:02.000,
// not somewhere in that second. Stored and shown times stay whole seconds (TimePoint), which
// convert to an Instant without loss.
using Millis = std::chrono::milliseconds;
using Instant = std::chrono::time_point<std::chrono::system_clock, Millis>;

// "PT5M", "P14D", "P1DT12H", "PT2S", "P2W". Years and months are refused: their length varies.
std::optional<Seconds> parse_duration(std::string_view text);
std::string format_duration(Seconds d);

// A calendar date, days since 1970-01-01 (proleptic Gregorian).
struct Date {
    int64_t days = 0;
    bool operator==(const Date& o) const { return days == o.days; }
    bool operator<(const Date& o) const { return days < o.days; }
};
std::optional<Date> parse_date(std::string_view text);  // "2026-12-01"
std::string format_date(Date d);
Date date_of(TimePoint t);
TimePoint start_of(Date d);

// "2026-12-01T10:30:00Z" (also accepts offsets such as +01:00 and fractional seconds).
std::optional<TimePoint> parse_datetime(std::string_view text);
std::string format_datetime(TimePoint t);  // always UTC, "Z"

class Clock {
public:
    virtual ~Clock() = default;
    virtual Instant instant() const = 0;
    // The same moment, truncated to the second (what is stored and shown).
    TimePoint now() const { return std::chrono::floor<Seconds>(instant()); }
};

}  // namespace rapport

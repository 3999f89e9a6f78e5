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
    virtual TimePoint now() const = 0;
};

}  // namespace rapport

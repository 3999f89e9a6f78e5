// Arbitrary text into the iCalendar expansion: it must never crash, hang or leak, and what it
// returns must be consistent (sorted, end >= start, inside the window).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "calendar/expand_calendar.hpp"

using namespace rapport::calendar;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const sys_seconds from(std::chrono::seconds(1790812800));  // 2026-10-01
    const sys_seconds to = from + std::chrono::hours(24 * 60);
    ExpandLimits limits;
    limits.max_input_bytes = 1 << 20;
    limits.max_iterations_per_event = 20'000;
    limits.max_occurrences_per_event = 2'000;
    const CalendarParseResult r = expand_calendar(text, from, to, limits, size % 2 ? "Europe/Berlin" : "UTC");
    for (std::size_t i = 0; i < r.occurrences.size(); ++i) {
        const Occurrence& o = r.occurrences[i];
        if (o.end < o.start || o.end < from || o.start >= to) std::abort();
        if (i > 0 && o.start < r.occurrences[i - 1].start) std::abort();
    }
    return 0;
}

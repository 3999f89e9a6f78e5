#pragma once
// What the calendar side hands to the core: meeting occurrences with UTC instants, expanded
// from iCalendar text over a time window.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace rapport::calendar {

// std::chrono::sys_seconds is C++20; this is the same type spelled for C++17.
using sys_seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

struct Attendee {
    std::string address;   // "MAILTO:" (any case) stripped, the rest kept as written
    std::string name;      // CN, may be empty
    std::string partstat;  // NEEDS-ACTION|ACCEPTED|DECLINED|TENTATIVE|DELEGATED|… (upper case)
    std::string role;      // REQ-PARTICIPANT|OPT-PARTICIPANT|CHAIR|… (upper case)
};

struct Occurrence {
    std::string uid;
    // The instance's original start in UTC (RECURRENCE-ID, or the generated start). Together
    // with uid it identifies the occurrence, stable across re-reads and across moves.
    sys_seconds recurrence_id;
    sys_seconds start, end;  // UTC; end >= start
    bool all_day = false;    // DATE values: midnight to midnight in the default zone
    bool floating = false;   // no zone given (floating times, all-day dates): default zone used
    bool cancelled = false;  // STATUS:CANCELLED on the event or this occurrence, or METHOD:CANCEL
    std::string summary;
    std::string description;  // at most kMaxDescription bytes (the agenda of a summary draft)
    std::string location;
    Attendee organizer;
    std::vector<Attendee> attendees;
    int sequence = 0;
};

// Descriptions can be whole documents pasted into an invitation; a draft needs the start.
constexpr std::size_t kMaxDescription = 16 * 1024;

struct ExpandLimits {
    std::size_t max_input_bytes = 10 * 1024 * 1024;
    std::size_t max_events = 50'000;  // VEVENT components read; the rest are skipped
    std::size_t max_occurrences_per_event = 10'000;  // within the window
    // Recurrence iterator steps per event (also outside the window). Rules without COUNT jump
    // close to the window first, so this only bites on COUNT rules and absurd frequencies.
    std::size_t max_iterations_per_event = 100'000;
    // Recurrence iterator steps for the whole text, every event together: twenty runaway
    // rules cost what ten do, not twenty times one. About 0.1 to 1 s of work.
    std::size_t max_iterations = 1'000'000;
    std::size_t max_occurrences = 500'000;  // whole calendar
    // A time limit given by the caller (none by default: the expansion reads no clock then).
    // Parsing that runs past it refuses the text (`error`); expansion that does keeps what it
    // found and says so in `limit`.
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct CalendarParseResult {
    std::vector<Occurrence> occurrences;  // sorted by start, then uid, then recurrence_id
    int events = 0;  // distinct events (UIDs) read successfully, in the window or not
    // One reason per event (or override) that was not used, e.g. "event UID x: DTSTART missing".
    std::vector<std::string> skipped;
    // The event was used but something was guessed or cut, e.g. an unknown TZID read in the
    // default zone, or a recurrence truncated by the limits.
    std::vector<std::string> warnings;
    // Non-empty when the whole text was refused (too large, not iCalendar, parsing past the
    // deadline); nothing else is set.
    std::string error;
    // Non-empty when a limit cut the calendar short (a recurrence stopped by the step limits,
    // the deadline, too many occurrences): the first such message. What was found is used, but
    // the calendar is not healthy and its status says so.
    std::string limit;
};

}  // namespace rapport::calendar

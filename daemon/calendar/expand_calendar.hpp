#pragma once
// iCalendar text → the occurrences that meet a time window, in UTC.
//
// Handles RRULE/RDATE/EXDATE, RECURRENCE-ID overrides (moved or cancelled occurrences replace
// the generated ones), STATUS:CANCELLED and METHOD:CANCEL, all-day events, floating times,
// DURATION, VTIMEZONE blocks, IANA names and Outlook's Windows zone names.
//
// Bad input never throws or aborts: a text over the size limit or without a VCALENDAR sets
// `error`; one malformed event is listed in `skipped` and the rest are used. Choices made:
// - An unknown TZID is read in default_tz and reported once in `warnings` (the event is used).
// - Floating times and all-day dates are read in default_tz (`floating` set).
// - An override (RECURRENCE-ID) is used whether or not its master is in the text; without
//   SUMMARY, ORGANIZER/ATTENDEEs or DTEND/DURATION it borrows the master's.
// - Exceeding a per-event limit truncates that event with a warning.
// Thread-safe (libical is serialised inside).
#include <string>
#include <string_view>

#include "calendar/occurrence.hpp"

namespace rapport::calendar {

CalendarParseResult expand_calendar(std::string_view ics_text, sys_seconds window_start,
                                    sys_seconds window_end, const ExpandLimits& limits = {},
                                    const std::string& default_tz = "UTC");

}  // namespace rapport::calendar

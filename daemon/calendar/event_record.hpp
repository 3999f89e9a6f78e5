#pragma once
// One VEVENT read into plain values, with every time tied to its zone. Reading resolves the
// TZIDs itself: libical 3.0.16 drops or misreads them on RDATE and RECURRENCE-ID.
#include <libical/ical.h>

#include <optional>
#include <string>
#include <vector>

#include "calendar/libical_support.hpp"
#include "calendar/occurrence.hpp"
#include "calendar/zone_resolver.hpp"

namespace rapport::calendar {

// How long each instance lasts. DTEND gives an exact length (RFC 5545 3.8.5.3); a DURATION's
// days and weeks are nominal (same wall-clock time n days later, across DST), its hours exact.
struct Length {
    int nominal_days = 0;
    long long exact_seconds = 0;
};

struct ExtraDate {  // one RDATE value; a PERIOD gives its own end
    WallTime start;
    std::optional<WallTime> end;
    std::optional<Length> length;
};

struct EventRecord {
    std::string uid;
    std::string label;  // "event UID x" for messages
    WallTime start;
    sys_seconds start_utc;
    Length length;
    bool length_given = false;  // DTEND or DURATION present (overrides may borrow the master's)
    std::vector<icalrecurrencetype> rules;
    std::vector<ExtraDate> extra_dates;
    std::vector<WallTime> exdates;
    std::optional<WallTime> recurrence_id;
    bool cancelled = false;
    std::string summary;
    std::string description;  // capped at kMaxDescription: it only seeds a draft's agenda
    std::string location;
    Attendee organizer;
    bool has_people = false;  // any ORGANIZER or ATTENDEE
    std::vector<Attendee> attendees;
    int sequence = 0;
};

struct ReadContext {
    icalcomponent* vcalendar = nullptr;  // for VTIMEZONE lookups; null for a bare VEVENT
    bool method_cancel = false;
    ZoneResolver* zones = nullptr;
    std::vector<std::string>* warnings = nullptr;
};

// Returns the record, or sets `reason` (without the "event UID x: " prefix in reason_detail,
// with it in reason) and returns nothing.
std::optional<EventRecord> read_event(icalcomponent* vevent, std::size_t index, const ReadContext& ctx,
                                      std::string& reason);

// The end of an instance starting at local wall time `local` (UTC `start`).
sys_seconds instance_end(const WallTime& local, sys_seconds start, const Length& length);

}  // namespace rapport::calendar

#pragma once
// The recurrence set of one event (DTSTART, RRULEs, RDATEs, minus EXDATEs and minus the
// instances that overrides replace) within a window, bounded in time and memory.
//
// Written on icalrecur_iterator directly: libical 3.0.16's icalcomponent_foreach_recurrence
// still yields the instances that a RECURRENCE-ID override replaced.
#include <set>
#include <string>
#include <vector>

#include "calendar/event_record.hpp"
#include "calendar/occurrence.hpp"

namespace rapport::calendar {

struct Instance {
    WallTime local;  // the generated start as wall-clock time in the event's zone
    sys_seconds start, end;
};

// Instances left out: by UTC start, or by the local date (DATE-valued EXDATE/RECURRENCE-ID).
struct Exclusions {
    std::set<long long> instants;
    std::set<long long> days;
    void add(const WallTime& t, bool by_day);
    bool contains(const WallTime& local, sys_seconds start) const;
};

// Instances of `event` whose [start, end) meets [from, to) (a zero-length one: start in it),
// sorted by start. Truncation by the limits is reported in `warnings`.
std::vector<Instance> expand_instances(const EventRecord& event, const Exclusions& replaced,
                                       sys_seconds from, sys_seconds to, const ExpandLimits& limits,
                                       std::vector<std::string>& warnings);

bool overlaps(sys_seconds start, sys_seconds end, sys_seconds from, sys_seconds to);

}  // namespace rapport::calendar

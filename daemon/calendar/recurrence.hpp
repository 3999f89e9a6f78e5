#pragma once
// The recurrence set of one event (DTSTART, RRULEs, RDATEs, minus EXDATEs and minus the
// instances that overrides replace) within a window, bounded in time and memory.
//
// Written on icalrecur_iterator directly: libical 3.0.16's icalcomponent_foreach_recurrence
// still yields the instances that a RECURRENCE-ID override replaced.
#include <chrono>
#include <cstddef>
#include <optional>
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

// What one text may spend on recurrences, shared by all its events: iterator steps, and the
// caller's deadline if it gave one (looked at every kDeadlineStride steps, so a text without a
// deadline never reads the clock).
class WorkBudget {
public:
    WorkBudget(std::size_t steps, std::optional<std::chrono::steady_clock::time_point> deadline)
        : steps_left_(steps), deadline_(deadline) {}

    // One iterator step. False once the steps are used up or the deadline has passed.
    bool spend() {
        if (steps_left_ == 0) return false;
        --steps_left_;
        if (deadline_ && ++since_check_ >= kDeadlineStride) {
            since_check_ = 0;
            if (std::chrono::steady_clock::now() >= *deadline_) {
                out_of_time_ = true;
                steps_left_ = 0;
                return false;
            }
        }
        return true;
    }
    bool exhausted() const { return steps_left_ == 0; }
    bool out_of_time() const { return out_of_time_; }

    static constexpr std::size_t kDeadlineStride = 256;

private:
    std::size_t steps_left_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    std::size_t since_check_ = 0;
    bool out_of_time_ = false;
};

// Instances of `event` whose [start, end) meets [from, to) (a zero-length one: start in it),
// sorted by start. Truncation by the limits is reported in `warnings`, and the first one also
// in `limit` (when it is still empty).
std::vector<Instance> expand_instances(const EventRecord& event, const Exclusions& replaced,
                                       sys_seconds from, sys_seconds to, const ExpandLimits& limits,
                                       WorkBudget& budget, std::vector<std::string>& warnings,
                                       std::string& limit);

bool overlaps(sys_seconds start, sys_seconds end, sys_seconds from, sys_seconds to);

}  // namespace rapport::calendar

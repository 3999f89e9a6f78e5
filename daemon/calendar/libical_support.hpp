#pragma once
// The small layer between libical's C API and the expansion: owning pointers, the global error
// state made harmless, and wall-clock ↔ UTC conversion.
#include <libical/ical.h>

#include <memory>
#include <mutex>
#include <string>

#include "calendar/occurrence.hpp"

namespace rapport::calendar {

struct ComponentFree {
    void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentFree>;

struct IteratorFree {
    void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};
using IteratorPtr = std::unique_ptr<icalrecur_iterator, IteratorFree>;

// libical keeps global state (error number, error severities, builtin zone cache). Callers
// hold this lock for as long as they use libical; the first call also makes every libical
// error non-fatal, so a bad calendar can never abort the process.
std::unique_lock<std::mutex> lock_libical();

// A time as the calendar wrote it (wall-clock fields) and the zone it is read in.
struct WallTime {
    icaltimetype fields = icaltime_null_time();
    icaltimezone* zone = nullptr;  // never null once read; dates use the default zone
    bool floating = false;         // no TZID and no Z: read in the default zone

    bool is_date() const { return fields.is_date != 0; }
};

// Midnight for dates. Returns false for times libical cannot place (null, out of range).
bool to_utc(const icaltimetype& fields, icaltimezone* zone, sys_seconds& out);
inline bool to_utc(const WallTime& t, sys_seconds& out) { return to_utc(t.fields, t.zone, out); }

// The wall-clock time of a UTC instant in zone (seconds precision).
icaltimetype to_wall(sys_seconds t, icaltimezone* zone);

// Dates and times with years outside this range are refused: libical's time_t arithmetic and
// zone expansion are not meant for them, and no meeting lives there.
constexpr int kMinYear = 1800;
constexpr int kMaxYear = 2500;
bool plausible(const icaltimetype& t);

long long day_of(const icaltimetype& t);  // days since 1970-01-01 of the date fields

// An untrusted text cut to a length fit for a log line.
std::string clip(const std::string& text, std::size_t max = 80);

}  // namespace rapport::calendar

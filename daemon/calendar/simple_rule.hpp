#pragma once
// The recurrence rules most calendars hold — FREQ=DAILY or WEEKLY with INTERVAL, COUNT, a UTC
// UNTIL, plain BYDAY weekdays and WKST — walked with civil-date arithmetic instead of
// icalrecur_iterator. libical 3.0.16, built with ICU, takes each iterator step through an ICU
// Calendar (about 3 µs a step, most of an expansion's time); this takes a few nanoseconds.
// Anything else (other frequencies, BYMONTH, BYMONTHDAY, BYSETPOS, ordinals, a DTSTART the
// rule itself would not produce, a local UNTIL) is left to libical: make() returns nothing.
// tests/unit/calendar/simple_rule_test.cpp holds it to libical's answers.
#include <libical/ical.h>

#include <optional>

#include "calendar/occurrence.hpp"

namespace rapport::calendar {

class SimpleRule {
public:
    static std::optional<SimpleRule> make(const icalrecurrencetype& rule, const icaltimetype& dtstart);

    // The next instance's wall-clock fields (DTSTART's time of day, no zone), in order, DTSTART
    // first; a null time once COUNT instances were given.
    icaltimetype next();
    // Jumps to the period holding local day `day` (days since 1970-01-01) when that is ahead;
    // instances before it are not given. Only for rules without COUNT (COUNT needs the walk).
    void skip_to(long long day);
    // UNTIL in UTC, if the rule has one: instances starting after it are not part of the rule.
    const std::optional<sys_seconds>& until() const { return until_; }
    bool counted() const { return count_ > 0; }

private:
    icaltimetype start_{};
    long long first_day_ = 0;     // DTSTART's day
    long long period_start_ = 0;  // first day of the current period (a day, or a week from WKST)
    int period_length_ = 1;       // 1 (DAILY) or 7 (WEEKLY)
    long long stride_ = 1;        // days from one period to the next that counts
    int offset_ = 0;              // next day to look at within the period
    unsigned weekdays_ = 0;       // bit w set: weekday w (0 = Sunday) is an instance
    long long count_ = 0;         // 0: no COUNT
    long long given_ = 0;
    std::optional<sys_seconds> until_;
};

}  // namespace rapport::calendar

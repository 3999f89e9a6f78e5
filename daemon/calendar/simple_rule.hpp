#pragma once
// The recurrence rules most calendars hold — FREQ=DAILY or WEEKLY with plain BYDAY weekdays
// and WKST, FREQ=MONTHLY with BYDAY weekdays or ordinals (1MO, -1FR), each with INTERVAL, COUNT
// or a UTC UNTIL — walked with civil-date arithmetic instead of icalrecur_iterator. libical
// 3.0.16, built with ICU, takes each iterator step through an ICU Calendar (about 3 µs a step,
// most of an expansion's time); this takes a few nanoseconds.
// A DTSTART the rule would not produce is neither given nor counted, as by libical. Anything
// else (other frequencies, BYMONTH, BYMONTHDAY, BYSETPOS, a local UNTIL, a plain MONTHLY) is
// left to libical: make() returns nothing.
// tests/unit/calendar/simple_rule_test.cpp holds it to libical's answers.
#include <libical/ical.h>

#include <optional>

#include "calendar/occurrence.hpp"

namespace rapport::calendar {

class SimpleRule {
public:
    static std::optional<SimpleRule> make(const icalrecurrencetype& rule, const icaltimetype& dtstart);

    // The next instance's wall-clock fields (DTSTART's time of day, no zone), in order, DTSTART
    // first; a null time once COUNT instances were given (or past year 2500).
    icaltimetype next();
    // Jumps to the period holding local day `day` (days since 1970-01-01) when that is ahead;
    // instances before it are not given. Only for rules without COUNT (COUNT needs the walk).
    void skip_to(long long day);
    // UNTIL in UTC, if the rule has one: instances starting after it are not part of the rule.
    const std::optional<sys_seconds>& until() const { return until_; }

private:
    enum class Period { day, week, month };
    void fill();  // days_ := the instances of period period_, in order

    icaltimetype start_{};
    Period period_kind_ = Period::day;
    long long first_day_ = 0;  // DTSTART's day
    // The current period: a day, the first day of a week (from WKST), or year * 12 + month - 1.
    long long period_ = 0;
    long long stride_ = 1;  // in the period's unit
    unsigned weekdays_ = 0;  // DAILY, WEEKLY, plain MONTHLY BYDAY: bit w (0 = Sunday) set
    // MONTHLY ordinals: per weekday, bit n - 1 for the nth, bit 5 + n - 1 for the nth from last.
    unsigned short ordinals_[7] = {};
    long long days_[31] = {};
    int day_count_ = 0, day_pos_ = 0;
    long long count_ = 0;  // 0: no COUNT
    long long given_ = 0;
    std::optional<sys_seconds> until_;
};

}  // namespace rapport::calendar

#include "calendar/recurrence.hpp"

#include <map>
#include <optional>

#include "calendar/simple_rule.hpp"

namespace rapport::calendar {

void Exclusions::add(const WallTime& t, bool by_day) {
    if (by_day || t.is_date()) {
        days.insert(day_of(t.fields));
        return;
    }
    sys_seconds instant;
    if (to_utc(t, instant)) instants.insert(instant.time_since_epoch().count());
}

bool Exclusions::contains(const WallTime& local, sys_seconds start) const {
    return instants.count(start.time_since_epoch().count()) > 0 ||
           (!days.empty() && days.count(day_of(local.fields)) > 0);
}

bool overlaps(sys_seconds start, sys_seconds end, sys_seconds from, sys_seconds to) {
    if (end > start) return start < to && end > from;
    return start >= from && start < to;
}

namespace {

int unit_seconds(icalrecurrencetype_frequency freq) {
    switch (freq) {
        case ICAL_SECONDLY_RECURRENCE: return 1;
        case ICAL_MINUTELY_RECURRENCE: return 60;
        case ICAL_HOURLY_RECURRENCE: return 3600;
        default: return 0;
    }
}

class Expander {
public:
    Expander(const EventRecord& event, const Exclusions& replaced, sys_seconds from, sys_seconds to,
             const ExpandLimits& limits, WorkBudget& budget, std::vector<std::string>& warnings, std::string& limit)
        : event_(event), replaced_(replaced), from_(from), to_(to), limits_(limits), budget_(budget),
          warnings_(warnings), limit_(limit) {
        const bool all_day = event.start.is_date();
        for (const WallTime& ex : event.exdates) excluded_.add(ex, all_day);
        // The earliest start whose instance can still reach into the window.
        const auto longest = std::chrono::seconds(event.length.exact_seconds) +
                             std::chrono::hours(25) * event.length.nominal_days;
        earliest_ = from - longest - std::chrono::hours(24);
    }

    std::vector<Instance> run() {
        consider(event_.start, event_.start_utc, instance_end(event_.start, event_.start_utc, event_.length));
        for (const auto& rule : event_.rules) {
            if (full_) break;
            expand_rule(rule);
        }
        for (const ExtraDate& extra : event_.extra_dates) {
            if (full_) break;
            sys_seconds start;
            if (!to_utc(extra.start, start)) continue;
            sys_seconds end = instance_end(extra.start, start, extra.length ? *extra.length : event_.length);
            if (extra.end) {
                if (!to_utc(*extra.end, end) || end < start) end = start;
            }
            consider(extra.start, start, end);
        }
        if (full_)
            cut(event_.label + ": more than " + std::to_string(limits_.max_occurrences_per_event) +
                " occurrences in the window; the rest ignored (check its RRULE)");
        std::vector<Instance> out;
        out.reserve(found_.size());
        for (auto& [key, instance] : found_) out.push_back(instance);
        return out;
    }

private:
    void cut(const std::string& message) {
        warnings_.push_back(message);
        if (limit_.empty()) limit_ = message;
    }

    void consider(const WallTime& local, sys_seconds start, sys_seconds end) {
        if (!overlaps(start, end, from_, to_)) return;
        if (excluded_.contains(local, start) || replaced_.contains(local, start)) return;
        if (found_.size() >= limits_.max_occurrences_per_event) {
            full_ = true;
            return;
        }
        found_.emplace(start.time_since_epoch().count(), Instance{local, start, end});
    }

    // Rules without COUNT start iterating near the window instead of at DTSTART, so a daily
    // series from 1990 costs the same as one from last week. UNTIL past is checked up front.
    void expand_rule(const icalrecurrencetype& rule) {
        icaltimezone* zone = event_.start.zone;
        if (!icaltime_is_null_time(rule.until)) {
            icaltimetype until = rule.until;
            sys_seconds until_utc;
            if (to_utc(until, icaltime_is_utc(until) ? icaltimezone_get_utc_timezone() : zone, until_utc) &&
                until_utc + std::chrono::hours(48) < earliest_)
                return;
        }
        const bool skip_ahead = rule.count == 0 && earliest_ > event_.start_utc;
        if (auto simple = SimpleRule::make(rule, event_.start.fields)) {
            if (skip_ahead) simple->skip_to(day_of(to_wall(earliest_, zone)));
            walk([&] { return simple->next(); }, simple->until());
            return;
        }
        icaltimetype dtstart = event_.start.fields;
        dtstart.zone = zone;
        const int unit = unit_seconds(rule.freq);
        const bool phased = unit > 0 && rule.interval > 1;
        if (skip_ahead && phased) {
            // libical's set_start loses the phase of sub-daily rules with INTERVAL > 1
            // (FREQ=HOURLY;INTERVAL=7 jumps to the wrong hour), so start the rule afresh at an
            // instance near the window: a multiple of the period after DTSTART. libical steps
            // these rules in elapsed time, so the multiple is taken in UTC.
            const long long period = static_cast<long long>(unit) * rule.interval;
            const long long steps = (earliest_ - event_.start_utc).count() / period;
            dtstart = to_wall(event_.start_utc + std::chrono::seconds(steps * period), zone);
            dtstart.zone = zone;
        }
        IteratorPtr it(icalrecur_iterator_new(rule, dtstart));
        icalerror_clear_errno();
        if (!it) {
            warnings_.push_back(event_.label + ": RRULE not expandable; only DTSTART used");
            return;
        }
        if (skip_ahead && !phased && !jump(it.get(), dtstart)) {
            it.reset(icalrecur_iterator_new(rule, dtstart));  // set_start refused: walk from DTSTART
            if (!it) return;
        }
        walk([&] { return icalrecur_iterator_next(it.get()); }, std::nullopt);  // libical checks UNTIL itself
    }

    // Takes instances from `next` (wall-clock fields in the event's zone, in order; a null time
    // at the end) until the window, UNTIL or a limit ends the rule.
    template <typename Next>
    void walk(Next next_instance, const std::optional<sys_seconds>& until) {
        icaltimezone* zone = event_.start.zone;
        std::size_t steps = 0;
        for (;;) {
            if (steps++ >= limits_.max_iterations_per_event) {
                cut(event_.label + ": recurrence stopped after " + std::to_string(limits_.max_iterations_per_event) +
                    " steps; the rest of the series is ignored (check its RRULE)");
                return;
            }
            if (!budget_.spend()) {
                cut(budget_.out_of_time()
                        ? event_.label + ": recurrence stopped at the time limit for the calendar; this and later "
                                         "series are cut short (check the calendar's RRULEs)"
                        : event_.label + ": recurrence stopped: the calendar's recurrences took more than " +
                              std::to_string(limits_.max_iterations) +
                              " steps together; this and later series are cut short (check the calendar's RRULEs)");
                return;
            }
            icaltimetype next = next_instance();
            if (icaltime_is_null_time(next)) return;
            WallTime local;
            local.fields = next;
            local.fields.zone = nullptr;
            local.zone = zone;
            local.floating = event_.start.floating;
            sys_seconds start;
            if (!to_utc(local, start) || start >= to_ || (until && start > *until)) return;
            consider(local, start, instance_end(local, start, event_.length));
            if (full_) return;
        }
    }

    bool jump(icalrecur_iterator* it, const icaltimetype& dtstart) {
        icaltimetype target = to_wall(earliest_, event_.start.zone);
        if (dtstart.is_date) {
            target.is_date = 1;
            target.hour = target.minute = target.second = 0;
        }
        target.zone = dtstart.zone;
        if (icalrecur_iterator_set_start(it, target)) return true;
        icalerror_clear_errno();
        return false;
    }

    const EventRecord& event_;
    const Exclusions& replaced_;
    sys_seconds from_, to_, earliest_;
    const ExpandLimits& limits_;
    WorkBudget& budget_;
    std::vector<std::string>& warnings_;
    std::string& limit_;
    Exclusions excluded_;
    std::map<long long, Instance> found_;
    bool full_ = false;
};

}  // namespace

std::vector<Instance> expand_instances(const EventRecord& event, const Exclusions& replaced,
                                       sys_seconds from, sys_seconds to, const ExpandLimits& limits,
                                       WorkBudget& budget, std::vector<std::string>& warnings,
                                       std::string& limit) {
    return Expander(event, replaced, from, to, limits, budget, warnings, limit).run();
}

}  // namespace rapport::calendar

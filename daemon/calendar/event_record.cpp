#include "calendar/event_record.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rapport::calendar {
namespace {

constexpr long long kMaxExactSeconds = 400LL * 86400;  // longer "meetings" are clamped
constexpr int kMaxNominalDays = 400;

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

std::string parameter(icalproperty* p, const char* name) {
    char* value = icalproperty_get_parameter_as_string_r(p, name);
    if (!value) return {};
    std::string out = value;
    free(value);
    return trim(out);
}

std::string strip_mailto(std::string address) {
    address = trim(address);
    if (address.size() >= 7 && upper(address.substr(0, 7)) == "MAILTO:") address.erase(0, 7);
    return trim(address);
}

// The text of an enumerated parameter (PARTSTAT, ROLE) as written: the enum's name, or the
// value itself for X- and unknown values.
template <typename Enum>
std::string enum_text(icalparameter* q, Enum value, Enum x_value, Enum none_value) {
    if (value == x_value || value == none_value) {
        const char* x = icalparameter_get_xvalue(q);
        return x ? x : "";
    }
    const char* name = icalparameter_enum_to_string(static_cast<int>(value));
    return name ? name : "";
}

// One pass over the property's parameters, switching on their kind: looking each name up with
// icalproperty_get_parameter_as_string_r compares every parameter's name and prints it.
// The first CN, PARTSTAT and ROLE count, as there.
Attendee read_person(icalproperty* p, const char* value) {
    Attendee person;
    person.address = strip_mailto(value ? value : "");
    bool cn = false, partstat = false, role = false;
    for (icalparameter* q = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER); q;
         q = icalproperty_get_next_parameter(p, ICAL_ANY_PARAMETER)) {
        switch (icalparameter_isa(q)) {
            case ICAL_CN_PARAMETER:
                if (!cn) {
                    const char* name = icalparameter_get_cn(q);
                    person.name = trim(name ? name : "");
                    cn = true;
                }
                break;
            case ICAL_PARTSTAT_PARAMETER:
                if (!partstat) {
                    person.partstat = upper(trim(enum_text(q, icalparameter_get_partstat(q), ICAL_PARTSTAT_X,
                                                           ICAL_PARTSTAT_NONE)));
                    partstat = true;
                }
                break;
            case ICAL_ROLE_PARAMETER:
                if (!role) {
                    person.role = upper(trim(enum_text(q, icalparameter_get_role(q), ICAL_ROLE_X, ICAL_ROLE_NONE)));
                    role = true;
                }
                break;
            default:
                break;
        }
    }
    return person;
}

std::optional<WallTime> place(icalproperty* p, icaltimetype fields, const ReadContext& ctx) {
    if (!plausible(fields)) return std::nullopt;
    WallTime t;
    t.fields = fields;
    t.fields.zone = nullptr;
    icalparameter* tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    const char* tzid = tz ? icalparameter_get_tzid(tz) : nullptr;
    if (fields.is_date) {
        t.zone = ctx.zones->default_zone();
        t.floating = true;
    } else if (tzid && *tzid) {
        // A TZID wins over libical's own reading: 3.0.16 reads RDATE;TZID=… as UTC.
        t.zone = ctx.zones->resolve(ctx.vcalendar, tzid, *ctx.warnings);
    } else if (icaltime_is_utc(fields)) {
        t.zone = icaltimezone_get_utc_timezone();
    } else {
        t.zone = ctx.zones->default_zone();
        t.floating = true;
    }
    return t;
}

std::optional<Length> length_of(const icaldurationtype& d) {
    if (d.is_neg) return std::nullopt;
    Length length;
    const unsigned long long days = static_cast<unsigned long long>(d.weeks) * 7 + d.days;
    length.nominal_days = static_cast<int>(std::min<unsigned long long>(days, kMaxNominalDays));
    const unsigned long long exact = static_cast<unsigned long long>(d.hours) * 3600 +
                                     static_cast<unsigned long long>(d.minutes) * 60 + d.seconds;
    length.exact_seconds = static_cast<long long>(std::min<unsigned long long>(exact, kMaxExactSeconds));
    return length;
}

// The event's properties found in one walk over its list: libical's getters (get_uid,
// get_summary, get_first_property…) each walk the whole list again, a dozen walks per event.
// The first of each single-valued property counts, as with those getters.
struct Properties {
    icalproperty *uid = nullptr, *dtstart = nullptr, *dtend = nullptr, *duration = nullptr, *recurrence_id = nullptr,
                 *status = nullptr, *summary = nullptr, *description = nullptr, *location = nullptr,
                 *sequence = nullptr, *organizer = nullptr;
    std::vector<icalproperty*> rrules, rdates, exdates, attendees, errors;

    explicit Properties(icalcomponent* vevent) {
        for (icalproperty* p = icalcomponent_get_first_property(vevent, ICAL_ANY_PROPERTY); p;
             p = icalcomponent_get_next_property(vevent, ICAL_ANY_PROPERTY)) {
            switch (icalproperty_isa(p)) {
                case ICAL_UID_PROPERTY: first(uid, p); break;
                case ICAL_DTSTART_PROPERTY: first(dtstart, p); break;
                case ICAL_DTEND_PROPERTY: first(dtend, p); break;
                case ICAL_DURATION_PROPERTY: first(duration, p); break;
                case ICAL_RECURRENCEID_PROPERTY: first(recurrence_id, p); break;
                case ICAL_STATUS_PROPERTY: first(status, p); break;
                case ICAL_SUMMARY_PROPERTY: first(summary, p); break;
                case ICAL_DESCRIPTION_PROPERTY: first(description, p); break;
                case ICAL_LOCATION_PROPERTY: first(location, p); break;
                case ICAL_SEQUENCE_PROPERTY: first(sequence, p); break;
                case ICAL_ORGANIZER_PROPERTY: first(organizer, p); break;
                case ICAL_RRULE_PROPERTY: rrules.push_back(p); break;
                case ICAL_RDATE_PROPERTY: rdates.push_back(p); break;
                case ICAL_EXDATE_PROPERTY: exdates.push_back(p); break;
                case ICAL_ATTENDEE_PROPERTY: attendees.push_back(p); break;
                case ICAL_XLICERROR_PROPERTY: errors.push_back(p); break;
                default: break;
            }
        }
    }
    static void first(icalproperty*& slot, icalproperty* p) {
        if (!slot) slot = p;
    }
};

// libical turns a property it cannot parse into X-LIC-ERROR ("… in DTEND property. Removing
// entire property: …"). For the properties that decide when an event happens, that is a
// malformed event, not a detail to drop.
std::string broken_time_property(const Properties& properties) {
    static const char* const kTimeProperties[] = {"DTSTART", "DTEND", "DURATION", "RRULE",
                                                  "RDATE", "EXDATE", "RECURRENCE-ID"};
    for (icalproperty* p : properties.errors) {
        const char* text = icalproperty_get_xlicerror(p);
        if (!text) continue;
        const std::string error = text;
        for (const char* name : kTimeProperties)
            if (error.find(std::string(" ") + name + " property") != std::string::npos)
                return std::string(name) + " malformed (" + clip(error, 120) + ")";
    }
    return {};
}

std::string synthetic_uid(icalcomponent* vevent) {
    // Stable across re-reads of the same text: a hash of what identifies the event to a human.
    std::string basis;
    if (icalproperty* p = icalcomponent_get_first_property(vevent, ICAL_DTSTART_PROPERTY)) {
        char* text = icalproperty_as_ical_string_r(p);
        if (text) {
            basis += text;
            free(text);
        }
    }
    if (const char* summary = icalcomponent_get_summary(vevent)) basis += summary;
    unsigned long long hash = 1469598103934665603ULL;
    for (unsigned char c : basis) hash = (hash ^ c) * 1099511628211ULL;
    char uid[40];
    std::snprintf(uid, sizeof uid, "rapport-nouid-%016llx", hash);
    return uid;
}

bool valid_rule(const icalrecurrencetype& rule) {
    if (rule.freq == ICAL_NO_RECURRENCE || rule.interval < 1 || rule.count < 0) return false;
    return icaltime_is_null_time(rule.until) || plausible(rule.until);
}

}  // namespace

sys_seconds instance_end(const WallTime& local, sys_seconds start, const Length& length) {
    sys_seconds end = start;
    if (length.nominal_days > 0) {
        icaltimetype later = local.fields;
        icaltime_adjust(&later, length.nominal_days, 0, 0, 0);
        if (!to_utc(later, local.zone, end)) end = start + std::chrono::hours(24) * length.nominal_days;
    }
    end += std::chrono::seconds(length.exact_seconds);
    return std::max(end, start);
}

std::optional<EventRecord> read_event(icalcomponent* vevent, std::size_t index, const ReadContext& ctx,
                                      std::string& reason) {
    EventRecord event;
    const Properties properties(vevent);
    const char* uid = properties.uid ? icalproperty_get_uid(properties.uid) : nullptr;
    if (uid && *uid) {
        event.uid = uid;
        event.label = "event UID " + clip(event.uid);
    } else {
        event.uid = synthetic_uid(vevent);
        event.label = "event #" + std::to_string(index + 1) + " (no UID)";
        ctx.warnings->push_back(event.label + ": no UID; using " + event.uid);
    }
    auto fail = [&](const std::string& why) {
        reason = event.label + ": " + why;
        return std::nullopt;
    };

    if (std::string broken = broken_time_property(properties); !broken.empty()) return fail(broken);

    icalproperty* dtstart = properties.dtstart;
    if (!dtstart) return fail("DTSTART missing");
    auto start = place(dtstart, icalproperty_get_dtstart(dtstart), ctx);
    if (!start || !to_utc(*start, event.start_utc)) return fail("DTSTART invalid or out of range");
    event.start = *start;

    if (icalproperty* dtend = properties.dtend) {
        auto end = place(dtend, icalproperty_get_dtend(dtend), ctx);
        if (!end) return fail("DTEND invalid or out of range");
        event.length_given = true;
        if (start->is_date() && end->is_date()) {
            const long long days = day_of(end->fields) - day_of(start->fields);
            event.length.nominal_days = static_cast<int>(std::clamp<long long>(days, 1, kMaxNominalDays));
        } else {
            sys_seconds end_utc;
            // A date end on a timed start means midnight in the start's zone.
            if (!to_utc(end->fields, end->is_date() ? start->zone : end->zone, end_utc))
                return fail("DTEND invalid or out of range");
            long long seconds = (end_utc - event.start_utc).count();
            if (seconds < 0) {
                ctx.warnings->push_back(event.label + ": DTEND before DTSTART; treated as zero length");
                seconds = 0;
            }
            event.length.exact_seconds = std::min(seconds, kMaxExactSeconds);
        }
    } else if (icalproperty* duration = properties.duration) {
        auto length = length_of(icalproperty_get_duration(duration));
        if (!length) {
            ctx.warnings->push_back(event.label + ": negative DURATION; treated as zero length");
            length = Length{};
        }
        event.length = *length;
        event.length_given = true;
    } else if (start->is_date()) {
        event.length.nominal_days = 1;  // RFC 5545: a DATE start without end lasts the day
    }

    for (icalproperty* p : properties.rrules) {
        const icalrecurrencetype rule = icalproperty_get_rrule(p);
        if (!valid_rule(rule)) return fail("RRULE invalid");
        event.rules.push_back(rule);
    }
    for (icalproperty* p : properties.rdates) {
        const icaldatetimeperiodtype value = icalproperty_get_rdate(p);
        ExtraDate extra;
        if (!icaltime_is_null_time(value.time)) {
            auto when = place(p, value.time, ctx);
            if (!when) return fail("RDATE invalid or out of range");
            extra.start = *when;
        } else {
            auto when = place(p, value.period.start, ctx);
            if (!when) return fail("RDATE period invalid or out of range");
            extra.start = *when;
            if (!icaltime_is_null_time(value.period.end)) {
                auto end = place(p, value.period.end, ctx);
                if (!end) return fail("RDATE period end invalid or out of range");
                extra.end = *end;
            } else {
                extra.length = length_of(value.period.duration);
            }
        }
        event.extra_dates.push_back(extra);
    }
    for (icalproperty* p : properties.exdates) {
        auto when = place(p, icalproperty_get_exdate(p), ctx);
        if (!when) return fail("EXDATE invalid or out of range");
        event.exdates.push_back(*when);
    }
    if (icalproperty* p = properties.recurrence_id) {
        // Not icalcomponent_get_recurrenceid: libical 3.0.16 drops the TZID there.
        auto when = place(p, icalproperty_get_recurrenceid(p), ctx);
        if (!when) return fail("RECURRENCE-ID invalid or out of range");
        event.recurrence_id = *when;
        if (upper(parameter(p, "RANGE")) == "THISANDFUTURE")
            ctx.warnings->push_back(event.label + ": RANGE=THISANDFUTURE applied to one occurrence only");
    }

    event.cancelled = ctx.method_cancel ||
                      (properties.status && icalproperty_get_status(properties.status) == ICAL_STATUS_CANCELLED);
    if (const char* summary = properties.summary ? icalproperty_get_summary(properties.summary) : nullptr)
        event.summary = summary;
    if (const char* description = properties.description ? icalproperty_get_description(properties.description) : nullptr)
        event.description.assign(description, std::min(std::strlen(description), kMaxDescription));
    if (const char* location = properties.location ? icalproperty_get_location(properties.location) : nullptr)
        event.location.assign(location, std::min<std::size_t>(std::strlen(location), 1024));
    event.sequence = properties.sequence ? icalproperty_get_sequence(properties.sequence) : 0;
    if (icalproperty* p = properties.organizer) {
        event.organizer = read_person(p, icalproperty_get_organizer(p));
        event.has_people = true;
    }
    event.attendees.reserve(properties.attendees.size());
    for (icalproperty* p : properties.attendees) {
        Attendee attendee = read_person(p, icalproperty_get_attendee(p));
        if (attendee.partstat.empty()) attendee.partstat = "NEEDS-ACTION";
        if (attendee.role.empty()) attendee.role = "REQ-PARTICIPANT";
        event.attendees.push_back(std::move(attendee));
        event.has_people = true;
    }
    return event;
}

}  // namespace rapport::calendar

#pragma once
// Turns a TZID as calendars write it into a libical zone. Order: a VTIMEZONE in the same
// calendar, then the IANA name (libical's builtin zones, read from the system tzdata), then a
// Windows zone name as Outlook/Exchange write it ("W. Europe Standard Time", mapped by ICU),
// then a Windows display name ("(UTC+01:00) Amsterdam, Berlin, …"). libical alone turns the
// last two into floating times without a word.
#include <libical/ical.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rapport::calendar {

// A zone for a name that needs no calendar: IANA names and their aliases, "UTC"/"GMT", Windows
// zone ids and display names. Returns nullptr when unknown. Zones it returns live for the
// process (libical caches builtin zones), except fixed-offset ones, which go to `owned`.
icaltimezone* find_named_zone(const std::string& tzid, std::vector<icaltimezone*>& owned,
                              std::string& note);

class ZoneResolver {
public:
    explicit ZoneResolver(const std::string& default_tz);
    ~ZoneResolver();
    ZoneResolver(const ZoneResolver&) = delete;
    ZoneResolver& operator=(const ZoneResolver&) = delete;

    icaltimezone* default_zone() const { return default_zone_; }

    // The zone for tzid as used inside `vcalendar` (may be null for a bare VEVENT). Unknown
    // names give the default zone and one warning per name.
    icaltimezone* resolve(icalcomponent* vcalendar, const std::string& tzid,
                          std::vector<std::string>& warnings);

    // Warnings about the default zone itself (e.g. an unknown default_tz).
    const std::vector<std::string>& setup_warnings() const { return setup_warnings_; }

private:
    icaltimezone* default_zone_ = nullptr;
    std::vector<icaltimezone*> owned_;
    std::map<std::pair<icalcomponent*, std::string>, icaltimezone*> cache_;
    std::vector<std::string> setup_warnings_;
};

}  // namespace rapport::calendar

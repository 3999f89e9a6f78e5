#include "calendar/zone_resolver.hpp"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace rapport::calendar {
namespace {

// Windows display names (Outlook writes them as TZIDs in some exports) for the common zones.
// Keyed by the city list after the "(UTC±hh:mm) " prefix; matched as a prefix because
// Microsoft has added cities over the years.
const std::pair<const char*, const char*> kDisplayNames[] = {
    {"Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"},
    {"Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"},
    {"Belgrade, Bratislava, Budapest, Ljubljana, Prague", "Europe/Budapest"},
    {"Sarajevo, Skopje, Warsaw, Zagreb", "Europe/Warsaw"},
    {"Dublin, Edinburgh, Lisbon, London", "Europe/London"},
    {"Athens, Bucharest", "Europe/Bucharest"},
    {"Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius", "Europe/Helsinki"},
    {"Helsinki, Kiev, Riga, Sofia, Tallinn, Vilnius", "Europe/Helsinki"},
    {"Moscow, St. Petersburg", "Europe/Moscow"},
    {"Istanbul", "Europe/Istanbul"},
    {"Jerusalem", "Asia/Jerusalem"},
    {"Cairo", "Africa/Cairo"},
    {"Harare, Pretoria", "Africa/Johannesburg"},
    {"Monrovia, Reykjavik", "Atlantic/Reykjavik"},
    {"Abu Dhabi, Muscat", "Asia/Dubai"},
    {"Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"},
    {"Beijing, Chongqing, Hong Kong, Urumqi", "Asia/Shanghai"},
    {"Kuala Lumpur, Singapore", "Asia/Singapore"},
    {"Osaka, Sapporo, Tokyo", "Asia/Tokyo"},
    {"Seoul", "Asia/Seoul"},
    {"Canberra, Melbourne, Sydney", "Australia/Sydney"},
    {"Brisbane", "Australia/Brisbane"},
    {"Auckland, Wellington", "Pacific/Auckland"},
    {"Eastern Time (US & Canada)", "America/New_York"},
    {"Central Time (US & Canada)", "America/Chicago"},
    {"Mountain Time (US & Canada)", "America/Denver"},
    {"Pacific Time (US & Canada)", "America/Los_Angeles"},
    {"Atlantic Time (Canada)", "America/Halifax"},
    {"Arizona", "America/Phoenix"},
    {"Alaska", "America/Anchorage"},
    {"Hawaii", "Pacific/Honolulu"},
    {"Brasilia", "America/Sao_Paulo"},
    {"Coordinated Universal Time", "UTC"},
};

bool is_utc_name(const std::string& name) {
    return name == "UTC" || name == "GMT" || name == "Z" || name == "Etc/UTC" ||
           name == "Etc/GMT" || name == "Etc/Universal" || name == "Etc/Zulu" ||
           name == "Etc/GMT+0" || name == "Etc/GMT-0" || name == "Universal" || name == "Zulu";
}

// libical reads builtin zones as files under the zoneinfo folder, so a TZID from an untrusted
// calendar must look like a zone name and nothing else ("../../etc/passwd" must not be opened).
bool looks_like_iana_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
    if (name.find("..") != std::string::npos || name.find("//") != std::string::npos) return false;
    for (unsigned char c : name)
        if (!std::isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+') return false;
    return std::isalpha(static_cast<unsigned char>(name.front())) != 0;
}

// A zone with one offset and no DST, for "(UTC+05:45) Somewhere" and "Etc/GMT-3".
icaltimezone* fixed_offset_zone(int offset_minutes, std::vector<icaltimezone*>& owned) {
    const char sign = offset_minutes < 0 ? '-' : '+';
    const int magnitude = std::abs(offset_minutes);
    char offset[8];
    std::snprintf(offset, sizeof offset, "%c%02d%02d", sign, (magnitude / 60) % 100, magnitude % 60);
    std::string text = "BEGIN:VTIMEZONE\r\nTZID:fixed\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
                       "TZOFFSETFROM:" + std::string(offset) + "\r\nTZOFFSETTO:" + offset +
                       "\r\nTZNAME:" + offset + "\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
    icalcomponent* component = icalparser_parse_string(text.c_str());
    if (!component) return nullptr;
    icaltimezone* zone = icaltimezone_new();
    if (!icaltimezone_set_component(zone, component)) {
        icalcomponent_free(component);
        icaltimezone_free(zone, 1);
        return nullptr;
    }
    owned.push_back(zone);
    return zone;
}

icaltimezone* builtin_zone(const std::string& iana, std::vector<icaltimezone*>& owned) {
    if (is_utc_name(iana)) return icaltimezone_get_utc_timezone();
    // Etc/GMT+5 is five hours *behind* UTC (POSIX sign convention); libical has no file list
    // entry for these, so build them.
    if (iana.rfind("Etc/GMT", 0) == 0 && iana.size() > 7 && (iana[7] == '+' || iana[7] == '-')) {
        char* end = nullptr;
        long hours = std::strtol(iana.c_str() + 8, &end, 10);
        if (end && *end == '\0' && hours >= 0 && hours <= 14)
            return fixed_offset_zone(static_cast<int>(iana[7] == '+' ? -hours : hours) * 60, owned);
        return nullptr;
    }
    if (!looks_like_iana_name(iana)) return nullptr;
    return icaltimezone_get_builtin_timezone(iana.c_str());
}

std::string to_utf8(const icu::UnicodeString& s) {
    std::string out;
    s.toUTF8String(out);
    return out;
}

// ICU knows the CLDR windowsZones table: "W. Europe Standard Time" → "Europe/Berlin".
std::string iana_for_windows_id(const std::string& windows_id) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString iana;
    icu::TimeZone::getIDForWindowsID(icu::UnicodeString::fromUTF8(windows_id), nullptr, iana, status);
    if (U_FAILURE(status) || iana.isEmpty()) return {};
    return to_utf8(iana);
}

// Old IANA aliases that the system tzdata may no longer ship as files ("Asia/Calcutta").
std::string canonical_iana(const std::string& id) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString canonical;
    UBool system = false;
    icu::TimeZone::getCanonicalID(icu::UnicodeString::fromUTF8(id), canonical, system, status);
    if (U_FAILURE(status) || !system) return {};
    return to_utf8(canonical);
}

// "(UTC+01:00) Amsterdam, …" → offset minutes and the city list. Returns false otherwise.
bool split_display_name(const std::string& name, int& offset_minutes, std::string& cities) {
    if (name.rfind("(UTC", 0) != 0 && name.rfind("(GMT", 0) != 0) return false;
    const auto close = name.find(')');
    if (close == std::string::npos) return false;
    const std::string offset = name.substr(4, close - 4);
    offset_minutes = 0;
    if (!offset.empty()) {
        int hours = 0, minutes = 0;
        char sign = 0;
        if (std::sscanf(offset.c_str(), "%c%d:%d", &sign, &hours, &minutes) != 3 ||
            (sign != '+' && sign != '-') || hours > 14 || minutes > 59 || hours < 0 || minutes < 0)
            return false;
        offset_minutes = (hours * 60 + minutes) * (sign == '-' ? -1 : 1);
    }
    cities = name.substr(close + 1);
    while (!cities.empty() && cities.front() == ' ') cities.erase(cities.begin());
    return true;
}

}  // namespace

icaltimezone* find_named_zone(const std::string& tzid, std::vector<icaltimezone*>& owned,
                              std::string& note) {
    if (tzid.empty() || tzid.size() > 256) return nullptr;
    if (icaltimezone* zone = builtin_zone(tzid, owned)) return zone;

    // "/mozilla.org/20050126_1/Europe/Berlin", "/freeassociation.sourceforge.net/Europe/Berlin"
    if (tzid.front() == '/') {
        for (auto slash = tzid.find('/', 1); slash != std::string::npos; slash = tzid.find('/', slash + 1))
            if (icaltimezone* zone = builtin_zone(tzid.substr(slash + 1), owned)) return zone;
    }

    const std::string from_windows = iana_for_windows_id(tzid);
    if (!from_windows.empty())
        if (icaltimezone* zone = builtin_zone(from_windows, owned)) return zone;

    const std::string canonical = canonical_iana(tzid);
    if (!canonical.empty() && canonical != tzid)
        if (icaltimezone* zone = builtin_zone(canonical, owned)) return zone;

    int offset_minutes = 0;
    std::string cities;
    if (split_display_name(tzid, offset_minutes, cities)) {
        for (const auto& [prefix, iana] : kDisplayNames)
            if (cities.rfind(prefix, 0) == 0)
                if (icaltimezone* zone = builtin_zone(iana, owned)) return zone;
        if (offset_minutes == 0 && cities.empty()) return icaltimezone_get_utc_timezone();
        if (icaltimezone* zone = fixed_offset_zone(offset_minutes, owned)) {
            note = "TZID '" + tzid + "' not known; using its fixed offset without daylight saving";
            return zone;
        }
    }
    return nullptr;
}

ZoneResolver::ZoneResolver(const std::string& default_tz) {
    std::string note;
    default_zone_ = find_named_zone(default_tz, owned_, note);
    if (!note.empty()) setup_warnings_.push_back(note);
    if (!default_zone_) {
        setup_warnings_.push_back("default time zone '" + default_tz + "' not known; using UTC");
        default_zone_ = icaltimezone_get_utc_timezone();
    }
}

ZoneResolver::~ZoneResolver() {
    for (icaltimezone* zone : owned_) icaltimezone_free(zone, 1);
}

namespace {
// A VTIMEZONE without STANDARD/DAYLIGHT parts gives libical nothing to convert with; it would
// silently read every time as UTC.
bool has_observances(icaltimezone* zone) {
    icalcomponent* component = icaltimezone_get_component(zone);
    if (!component) return false;
    return icalcomponent_get_first_component(component, ICAL_XSTANDARD_COMPONENT) ||
           icalcomponent_get_first_component(component, ICAL_XDAYLIGHT_COMPONENT);
}
// Zones defined in calendars, shared by their text. The daemon expands every calendar again
// on each poll, and libical works out a VTIMEZONE's changes anew for every copy: from its
// DTSTART (Outlook writes 1601) year by year through its ICU-backed iterator, the largest cost
// of reading a calendar after the parse. A zone kept here keeps its changes. Guarded by the
// libical lock, like libical's own builtin zone cache; bounded, and kept for the process as
// those are. Returns nullptr when full (the calendar's own zone is used then).
constexpr std::size_t kMaxSharedZones = 256;

icaltimezone* shared_zone(icalcomponent* vtimezone) {
    static std::map<std::string, icaltimezone*>* const zones = new std::map<std::string, icaltimezone*>;
    char* printed = icalcomponent_as_ical_string_r(vtimezone);
    if (!printed) return nullptr;
    std::string text = printed;
    free(printed);
    if (auto it = zones->find(text); it != zones->end()) return it->second;
    if (zones->size() >= kMaxSharedZones) return nullptr;
    icalcomponent* copy = icalcomponent_new_clone(vtimezone);
    if (!copy) return nullptr;
    icaltimezone* zone = icaltimezone_new();
    if (!zone || !icaltimezone_set_component(zone, copy)) {
        icalcomponent_free(copy);
        if (zone) icaltimezone_free(zone, 1);
        return nullptr;
    }
    zones->emplace(std::move(text), zone);
    return zone;
}

}  // namespace

icaltimezone* ZoneResolver::resolve(icalcomponent* vcalendar, const std::string& tzid,
                                    std::vector<std::string>& warnings) {
    const auto key = std::make_pair(vcalendar, tzid);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;

    icaltimezone* zone = nullptr;
    if (vcalendar && icalcomponent_isa(vcalendar) == ICAL_VCALENDAR_COMPONENT) {
        icaltimezone* defined = icalcomponent_get_timezone(vcalendar, tzid.c_str());
        if (defined && has_observances(defined)) {
            icaltimezone* shared = shared_zone(icaltimezone_get_component(defined));
            zone = shared ? shared : defined;
        }
    }
    if (!zone) {
        std::string note;
        zone = find_named_zone(tzid, owned_, note);
        if (!note.empty()) warnings.push_back(note);
    }
    if (!zone) {
        warnings.push_back("TZID '" + tzid + "' not known; times read in " +
                           std::string(icaltimezone_get_location(default_zone_)
                                           ? icaltimezone_get_location(default_zone_)
                                           : "the default zone"));
        zone = default_zone_;
    }
    cache_.emplace(key, zone);
    return zone;
}

}  // namespace rapport::calendar

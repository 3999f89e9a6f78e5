#include "calendar/libical_support.hpp"

namespace rapport::calendar {

std::unique_lock<std::mutex> lock_libical() {
    static std::mutex mutex;
    std::unique_lock<std::mutex> lock(mutex);
    static const bool prepared = [] {
        icalerror_set_errors_are_fatal(0);
        for (int e = ICAL_BADARG_ERROR; e <= ICAL_UNKNOWN_ERROR; ++e)
            icalerror_set_error_state(static_cast<icalerrorenum>(e), ICAL_ERROR_NONFATAL);
        return true;
    }();
    (void)prepared;
    icalerror_clear_errno();
    return lock;
}

// H. Hinnant's days_from_civil.
long long day_of(const icaltimetype& t) {
    int y = t.year;
    const int m = t.month, d = t.day;
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool plausible(const icaltimetype& t) {
    if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) return false;
    if (t.year < kMinYear || t.year > kMaxYear || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > icaltime_days_in_month(t.month, t.year))
        return false;
    if (t.is_date) return true;
    return t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 &&
           t.second <= 60;
}

bool to_utc(const icaltimetype& fields, icaltimezone* zone, sys_seconds& out) {
    if (!plausible(fields)) return false;
    icaltimetype local = fields;
    if (local.is_date) {
        local.is_date = 0;
        local.hour = local.minute = local.second = 0;
    }
    local.zone = nullptr;
    const time_t t = icaltime_as_timet_with_zone(local, zone ? zone : icaltimezone_get_utc_timezone());
    out = sys_seconds(std::chrono::seconds(static_cast<long long>(t)));
    return true;
}

icaltimetype to_wall(sys_seconds t, icaltimezone* zone) {
    if (!zone) zone = icaltimezone_get_utc_timezone();
    icaltimetype wall = icaltime_from_timet_with_zone(static_cast<time_t>(t.time_since_epoch().count()), 0, zone);
    wall.zone = zone;  // 3.0.16 returns the zone's wall-clock fields marked as UTC
    return wall;
}

std::string clip(const std::string& text, std::size_t max) {
    std::string out;
    for (char c : text) {
        if (out.size() >= max) {
            out += "…";
            break;
        }
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    return out;
}

}  // namespace rapport::calendar

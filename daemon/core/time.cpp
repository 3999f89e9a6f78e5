#include "rapport/time.hpp"

#include "rapport/civil_days.hpp"

#include <cctype>
#include <cstdio>

namespace rapport {
namespace {

bool read_number(std::string_view& s, int64_t& out, size_t max_digits = 12) {
    size_t n = 0;
    int64_t v = 0;
    while (n < s.size() && n < max_digits && std::isdigit(static_cast<unsigned char>(s[n]))) {
        v = v * 10 + (s[n] - '0');
        ++n;
    }
    if (n == 0 || (n < s.size() && n == max_digits && std::isdigit(static_cast<unsigned char>(s[n]))))
        return false;
    out = v;
    s.remove_prefix(n);
    return true;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool read_fixed(std::string_view& s, size_t digits, int64_t& out) {
    if (s.size() < digits) return false;
    int64_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    s.remove_prefix(digits);
    return true;
}

bool read_date(std::string_view& s, Date& out) {
    int64_t y, m, d;
    if (!read_fixed(s, 4, y) || s.empty() || s[0] != '-') return false;
    s.remove_prefix(1);
    if (!read_fixed(s, 2, m) || s.empty() || s[0] != '-') return false;
    s.remove_prefix(1);
    if (!read_fixed(s, 2, d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, static_cast<unsigned>(m))) return false;
    out.days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    return true;
}

}  // namespace

std::optional<Seconds> parse_duration(std::string_view s) {
    if (s.empty() || s[0] != 'P') return std::nullopt;
    s.remove_prefix(1);
    bool in_time = false, any = false;
    int64_t total = 0;
    char last_unit = 0;
    // Units must come in order: W D T H M S.
    auto rank = [](char unit, bool time) -> int {
        if (!time) return unit == 'W' ? 1 : unit == 'D' ? 2 : 0;
        return unit == 'H' ? 3 : unit == 'M' ? 4 : unit == 'S' ? 5 : 0;
    };
    int last_rank = 0;
    while (!s.empty()) {
        if (s[0] == 'T') {
            if (in_time) return std::nullopt;
            in_time = true;
            s.remove_prefix(1);
            if (s.empty()) return std::nullopt;
            continue;
        }
        int64_t n;
        if (!read_number(s, n, 9) || s.empty()) return std::nullopt;
        const char unit = s[0];
        s.remove_prefix(1);
        const int r = rank(unit, in_time);
        if (r == 0 || r <= last_rank) return std::nullopt;
        last_rank = r;
        last_unit = unit;
        static const int64_t factor[] = {0, 7 * 86400, 86400, 3600, 60, 1};
        total += n * factor[r];
        any = true;
        if (total > int64_t{100} * 365 * 86400) return std::nullopt;  // over a century: a typo
    }
    (void)last_unit;
    if (!any) return std::nullopt;
    return Seconds{total};
}

std::string format_duration(Seconds d) {
    int64_t s = d.count();
    if (s == 0) return "PT0S";
    std::string out = "P";
    if (s >= 86400) {
        out += std::to_string(s / 86400) + "D";
        s %= 86400;
    }
    if (s > 0) {
        out += "T";
        if (s >= 3600) out += std::to_string(s / 3600) + "H", s %= 3600;
        if (s >= 60) out += std::to_string(s / 60) + "M", s %= 60;
        if (s > 0) out += std::to_string(s) + "S";
    }
    return out;
}

std::optional<Date> parse_date(std::string_view text) {
    Date d;
    if (!read_date(text, d) || !text.empty()) return std::nullopt;
    return d;
}

std::string format_date(Date d) {
    int64_t y;
    unsigned m, day;
    civil_from_days(d.days, y, m, day);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, day);
    return buf;
}

Date date_of(TimePoint t) {
    int64_t s = t.time_since_epoch().count();
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    return Date{days};
}

TimePoint start_of(Date d) { return TimePoint{Seconds{d.days * 86400}}; }

std::optional<TimePoint> parse_datetime(std::string_view s) {
    Date d;
    if (!read_date(s, d) || s.empty() || (s[0] != 'T' && s[0] != 't' && s[0] != ' ')) return std::nullopt;
    s.remove_prefix(1);
    int64_t hh, mm, ss = 0;
    if (!read_fixed(s, 2, hh) || s.empty() || s[0] != ':') return std::nullopt;
    s.remove_prefix(1);
    if (!read_fixed(s, 2, mm)) return std::nullopt;
    if (!s.empty() && s[0] == ':') {
        s.remove_prefix(1);
        if (!read_fixed(s, 2, ss)) return std::nullopt;
        if (!s.empty() && s[0] == '.') {
            s.remove_prefix(1);
            size_t n = 0;
            while (n < s.size() && n < 9 && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
            if (n == 0) return std::nullopt;
            s.remove_prefix(n);
        }
    }
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    int64_t offset = 0;
    if (s == "Z" || s == "z") {
        s.remove_prefix(1);
    } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        const int sign = s[0] == '-' ? -1 : 1;
        s.remove_prefix(1);
        int64_t oh, om = 0;
        if (!read_fixed(s, 2, oh)) return std::nullopt;
        if (!s.empty() && s[0] == ':') s.remove_prefix(1);
        if (!s.empty() && !read_fixed(s, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;  // a date-time without a zone is ambiguous for an API
    }
    if (!s.empty()) return std::nullopt;
    return TimePoint{Seconds{d.days * 86400 + hh * 3600 + mm * 60 + ss - offset}};
}

std::string format_datetime(TimePoint t) {
    const int64_t s = t.time_since_epoch().count();
    const Date d = date_of(t);
    const int64_t rem = s - d.days * 86400;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lldZ", format_date(d).c_str(),
                  static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                  static_cast<long long>(rem % 60));
    return buf;
}

}  // namespace rapport

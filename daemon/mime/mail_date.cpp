#include "mail_date.hpp"

#include <cstdint>
#include <cstring>

#include "rapport/civil_days.hpp"

namespace rapport::mime {
namespace {

int days_in_month(int64_t y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return kDays[m - 1];
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `word` (lower case) is `full` or a prefix of it of at least three letters.
bool names(std::string_view word, std::string_view full) {
    return word.size() >= 3 && word.size() <= full.size() && full.substr(0, word.size()) == word;
}

constexpr uint32_t key3(char a, char b, char c) {
    return static_cast<uint32_t>(static_cast<unsigned char>(a)) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(b)) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(c));
}

// Month 1..12 for "jan", "january", "sept", ...; 0 otherwise.
int month_of(std::string_view w) {
    static constexpr std::string_view kMonths[12] = {
        "january", "february", "march",     "april",   "may",      "june",
        "july",    "august",   "september", "october", "november", "december"};
    if (w.size() < 3) return 0;
    int m = 0;
    switch (key3(w[0], w[1], w[2])) {
        case key3('j', 'a', 'n'): m = 1; break;
        case key3('f', 'e', 'b'): m = 2; break;
        case key3('m', 'a', 'r'): m = 3; break;
        case key3('a', 'p', 'r'): m = 4; break;
        case key3('m', 'a', 'y'): m = 5; break;
        case key3('j', 'u', 'n'): m = 6; break;
        case key3('j', 'u', 'l'): m = 7; break;
        case key3('a', 'u', 'g'): m = 8; break;
        case key3('s', 'e', 'p'): m = 9; break;
        case key3('o', 'c', 't'): m = 10; break;
        case key3('n', 'o', 'v'): m = 11; break;
        case key3('d', 'e', 'c'): m = 12; break;
        default: return 0;
    }
    if (w.size() == 3 || names(w, kMonths[m - 1]) || (m == 9 && w == "sept")) return m;
    return 0;
}

bool is_weekday(std::string_view w) {
    static constexpr std::string_view kDays[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                                  "friday", "saturday", "sunday"};
    if (w.size() < 3) return false;
    int d = 0;
    switch (key3(w[0], w[1], w[2])) {
        case key3('m', 'o', 'n'): d = 1; break;
        case key3('t', 'u', 'e'): d = 2; break;
        case key3('w', 'e', 'd'): d = 3; break;
        case key3('t', 'h', 'u'): d = 4; break;
        case key3('f', 'r', 'i'): d = 5; break;
        case key3('s', 'a', 't'): d = 6; break;
        case key3('s', 'u', 'n'): d = 7; break;
        default: return false;
    }
    return w.size() == 3 || names(w, kDays[d - 1]) || w == "tues" || w == "thur" || w == "thurs";
}

struct ZoneName {
    std::string_view name;
    int minutes;
};

// RFC 5322 obs-zone plus the abbreviations mail software writes most often instead of an
// offset.
constexpr ZoneName kZones[] = {
    {"ut", 0},        {"utc", 0},       {"gmt", 0},       {"z", 0},         {"est", -300},
    {"edt", -240},    {"cst", -360},    {"cdt", -300},    {"mst", -420},    {"mdt", -360},
    {"pst", -480},    {"pdt", -420},    {"akst", -540},   {"akdt", -480},   {"hst", -600},
    {"wet", 0},       {"west", 60},     {"bst", 60},      {"cet", 60},      {"cest", 120},
    {"met", 60},      {"mest", 120},    {"eet", 120},     {"eest", 180},    {"msk", 180},
    {"jst", 540},     {"kst", 540},     {"hkt", 480},     {"sgt", 480},     {"awst", 480},
    {"acst", 570},    {"aest", 600},    {"aedt", 660},    {"nzst", 720},    {"nzdt", 780}};

struct Fields {
    int day = 0, month = 0;
    int64_t year = -1;
    int year_digits = 0;
    int hour = -1, minute = 0, second = 0;
    bool have_zone = false, zone_named = false, zone_guessed = false;
    int zone_minutes = 0;
    int meridiem = 0;  // 1 am, 2 pm
};

size_t read_number(std::string_view v, size_t i, int64_t& n, int& digits) {
    n = 0;
    digits = 0;
    while (i < v.size() && is_digit(v[i])) {
        if (digits < 10) n = n * 10 + (v[i] - '0');
        ++digits;
        ++i;
    }
    return i;
}

size_t skip_comment(std::string_view v, size_t i) {
    int depth = 0;
    while (i < v.size()) {
        if (v[i] == '\\') {
            i += 2;
            continue;
        }
        if (v[i] == '(') ++depth;
        if (v[i] == ')' && --depth == 0) return i + 1;
        ++i;
    }
    return v.size();
}

bool parse_fields(std::string_view v, Fields& f) {
    size_t i = 0;
    while (i < v.size()) {
        const char c = v[i];
        if (c == '(') {
            i = skip_comment(v, i);
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '.') {
            ++i;
        } else if (is_alpha(c)) {
            char buf[16];
            size_t n = 0;
            while (i < v.size() && is_alpha(v[i])) {
                if (n < sizeof buf) buf[n] = static_cast<char>(v[i] | 0x20);
                ++n;
                ++i;
            }
            if (n > sizeof buf) return false;
            const std::string_view w(buf, n);
            if (const int m = month_of(w)) {
                if (f.month) return false;
                f.month = m;
                continue;
            }
            if (is_weekday(w)) continue;
            if (w == "am" || w == "pm") {
                f.meridiem = w == "am" ? 1 : 2;
                continue;
            }
            bool zone = false;
            for (const auto& z : kZones) {
                if (w == z.name) {
                    zone = true;
                    if (!f.have_zone) {
                        f.have_zone = f.zone_named = true;
                        f.zone_minutes = z.minutes;
                    }
                    break;
                }
            }
            if (zone) continue;
            if (n == 1 && f.hour >= 0 && !f.have_zone) {  // military zone: meaning unknown
                f.have_zone = f.zone_guessed = true;
                continue;
            }
            if (f.hour >= 0 && !f.have_zone) {  // "(CET)"-style name we do not know
                f.have_zone = f.zone_guessed = true;
                continue;
            }
            if (f.have_zone) continue;  // "+0100 CET" written without parentheses
            return false;
        } else if (is_digit(c)) {
            int64_t n = 0;
            int digits = 0;
            i = read_number(v, i, n, digits);
            if (digits > 9) return false;
            if (i + 1 < v.size() && v[i] == ':' && is_digit(v[i + 1])) {
                if (f.hour >= 0 || digits > 2) return false;
                f.hour = static_cast<int>(n);
                int64_t m = 0;
                i = read_number(v, i + 1, m, digits);
                if (digits > 2) return false;
                f.minute = static_cast<int>(m);
                if (i + 1 < v.size() && v[i] == ':' && is_digit(v[i + 1])) {
                    int64_t s = 0;
                    i = read_number(v, i + 1, s, digits);
                    if (digits > 2) return false;
                    f.second = static_cast<int>(s);
                    if (i + 1 < v.size() && v[i] == '.' && is_digit(v[i + 1]))  // fractions
                        i = read_number(v, i + 1, s, digits);
                }
                continue;
            }
            if (digits >= 3) {
                if (f.year >= 0) return false;
                f.year = n;
                f.year_digits = digits;
            } else if (f.day == 0 && (f.year < 0 || f.month)) {
                f.day = static_cast<int>(n);
            } else if (f.year < 0) {
                f.year = n;
                f.year_digits = digits;
            } else {
                return false;
            }
        } else if ((c == '+' || c == '-') && f.hour >= 0 && i + 1 < v.size() && is_digit(v[i + 1])) {
            if (f.have_zone && !f.zone_named) return false;
            int64_t n = 0;
            int digits = 0;
            i = read_number(v, i + 1, n, digits);
            int minutes = 0;
            if (digits == 4) {
                minutes = static_cast<int>(n / 100 * 60 + n % 100);
                if (n % 100 >= 60) return false;
            } else if (digits <= 2) {
                minutes = static_cast<int>(n * 60);
                if (i + 2 < v.size() && v[i] == ':' && is_digit(v[i + 1]) && is_digit(v[i + 2])) {
                    const int mm = (v[i + 1] - '0') * 10 + (v[i + 2] - '0');
                    if (mm >= 60) return false;
                    minutes += mm;
                    i += 3;
                }
            } else {
                return false;
            }
            if (minutes >= 24 * 60) return false;
            // "GMT+0100" means an offset of +0100 from GMT.
            f.zone_minutes = (f.zone_named ? f.zone_minutes : 0) + (c == '-' ? -minutes : minutes);
            f.have_zone = true;
            f.zone_named = false;
            f.zone_guessed = false;
        } else if (c == '-' || c == '/') {
            ++i;  // "3-Jan-2023"
        } else {
            return false;
        }
    }
    return true;
}

// The layout nearly every mailer writes, "Tue, 3 Jan 2023 10:00:00 +0100" with an optional
// trailing "(CET)", read at fixed positions. False means "not this layout": parse_fields decides.
bool parse_canonical(std::string_view v, Fields& f) {
    size_t i = 0;
    const size_t n = v.size();
    auto digit = [&](size_t k) { return k < n && is_digit(v[k]); };
    auto num2 = [&](size_t k) { return (v[k] - '0') * 10 + (v[k + 1] - '0'); };
    while (i < n && v[i] == ' ') ++i;
    if (i + 5 <= n && is_alpha(v[i]) && v[i + 3] == ',' && v[i + 4] == ' ') {
        const char w[3] = {static_cast<char>(v[i] | 0x20), static_cast<char>(v[i + 1] | 0x20),
                           static_cast<char>(v[i + 2] | 0x20)};
        if (!is_weekday(std::string_view(w, 3))) return false;
        i += 5;
    }
    if (!digit(i)) return false;
    f.day = v[i] - '0';
    ++i;
    if (digit(i)) f.day = f.day * 10 + (v[i++] - '0');
    // " Jan 2023 10:00:00 +0100" is 24 characters.
    if (i + 24 > n || v[i] != ' ' || v[i + 4] != ' ' || v[i + 9] != ' ' || v[i + 12] != ':' ||
        v[i + 15] != ':' || v[i + 18] != ' ' || (v[i + 19] != '+' && v[i + 19] != '-'))
        return false;
    const char m[3] = {static_cast<char>(v[i + 1] | 0x20), static_cast<char>(v[i + 2] | 0x20),
                       static_cast<char>(v[i + 3] | 0x20)};
    f.month = month_of(std::string_view(m, 3));
    if (!f.month || !is_alpha(v[i + 1]) || !is_alpha(v[i + 2]) || !is_alpha(v[i + 3])) return false;
    for (size_t k : {5, 6, 7, 8, 10, 11, 13, 14, 16, 17, 20, 21, 22, 23})
        if (!is_digit(v[i + k])) return false;
    f.year = num2(i + 5) * 100 + num2(i + 7);
    f.year_digits = 4;
    f.hour = num2(i + 10);
    f.minute = num2(i + 13);
    f.second = num2(i + 16);
    const int hh = num2(i + 20), mm = num2(i + 22);
    if (mm >= 60 || hh * 60 + mm >= 24 * 60) return false;
    f.zone_minutes = (v[i + 19] == '-' ? -1 : 1) * (hh * 60 + mm);
    f.have_zone = true;
    i += 24;
    // Only blanks and one simple comment may follow.
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) ++i;
    if (i < n && v[i] == '(') {
        ++i;
        while (i < n && v[i] != ')' && v[i] != '(' && v[i] != '\\') ++i;
        if (i >= n || v[i] != ')') return false;
        ++i;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) ++i;
    }
    return i == n;
}

}  // namespace

std::optional<SysSeconds> parse_mail_date(std::string_view value, std::string_view* assumption) {
    if (assumption) *assumption = {};
    Fields f;
    if (!parse_canonical(value, f)) {
        f = Fields{};
        if (!parse_fields(value, f)) return std::nullopt;
    }
    if (f.day == 0 || f.month == 0 || f.year < 0 || f.hour < 0) return std::nullopt;
    int64_t year = f.year;
    if (f.year_digits == 2) year += year < 50 ? 2000 : 1900;
    if (f.year_digits == 3) year += 1900;
    if (year < 1900 || year > 9999) return std::nullopt;
    if (f.day < 1 || f.day > days_in_month(year, f.month)) return std::nullopt;
    int hour = f.hour;
    if (f.meridiem) {
        if (hour < 1 || hour > 12) return std::nullopt;
        hour = hour % 12 + (f.meridiem == 2 ? 12 : 0);
    }
    if (hour > 23 || f.minute > 59 || f.second > 60) return std::nullopt;
    if (assumption) {
        if (!f.have_zone)
            *assumption = "no time zone; taken as UTC";
        else if (f.zone_guessed)
            *assumption = "unknown time zone; taken as UTC";
    }
    const int64_t days = days_from_civil(year, static_cast<unsigned>(f.month),
                                         static_cast<unsigned>(f.day));
    const int64_t secs = days * 86400 + hour * 3600 + f.minute * 60 + f.second -
                         static_cast<int64_t>(f.zone_minutes) * 60;
    return SysSeconds(std::chrono::seconds(secs));
}

}  // namespace rapport::mime

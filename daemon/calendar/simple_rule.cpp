#include "calendar/simple_rule.hpp"

#include "calendar/libical_support.hpp"

namespace rapport::calendar {
namespace {

int weekday_of(long long day) {  // 0 = Sunday; 1970-01-01 was a Thursday
    const long long w = (day + 4) % 7;
    return static_cast<int>(w < 0 ? w + 7 : w);
}

// H. Hinnant's civil_from_days, the inverse of day_of().
void civil_from_days(long long z, int& year, int& month, int& day) {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(static_cast<long long>(yoe) + era * 400 + (month <= 2));
}

template <std::size_t N>
bool empty_list(const short (&list)[N]) {
    return list[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

}  // namespace

std::optional<SimpleRule> SimpleRule::make(const icalrecurrencetype& rule, const icaltimetype& dtstart) {
    if (rule.freq != ICAL_DAILY_RECURRENCE && rule.freq != ICAL_WEEKLY_RECURRENCE) return std::nullopt;
    if (rule.interval < 1 || rule.count < 0 || (rule.rscale && *rule.rscale)) return std::nullopt;
    if (!empty_list(rule.by_second) || !empty_list(rule.by_minute) || !empty_list(rule.by_hour) ||
        !empty_list(rule.by_month_day) || !empty_list(rule.by_year_day) || !empty_list(rule.by_week_no) ||
        !empty_list(rule.by_month) || !empty_list(rule.by_set_pos))
        return std::nullopt;
    if (!plausible(dtstart)) return std::nullopt;

    SimpleRule r;
    r.start_ = dtstart;
    r.start_.zone = nullptr;
    r.first_day_ = day_of(dtstart);
    const int first_weekday = weekday_of(r.first_day_);
    for (std::size_t i = 0; i < ICAL_BY_DAY_SIZE && rule.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
        if (icalrecurrencetype_day_position(rule.by_day[i]) != 0) return std::nullopt;
        const int w = static_cast<int>(icalrecurrencetype_day_day_of_week(rule.by_day[i])) - 1;
        if (w < 0 || w > 6) return std::nullopt;
        r.weekdays_ |= 1u << w;
    }
    if (r.weekdays_ == 0) r.weekdays_ = rule.freq == ICAL_WEEKLY_RECURRENCE ? 1u << first_weekday : 0x7f;
    // A DTSTART outside the rule: libical neither gives nor counts it. Left to libical.
    if (!(r.weekdays_ & (1u << first_weekday))) return std::nullopt;

    if (!icaltime_is_null_time(rule.until)) {
        if (dtstart.is_date || rule.until.is_date || !icaltime_is_utc(rule.until)) return std::nullopt;
        sys_seconds until;
        if (!to_utc(rule.until, icaltimezone_get_utc_timezone(), until)) return std::nullopt;
        r.until_ = until;
    }
    r.count_ = rule.count;
    if (rule.freq == ICAL_DAILY_RECURRENCE) {
        r.period_length_ = 1;
        r.stride_ = rule.interval;
        r.period_start_ = r.first_day_;
    } else {
        const int week_start = static_cast<int>(rule.week_start) - 1;  // libical defaults to Monday
        if (week_start < 0 || week_start > 6) return std::nullopt;
        r.period_length_ = 7;
        r.stride_ = 7LL * rule.interval;
        r.period_start_ = r.first_day_ - (first_weekday - week_start + 7) % 7;
    }
    return r;
}

icaltimetype SimpleRule::next() {
    if (count_ > 0 && given_ >= count_) return icaltime_null_time();
    // Every period holds DTSTART's weekday class within 7 periods (DAILY) or every weekday
    // (WEEKLY), so this ends: at most 7 periods of 7 days.
    for (;;) {
        const long long day = period_start_ + offset_;
        if (++offset_ == period_length_) {
            offset_ = 0;
            period_start_ += stride_;
        }
        if (day < first_day_ || !(weekdays_ & (1u << weekday_of(day)))) continue;
        icaltimetype t = start_;
        civil_from_days(day, t.year, t.month, t.day);
        ++given_;
        return t;
    }
}

void SimpleRule::skip_to(long long day) {
    if (count_ > 0 || day < period_start_ + stride_) return;
    period_start_ += (day - period_start_) / stride_ * stride_;
    offset_ = 0;
}

}  // namespace rapport::calendar

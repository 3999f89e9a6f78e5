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
    if (rule.freq != ICAL_DAILY_RECURRENCE && rule.freq != ICAL_WEEKLY_RECURRENCE &&
        rule.freq != ICAL_MONTHLY_RECURRENCE)
        return std::nullopt;
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
    bool any_day = false;
    for (std::size_t i = 0; i < ICAL_BY_DAY_SIZE && rule.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
        const int position = icalrecurrencetype_day_position(rule.by_day[i]);
        const int w = static_cast<int>(icalrecurrencetype_day_day_of_week(rule.by_day[i])) - 1;
        if (w < 0 || w > 6) return std::nullopt;
        any_day = true;
        if (position == 0) {
            r.weekdays_ |= 1u << w;
        } else {
            if (rule.freq != ICAL_MONTHLY_RECURRENCE || position < -5 || position > 5) return std::nullopt;
            r.ordinals_[w] |= static_cast<unsigned short>(1u << (position > 0 ? position - 1 : 5 - position - 1));
        }
    }
    if (rule.freq == ICAL_MONTHLY_RECURRENCE) {
        if (!any_day) return std::nullopt;  // the same day of each month: libical's business (the 31st)
        r.period_kind_ = Period::month;
        r.period_ = static_cast<long long>(dtstart.year) * 12 + dtstart.month - 1;
        r.stride_ = rule.interval;
    } else {
        if (!any_day) r.weekdays_ = rule.freq == ICAL_WEEKLY_RECURRENCE ? 1u << first_weekday : 0x7f;
        if (rule.freq == ICAL_DAILY_RECURRENCE) {
            r.period_kind_ = Period::day;
            r.period_ = r.first_day_;
            r.stride_ = rule.interval;
        } else {
            const int week_start = static_cast<int>(rule.week_start) - 1;  // libical defaults to Monday
            if (week_start < 0 || week_start > 6) return std::nullopt;
            r.period_kind_ = Period::week;
            r.period_ = r.first_day_ - (first_weekday - week_start + 7) % 7;
            r.stride_ = 7LL * rule.interval;
        }
    }
    // A DTSTART outside the rule is neither given nor counted, as by libical (the expansion
    // adds DTSTART itself).
    r.fill();

    if (!icaltime_is_null_time(rule.until)) {
        if (dtstart.is_date || rule.until.is_date || !icaltime_is_utc(rule.until)) return std::nullopt;
        sys_seconds until;
        if (!to_utc(rule.until, icaltimezone_get_utc_timezone(), until)) return std::nullopt;
        r.until_ = until;
    }
    r.count_ = rule.count;
    return r;
}

void SimpleRule::fill() {
    day_count_ = 0;
    day_pos_ = 0;
    switch (period_kind_) {
        case Period::day:
            if (weekdays_ & (1u << weekday_of(period_))) days_[day_count_++] = period_;
            break;
        case Period::week:
            for (long long d = period_; d < period_ + 7; ++d)
                if (weekdays_ & (1u << weekday_of(d))) days_[day_count_++] = d;
            break;
        case Period::month: {
            const int year = static_cast<int>(period_ / 12), month = static_cast<int>(period_ % 12) + 1;
            icaltimetype first = icaltime_null_date();
            first.year = year;
            first.month = month;
            first.day = 1;
            const long long first_day = day_of(first);
            const int length = icaltime_days_in_month(month, year);
            const int first_weekday = weekday_of(first_day);
            for (int i = 0; i < length; ++i) {
                const int w = (first_weekday + i) % 7;
                const int nth = i / 7 + 1, nth_last = (length - 1 - i) / 7 + 1;
                if ((weekdays_ & (1u << w)) || (ordinals_[w] & (1u << (nth - 1))) ||
                    (ordinals_[w] & (1u << (5 + nth_last - 1))))
                    days_[day_count_++] = first_day + i;
            }
            break;
        }
    }
}

icaltimetype SimpleRule::next() {
    if (count_ > 0 && given_ >= count_) return icaltime_null_time();
    // Each period is filled in turn; every few periods hold an instance (DTSTART showed that
    // the pattern occurs), and the year limit ends the rest.
    for (;;) {
        while (day_pos_ < day_count_) {
            const long long day = days_[day_pos_++];
            if (day < first_day_) continue;
            icaltimetype t = start_;
            civil_from_days(day, t.year, t.month, t.day);
            if (t.year > kMaxYear) return icaltime_null_time();
            ++given_;
            return t;
        }
        period_ += stride_;
        if ((period_kind_ == Period::month ? period_ / 12 : period_ / 365 + 1970) > kMaxYear + 1)
            return icaltime_null_time();
        fill();
    }
}

void SimpleRule::skip_to(long long day) {
    if (count_ > 0) return;
    long long target = day;
    if (period_kind_ == Period::month) {
        int year, month, d;
        civil_from_days(day, year, month, d);
        target = static_cast<long long>(year) * 12 + month - 1;
    }
    if (target < period_ + stride_) return;
    period_ += (target - period_) / stride_ * stride_;
    fill();
}

}  // namespace rapport::calendar

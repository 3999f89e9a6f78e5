#pragma once
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// exact, branch-light, no time-zone database. Header-only; shared by the core and the
// header parser.
#include <cstdint>

namespace rapport {

inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace rapport

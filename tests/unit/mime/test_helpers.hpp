#pragma once
// Small helpers for the header-parser tests: UTC date literals and joining lines with CRLF.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "mime/message_headers.hpp"

namespace rapport::mime::test {

inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

inline SysSeconds utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
    return SysSeconds(std::chrono::seconds(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s));
}

// Lines joined with CRLF, plus the empty line IMAP sends after HEADER.FIELDS.
inline std::string crlf(std::initializer_list<std::string_view> lines) {
    std::string out;
    for (auto l : lines) {
        out.append(l);
        out.append("\r\n");
    }
    out.append("\r\n");
    return out;
}

inline bool has_warning(const MessageHeaders& h, std::string_view part) {
    for (const auto& w : h.warnings)
        if (w.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace rapport::mime::test

#pragma once
// IMAP's keywords (commands, FETCH items, response codes, capabilities) are ASCII and
// case-insensitive (RFC 9051 §4). They are upper-cased here byte by byte, not with
// std::toupper, which follows the process's locale (a Turkish one can make 'i' something
// other than 'I') and is a libc call per byte: with the two copies of upper() this replaces,
// ~3 % of rapportd's perf samples in a first scan (the scan's time did not measurably change).
#include <string>
#include <string_view>

namespace rapport::imap {

constexpr char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }

inline std::string ascii_upper(std::string_view s) {
    std::string r(s);
    for (char& c : r) c = ascii_upper(c);
    return r;
}

}  // namespace rapport::imap

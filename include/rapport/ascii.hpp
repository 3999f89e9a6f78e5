#pragma once
// ASCII case folding for matching cues in mail text (subjects, sender names, report bodies)
// and IMAP keywords (commands, FETCH items, response codes, capabilities: ASCII and
// case-insensitive, RFC 9051 §4): bytes outside a-z/A-Z, UTF-8 included, are left as they
// are, whatever the process's locale (std::toupper follows it; a Turkish one can make 'i'
// something other than 'I'). Addresses are folded with full Unicode rules instead
// (address.hpp). Header-only, like utf8.hpp.
#include <string>
#include <string_view>

namespace rapport {

inline char ascii_lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower_char(c);
    return out;
}

inline char ascii_upper_char(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }

inline std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_upper_char(c);
    return out;
}

}  // namespace rapport

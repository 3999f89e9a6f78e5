#pragma once
// ASCII case folding for matching cues in mail text (subjects, sender names, report bodies):
// the cues are ASCII, so bytes outside A-Z, UTF-8 included, are left as they are. Addresses
// are folded with full Unicode rules instead (address.hpp). Header-only, like utf8.hpp.
#include <string>
#include <string_view>

namespace rapport {

inline char ascii_lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower_char(c);
    return out;
}

}  // namespace rapport

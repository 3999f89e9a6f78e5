#pragma once
// ASCII case folding for matching cues in mail text (subjects, sender names, report bodies):
// the cues are ASCII, so bytes outside A-Z, UTF-8 included, are left as they are. Addresses
// are folded with full Unicode rules instead (address.hpp). Header-only, like utf8.hpp.
#include <string>
#include <string_view>

namespace rapport {

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    return out;
}

}  // namespace rapport

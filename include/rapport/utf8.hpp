#pragma once
// UTF-8 code points in and out, shared by every parser that meets UTF-8 (addresses, IMAP
// mailbox names, CalDAV XML, mail headers). Header-only so that libraries which do not link
// the core (the IMAP protocol core, the header parser) can use it too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rapport::utf8 {

// Decodes the code point at s[i] and advances i. False (i unchanged) for an ill-formed
// sequence: bad lead or continuation byte, truncation, overlong form, surrogate, > U+10FFFF.
inline bool decode(std::string_view s, std::size_t& i, std::uint32_t& cp) {
    if (i >= s.size()) return false;
    const auto b0 = static_cast<unsigned char>(s[i]);
    int len = 0;
    if (b0 < 0x80) cp = b0, len = 1;
    else if ((b0 & 0xE0) == 0xC0) cp = b0 & 0x1F, len = 2;
    else if ((b0 & 0xF0) == 0xE0) cp = b0 & 0x0F, len = 3;
    else if ((b0 & 0xF8) == 0xF0) cp = b0 & 0x07, len = 4;
    else return false;
    if (i + static_cast<std::size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
    }
    static const std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<std::size_t>(len);
    return true;
}

// Appends cp; anything that is not a Unicode scalar value becomes U+FFFD.
inline void append(std::string& out, std::uint32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace rapport::utf8

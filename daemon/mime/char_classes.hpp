#pragma once
// One table lookup per byte for the RFC 5322 character classes the lexers need.
#include <array>
#include <cstdint>

namespace rapport::mime {

enum CharClass : uint8_t {
    kAtext = 1,    // atom text; bytes >= 0x80 included (RFC 6532)
    kBlank = 2,    // whitespace, folding, and control characters (never part of a token)
    kSpecial = 4,  // ()<>[]:;@\,."
    kDot = 8,
};

constexpr std::array<uint8_t, 256> make_char_classes() {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        if (c < 0x20 || c == 0x7F || c == ' ')
            t[c] = kBlank;
        else
            t[c] = kAtext;
    }
    for (char c : {'(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"'})
        t[static_cast<unsigned char>(c)] = kSpecial;
    t[static_cast<unsigned char>('.')] = kSpecial | kDot;
    return t;
}

inline constexpr std::array<uint8_t, 256> kCharClasses = make_char_classes();

inline uint8_t char_class(char c) { return kCharClasses[static_cast<unsigned char>(c)]; }

}  // namespace rapport::mime

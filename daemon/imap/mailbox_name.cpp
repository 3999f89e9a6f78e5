#include "mailbox_name.hpp"

#include <cstdint>
#include <vector>

#include "rapport/utf8.hpp"

namespace rapport::imap {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

void flush_base64(std::string& out, std::vector<std::uint16_t>& units) {
    if (units.empty()) return;
    out += '&';
    std::uint32_t bits = 0;
    int nbits = 0;
    for (std::uint16_t u : units) {
        for (int shift = 8; shift >= 0; shift -= 8) {
            bits = (bits << 8) | ((u >> shift) & 0xFF);
            nbits += 8;
            while (nbits >= 6) {
                nbits -= 6;
                out += alphabet[(bits >> nbits) & 0x3F];
            }
        }
    }
    if (nbits > 0) out += alphabet[(bits << (6 - nbits)) & 0x3F];
    out += '-';
    units.clear();
}
}  // namespace

std::optional<std::string> encode_mailbox_name(std::string_view utf8) {
    std::string out;
    std::vector<std::uint16_t> units;
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::uint32_t cp = 0;
        if (!rapport::utf8::decode(utf8, i, cp)) return std::nullopt;
        if (cp >= 0x20 && cp <= 0x7E) {
            flush_base64(out, units);
            out += static_cast<char>(cp);
            if (cp == '&') out += '-';
        } else if (cp >= 0x10000) {
            const std::uint32_t v = cp - 0x10000;
            units.push_back(static_cast<std::uint16_t>(0xD800 | (v >> 10)));
            units.push_back(static_cast<std::uint16_t>(0xDC00 | (v & 0x3FF)));
        } else {
            units.push_back(static_cast<std::uint16_t>(cp));
        }
    }
    flush_base64(out, units);
    return out;
}

std::optional<std::string> decode_mailbox_name(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E)
            return std::nullopt;
        if (c != '&') {
            out += c;
            ++i;
            continue;
        }
        ++i;
        const std::size_t end = s.find('-', i);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == i) {
            out += '&';
            i = end + 1;
            continue;
        }
        std::vector<std::uint16_t> units;  // decoded bytes, paired into UTF-16 below
        std::uint32_t bits = 0;
        int nbits = 0;
        for (std::size_t k = i; k < end; ++k) {
            const int v = alphabet_index(s[k]);
            if (v < 0) return std::nullopt;
            bits = ((bits << 6) | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
            nbits += 6;
            if (nbits >= 8) {
                nbits -= 8;
                units.push_back(static_cast<std::uint16_t>((bits >> nbits) & 0xFF));
            }
        }
        if (units.size() % 2 != 0) return std::nullopt;
        std::vector<std::uint16_t> code_units;
        for (std::size_t k = 0; k < units.size(); k += 2)
            code_units.push_back(static_cast<std::uint16_t>((units[k] << 8) | units[k + 1]));
        for (std::size_t k = 0; k < code_units.size(); ++k) {
            std::uint32_t cp = code_units[k];
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (k + 1 >= code_units.size()) return std::nullopt;
                const std::uint32_t lo = code_units[++k];
                if (lo < 0xDC00 || lo > 0xDFFF) return std::nullopt;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return std::nullopt;
            }
            // Printable ASCII must not be base64-encoded (RFC 3501), but accept it leniently.
            rapport::utf8::append(out, cp);
        }
        i = end + 1;
    }
    return out;
}

}  // namespace rapport::imap

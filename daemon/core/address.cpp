#include "rapport/address.hpp"

#include <cstdint>
#include <vector>

#include "rapport/utf8.hpp"

namespace rapport {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool decode_utf8(std::string_view s, std::vector<uint32_t>& out) {
    for (std::size_t i = 0; i < s.size();) {
        uint32_t cp = 0;
        if (!utf8::decode(s, i, cp)) return false;
        out.push_back(cp);
    }
    return true;
}

void encode_utf8(uint32_t cp, std::string& out) { utf8::append(out, cp); }

// Simple case folding for the scripts domain names and local parts actually use here:
// ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. Full IDNA mapping (NFC, width) would
// need ICU, which the pure core does not link.
uint32_t fold_case(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 &&
        cp != 0x17F) {
        const bool odd_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_lower) return (cp % 2 == 1) ? cp + 1 : cp;
        return (cp % 2 == 0) ? cp + 1 : cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    return cp;
}

std::optional<std::string> lower_utf8(std::string_view s) {
    // Nearly every address is ASCII: lower it in place without decoding (the lookup hot path).
    bool ascii = true;
    for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii) {
        std::string out(s);
        for (auto& c : out)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        return out;
    }
    std::vector<uint32_t> cps;
    if (!decode_utf8(s, cps)) return std::nullopt;
    std::string out;
    out.reserve(s.size());
    for (uint32_t cp : cps) encode_utf8(fold_case(cp), out);
    return out;
}

bool is_atext(char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;  // RFC 6532: UTF-8 local parts
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    static const std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
    return specials.find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    char prev = 0;
    for (char c : s) {
        if (c == '.') {
            if (prev == '.') return false;
        } else if (!is_atext(c)) {
            return false;
        }
        prev = c;
    }
    return true;
}

}  // namespace

std::optional<std::string> punycode_encode(std::string_view utf8_label) {
    std::vector<uint32_t> input;
    if (!decode_utf8(utf8_label, input)) return std::nullopt;
    constexpr uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
    auto digit = [](uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); };
    auto adapt = [&](uint32_t delta, uint32_t numpoints, bool first) {
        delta = first ? delta / damp : delta / 2;
        delta += delta / numpoints;
        uint32_t k = 0;
        while (delta > ((base - tmin) * tmax) / 2) {
            delta /= base - tmin;
            k += base;
        }
        return k + (base - tmin + 1) * delta / (delta + skew);
    };
    std::string out;
    for (uint32_t cp : input)
        if (cp < 0x80) out += static_cast<char>(cp);
    const uint32_t basic = static_cast<uint32_t>(out.size());
    uint32_t handled = basic;
    if (basic > 0) out += '-';
    uint32_t n = 0x80, delta = 0, bias = 72;
    while (handled < input.size()) {
        uint32_t m = UINT32_MAX;
        for (uint32_t cp : input)
            if (cp >= n && cp < m) m = cp;
        if ((m - n) > (UINT32_MAX - delta) / (handled + 1)) return std::nullopt;
        delta += (m - n) * (handled + 1);
        n = m;
        for (uint32_t cp : input) {
            if (cp < n && ++delta == 0) return std::nullopt;
            if (cp == n) {
                uint32_t q = delta;
                for (uint32_t k = base;; k += base) {
                    const uint32_t t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
                    if (q < t) break;
                    out += digit(t + (q - t) % (base - t));
                    q = (q - t) / (base - t);
                }
                out += digit(q);
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                ++handled;
            }
        }
        ++delta;
        ++n;
    }
    return out;
}

std::optional<std::string> normalize_domain(std::string_view text) {
    text = trim(text);
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    if (text.empty() || text.size() > 253 * 4) return std::nullopt;
    if (text.front() == '[' && text.back() == ']') return std::string(text);  // address literal
    auto lowered = lower_utf8(text);
    if (!lowered) return std::nullopt;
    std::string out;
    std::string_view rest = *lowered;
    while (true) {
        const auto dot = rest.find('.');
        std::string_view label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return std::nullopt;
        bool ascii = true;
        for (char c : label) {
            const unsigned char u = static_cast<unsigned char>(c);
            if (u >= 0x80) {
                ascii = false;
            } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return std::nullopt;
            }
        }
        if (ascii) {
            out += label;
        } else {
            auto encoded = punycode_encode(label);
            if (!encoded) return std::nullopt;
            out += "xn--" + *encoded;
        }
        if (dot == std::string_view::npos) break;
        out += '.';
        rest.remove_prefix(dot + 1);
    }
    if (out.size() > 253) return std::nullopt;
    return out;
}

std::optional<ParsedAddress> parse_address(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 2048) return std::nullopt;
    ParsedAddress result;
    std::string_view spec = text;
    const auto open = text.rfind('<');
    if (open != std::string_view::npos && text.back() == '>') {
        std::string_view name = trim(text.substr(0, open));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            name = name.substr(1, name.size() - 2);
            for (std::size_t i = 0; i < name.size(); ++i) {
                if (name[i] == '\\' && i + 1 < name.size()) ++i;
                result.display_name += name[i];
            }
        } else {
            result.display_name = std::string(name);
        }
        spec = trim(text.substr(open + 1, text.size() - open - 2));
        // Obsolete source routes: <@relay1,@relay2:jane@acme.example>
        if (!spec.empty() && spec.front() == '@') {
            const auto colon = spec.find(':');
            if (colon == std::string_view::npos) return std::nullopt;
            spec = spec.substr(colon + 1);
        }
    }
    if (spec.size() >= 7) {
        std::string head(spec.substr(0, 7));
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (head == "mailto:") spec.remove_prefix(7);
    }
    const auto at = spec.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= spec.size()) return std::nullopt;
    std::string_view local = spec.substr(0, at);
    std::string local_text;
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
        for (std::size_t i = 1; i + 1 < local.size(); ++i) {
            if (local[i] == '\\' && i + 2 < local.size()) ++i;
            const unsigned char c = static_cast<unsigned char>(local[i]);
            if (c < 0x20 || c == 0x7F) return std::nullopt;
            local_text += local[i];
        }
        if (local_text.empty()) return std::nullopt;
    } else {
        if (!is_dot_atom(local)) return std::nullopt;
        local_text = std::string(local);
    }
    auto lowered = lower_utf8(local_text);
    if (!lowered) return std::nullopt;
    if (is_dot_atom(*lowered)) {
        result.local = std::move(*lowered);
    } else {
        // Keep the quotes where the local part needs them, so the result is a valid address.
        result.local = "\"";
        for (char c : *lowered) {
            if (c == '"' || c == '\\') result.local += '\\';
            result.local += c;
        }
        result.local += "\"";
    }
    auto domain = normalize_domain(spec.substr(at + 1));
    if (!domain) return std::nullopt;
    result.domain = std::move(*domain);
    return result;
}

bool is_normalized_address(std::string_view text) {
    const auto at = text.find('@');
    if (at == 0 || at == std::string_view::npos || text.size() > 2048) return false;
    const std::string_view local = text.substr(0, at), domain = text.substr(at + 1);
    for (char c : local)
        if (static_cast<unsigned char>(c) >= 0x80 || (c >= 'A' && c <= 'Z')) return false;
    if (!is_dot_atom(local) || domain.empty() || domain.size() > 253) return false;
    std::size_t label = 0;  // length of the label so far
    char prev = '.';
    for (char c : domain) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c == '-' && label > 0)) {
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

std::optional<std::string> normalize_address(std::string_view text) {
    auto parsed = parse_address(text);
    if (!parsed) return std::nullopt;
    return parsed->normalized();
}

}  // namespace rapport

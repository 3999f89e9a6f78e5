#include "charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <unordered_map>

namespace rapport::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr size_t kMaxCharsetName = 64;

void append_code_point(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Windows-1252 0x80..0x9F; 0 marks the five unassigned bytes. ISO-8859-1 labels are decoded
// with this table too: mail software labels cp1252 text (curly quotes, the euro sign) as
// latin-1 so often that browsers and mail clients all do the same, and C1 controls never
// belong in a header.
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_cp1252(std::string& out, std::string_view in) {
    for (unsigned char c : in) {
        if (c == 0) continue;
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0xA0) {
            const uint16_t cp = kCp1252High[c - 0x80];
            if (cp == 0)
                out.append(kReplacement);
            else
                append_code_point(out, cp);
        } else {
            append_code_point(out, c);
        }
    }
}

void append_latin9(std::string& out, std::string_view in) {
    for (unsigned char c : in) {
        if (c == 0) continue;
        uint32_t cp = c;
        switch (c) {
            case 0xA4: cp = 0x20AC; break;
            case 0xA6: cp = 0x0160; break;
            case 0xA8: cp = 0x0161; break;
            case 0xB4: cp = 0x017D; break;
            case 0xB8: cp = 0x017E; break;
            case 0xBC: cp = 0x0152; break;
            case 0xBD: cp = 0x0153; break;
            case 0xBE: cp = 0x0178; break;
            default: break;
        }
        if (cp >= 0x80 && cp < 0xA0)
            out.append(kReplacement);
        else
            append_code_point(out, cp);
    }
}

enum class Charset { Utf8, Cp1252, Latin9, Other, Invalid };

// Lower-cases the name without its RFC 2231 "*language" suffix into `buf`.
std::string_view normalize_name(std::string_view name, char (&buf)[kMaxCharsetName + 1]) {
    const size_t star = name.find('*');
    if (star != std::string_view::npos) name = name.substr(0, star);
    if (name.empty() || name.size() > kMaxCharsetName) return {};
    for (size_t i = 0; i < name.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
        if (!ok) return {};
        buf[i] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return {buf, name.size()};
}

Charset classify(std::string_view n) {
    if (n.empty()) return Charset::Invalid;
    if (n == "utf-8" || n == "utf8" || n == "us-ascii" || n == "ascii" || n == "ansi_x3.4-1968")
        return Charset::Utf8;  // mislabeled 8-bit "us-ascii" is nearly always UTF-8
    if (n == "iso-8859-1" || n == "iso8859-1" || n == "iso_8859-1" || n == "latin1" ||
        n == "latin-1" || n == "l1" || n == "windows-1252" || n == "cp1252" || n == "x-cp1252")
        return Charset::Cp1252;
    if (n == "iso-8859-15" || n == "iso8859-15" || n == "iso_8859-15" || n == "latin9" ||
        n == "latin-9")
        return Charset::Latin9;
    return Charset::Other;
}

// Labels that name a subset of what senders actually use; decode with the superset, as
// browsers do.
std::string iconv_name(std::string_view n) {
    if (n == "gb2312" || n == "gbk" || n == "x-gbk" || n == "euc-cn") return "GB18030";
    if (n == "shift_jis" || n == "shift-jis" || n == "sjis" || n == "x-sjis" || n == "ms_kanji")
        return "CP932";
    if (n == "ks_c_5601-1987" || n == "euc-kr") return "CP949";
    if (n == "iso-2022-jp") return "ISO-2022-JP-2";
    if (n == "tis-620") return "CP874";
    return std::string(n);
}

// iconv_open costs microseconds, so descriptors are kept per thread. Bounded: junk charset
// names in hostile mail must not grow it without limit.
class IconvCache {
public:
    ~IconvCache() {
        for (auto& [name, cd] : map_)
            if (cd != invalid()) iconv_close(cd);
    }
    // Returns invalid() for unknown charsets; `owned` tells the caller to close it.
    iconv_t get(std::string_view name, bool& owned) {
        owned = false;
        const auto it = map_.find(std::string(name));
        if (it != map_.end()) return it->second;
        iconv_t cd = iconv_open("UTF-8", iconv_name(name).c_str());
        if (map_.size() < kMaxEntries)
            map_.emplace(std::string(name), cd);
        else
            owned = cd != invalid();
        return cd;
    }
    static iconv_t invalid() { return reinterpret_cast<iconv_t>(-1); }

private:
    static constexpr size_t kMaxEntries = 64;
    std::unordered_map<std::string, iconv_t> map_;
};

IconvCache& iconv_cache() {
    thread_local IconvCache cache;
    return cache;
}

void convert_with_iconv(iconv_t cd, std::string_view in, std::string& out) {
    iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
    std::string utf8;
    char buf[1024];
    char* inp = const_cast<char*>(in.data());
    size_t inleft = in.size();
    while (true) {
        char* outp = buf;
        size_t outleft = sizeof buf;
        const size_t r = iconv(cd, inleft ? &inp : nullptr, inleft ? &inleft : nullptr, &outp,
                               &outleft);
        utf8.append(buf, static_cast<size_t>(outp - buf));
        if (r != static_cast<size_t>(-1)) {
            if (inleft == 0) {
                // Flush the shift state (ISO-2022-JP ends in ASCII) and stop.
                outp = buf;
                outleft = sizeof buf;
                iconv(cd, nullptr, nullptr, &outp, &outleft);
                utf8.append(buf, static_cast<size_t>(outp - buf));
                break;
            }
            continue;
        }
        if (errno == E2BIG) continue;
        if (errno == EILSEQ && inleft > 0) {
            utf8.append(kReplacement);
            ++inp;
            --inleft;
            continue;
        }
        // EINVAL: an incomplete sequence ends the input.
        utf8.append(kReplacement);
        break;
    }
    append_utf8_sanitized(out, utf8);
}

}  // namespace

void append_utf8_sanitized(std::string& out, std::string_view in) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = in.size();
    size_t i = 0;
    size_t run_start = 0;  // start of a valid run not yet appended
    auto flush = [&](size_t end) {
        if (end > run_start) out.append(in.data() + run_start, end - run_start);
    };
    while (i < n) {
        // ASCII without NUL, eight bytes at a time: the common case.
        while (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            const uint64_t high = w & 0x8080808080808080ULL;
            const uint64_t zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
            if (high | zero) break;
            i += 8;
        }
        if (i >= n) break;
        const unsigned char c = p[i];
        if (c >= 0x01 && c < 0x80) {
            ++i;
            continue;
        }
        if (c == 0) {
            flush(i);
            run_start = ++i;
            continue;
        }
        // Length and the allowed range of the second byte (Unicode table 3-7).
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        size_t good = 0;  // bytes of a valid prefix of the sequence
        if (len != 0) {
            good = 1;
            if (i + 1 < n && p[i + 1] >= lo && p[i + 1] <= hi) {
                good = 2;
                while (good < len && i + good < n && (p[i + good] & 0xC0) == 0x80) ++good;
            }
        }
        if (len != 0 && good == len) {
            i += len;
            continue;
        }
        // Replace the maximal invalid subpart (at least one byte) with one U+FFFD.
        flush(i);
        out.append(kReplacement);
        i += good == 0 ? 1 : good;
        run_start = i;
    }
    flush(n);
}

bool charset_is_utf8(std::string_view charset) {
    char buf[kMaxCharsetName + 1];
    return classify(normalize_name(charset, buf)) == Charset::Utf8;
}

bool is_clean_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            const uint64_t high = w & 0x8080808080808080ULL;
            const uint64_t zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
            if (high | zero) break;
            i += 8;
        }
        if (i >= n) break;
        const unsigned char c = p[i];
        if (c == 0) return false;
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return false;
        for (size_t k = 2; k < len; ++k)
            if ((p[i + k] & 0xC0) != 0x80) return false;
        i += len;
    }
    return true;
}

bool charset_known(std::string_view charset) {
    char buf[kMaxCharsetName + 1];
    const std::string_view name = normalize_name(charset, buf);
    const Charset cs = classify(name);
    if (cs == Charset::Invalid) return false;
    if (cs != Charset::Other) return true;
    bool owned = false;
    iconv_t cd = iconv_cache().get(name, owned);
    if (owned) iconv_close(cd);
    return cd != IconvCache::invalid();
}

bool append_decoded(std::string& out, std::string_view charset, std::string_view bytes) {
    char buf[kMaxCharsetName + 1];
    const std::string_view name = normalize_name(charset, buf);
    switch (classify(name)) {
        case Charset::Utf8: append_utf8_sanitized(out, bytes); return true;
        case Charset::Cp1252: append_cp1252(out, bytes); return true;
        case Charset::Latin9: append_latin9(out, bytes); return true;
        case Charset::Invalid: return false;
        case Charset::Other: break;
    }
    bool owned = false;
    iconv_t cd = iconv_cache().get(name, owned);
    if (cd == IconvCache::invalid()) return false;
    convert_with_iconv(cd, bytes, out);
    if (owned) iconv_close(cd);
    return true;
}

}  // namespace rapport::mime

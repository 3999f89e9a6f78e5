#include "encoded_words.hpp"

#include <array>
#include <cstdint>

#include "charset.hpp"

namespace rapport::mime {
namespace {

constexpr size_t kMaxCharsetLength = 64;

bool charset_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

constexpr std::array<int8_t, 256> make_base64_table() {
    std::array<int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 26; ++i) {
        t['A' + i] = static_cast<int8_t>(i);
        t['a' + i] = static_cast<int8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(52 + i);
    t['+'] = 62;
    t['/'] = 63;
    return t;
}
constexpr std::array<int8_t, 256> kBase64 = make_base64_table();

int base64_value(char c) { return kBase64[static_cast<unsigned char>(c)]; }

bool decode_base64(std::string_view text, std::string& out) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return false;
    const size_t base = out.size();
    out.resize(base + text.size() * 3 / 4 + 3);
    char* w = &out[base];
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = base64_value(c);
        if (v < 0) {
            out.resize(base);
            return false;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *w++ = static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    out.resize(static_cast<size_t>(w - out.data()));
    return true;
}

void decode_q(std::string_view text, std::string& out) {
    const size_t base = out.size();
    out.resize(base + text.size());
    char* w = &out[base];
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '_') {
            *w++ = ' ';
        } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            *w++ = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            *w++ = c;
        }
    }
    out.resize(static_cast<size_t>(w - out.data()));
}

// RFC 2047 token characters, minus the especials that could hide address structure; plus '*'
// for the RFC 2231 language suffix and '.' and ':' seen in real charset names.
bool is_charset_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-': case '_': case '*': case '+': case '.': case ':': case '!': case '#': case '$':
        case '%': case '&': case '\'': case '^': case '`': case '{': case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

bool is_folding_char(char c) { return c == '\r' || c == '\n' || c == '\t'; }

bool all_whitespace(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

}  // namespace

size_t match_encoded_word(std::string_view s, EncodedWord& word) {
    if (s.size() < 8 || s[0] != '=' || s[1] != '?') return 0;
    size_t i = 2;
    while (i < s.size() && s[i] != '?') {
        if (!is_charset_char(s[i]) || i - 2 >= kMaxCharsetLength) return 0;
        ++i;
    }
    if (i == 2 || i + 2 >= s.size()) return 0;
    const std::string_view charset = s.substr(2, i - 2);
    char enc = s[i + 1];
    if (enc == 'b') enc = 'B';
    if (enc == 'q') enc = 'Q';
    if ((enc != 'B' && enc != 'Q') || s[i + 2] != '?') return 0;
    const size_t text_start = i + 3;
    size_t j = text_start;
    while (j < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[j]);
        if (c == '?') break;
        if (c <= ' ' || c >= 0x7F) return 0;
        ++j;
    }
    if (j + 1 >= s.size() || s[j + 1] != '=') return 0;
    word.charset = charset;
    word.encoding = enc;
    word.text = s.substr(text_start, j - text_start);
    return j + 2;
}

bool decode_word_bytes(const EncodedWord& word, std::string& bytes) {
    if (word.encoding == 'B') return decode_base64(word.text, bytes);
    decode_q(word.text, bytes);
    return true;
}

bool EncodedWordRun::add(const EncodedWord& word, std::string& out) {
    const bool same = active_ && charset_equal(charset_, word.charset);
    if (!same) {
        if (!charset_known(word.charset)) return false;
        // Flushing before we know the word decodes is safe: callers flush on failure anyway.
        flush(out);
        charset_.assign(word.charset);
        utf8_ = charset_is_utf8(charset_);
        mark_ = out.size();
    }
    const size_t before = out.size();
    if (!decode_word_bytes(word, out)) {
        out.resize(before);
        return false;
    }
    active_ = true;
    return true;
}

void EncodedWordRun::flush(std::string& out) {
    if (!active_) return;
    active_ = false;
    const std::string_view raw(out.data() + mark_, out.size() - mark_);
    if (utf8_ && is_clean_utf8(raw)) return;  // already in place
    const std::string bytes(raw);
    out.resize(mark_);
    append_decoded(out, charset_, bytes);
}

void append_unfolded(std::string& out, std::string_view text) {
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (!is_folding_char(text[i])) continue;
        append_utf8_sanitized(out, text.substr(start, i - start));
        if (text[i] == '\t') out.push_back(' ');
        start = i + 1;
    }
    append_utf8_sanitized(out, text.substr(start));
}

void decode_unstructured(std::string& out, std::string_view text, ParseContext& ctx) {
    EncodedWordRun run;
    size_t literal_start = 0;  // text not yet appended
    bool after_word = false;   // the last thing appended was a decoded word
    size_t i = 0;
    while (true) {
        const size_t q = text.find("=?", i);
        if (q == std::string_view::npos) break;
        EncodedWord word;
        const size_t len = match_encoded_word(text.substr(q), word);
        if (len == 0) {
            i = q + 1;
            continue;
        }
        const std::string_view gap = text.substr(literal_start, q - literal_start);
        const bool join = after_word && all_whitespace(gap);
        if (!ctx.take_encoded_word()) break;
        if (!join) {
            run.flush(out);
            append_unfolded(out, gap);
        }
        if (run.add(word, out)) {
            after_word = true;
        } else {
            run.flush(out);
            if (join) append_unfolded(out, gap);
            append_unfolded(out, text.substr(q, len));
            after_word = false;
        }
        literal_start = i = q + len;
    }
    run.flush(out);
    append_unfolded(out, text.substr(literal_start));
}

}  // namespace rapport::mime

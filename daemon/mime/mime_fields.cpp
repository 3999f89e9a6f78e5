#include "mime_fields.hpp"

#include <array>

namespace rapport::mime {
namespace {

constexpr std::array<bool, 256> make_token_chars() {
    std::array<bool, 256> t{};
    for (int c = 0x21; c < 0x7F; ++c) t[c] = true;
    for (char c : {'(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '='})
        t[static_cast<unsigned char>(c)] = false;
    return t;
}
constexpr std::array<bool, 256> kTokenChars = make_token_chars();

bool is_token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

class Cursor {
public:
    explicit Cursor(std::string_view v) : v_(v) {}
    void skip_cfws() {
        while (i_ < v_.size()) {
            const char c = v_[i_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                ++i_;
            } else if (c == '(') {
                int depth = 0;
                while (i_ < v_.size()) {
                    if (v_[i_] == '\\') {
                        i_ += 2;
                        continue;
                    }
                    if (v_[i_] == '(') ++depth;
                    if (v_[i_] == ')' && --depth == 0) break;
                    ++i_;
                }
                ++i_;
            } else {
                break;
            }
        }
        if (i_ > v_.size()) i_ = v_.size();
    }
    std::string_view token() {
        skip_cfws();
        const size_t start = i_;
        while (i_ < v_.size() && is_token_char(v_[i_])) ++i_;
        return v_.substr(start, i_ - start);
    }
    bool take(char c) {
        skip_cfws();
        if (i_ < v_.size() && v_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    // A quoted string (unescaped) or a token.
    std::string value() {
        skip_cfws();
        std::string out;
        if (i_ < v_.size() && v_[i_] == '"') {
            ++i_;
            while (i_ < v_.size() && v_[i_] != '"') {
                if (v_[i_] == '\\' && i_ + 1 < v_.size()) ++i_;
                out.push_back(v_[i_++]);
            }
            ++i_;
            if (i_ > v_.size()) i_ = v_.size();
            return out;
        }
        out.assign(token());
        return out;
    }
    // Skips to just past the next ';' outside quotes; false at the end.
    bool next_parameter() {
        while (i_ < v_.size()) {
            const char c = v_[i_];
            if (c == ';') {
                ++i_;
                return true;
            }
            if (c == '"') {
                value();
                continue;
            }
            if (c == '(') {
                skip_cfws();
                continue;
            }
            ++i_;
        }
        return false;
    }

private:
    std::string_view v_;
    size_t i_ = 0;
};

void append_lower(std::string& out, std::string_view s) {
    const size_t base = out.size();
    out.resize(base + s.size());
    for (size_t i = 0; i < s.size(); ++i) out[base + i] = lower(s[i]);
}

bool equals_lower(std::string_view s, std::string_view lower_word) {
    if (s.size() != lower_word.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
        if (lower(s[i]) != lower_word[i]) return false;
    return true;
}

}  // namespace

bool parse_content_type(std::string_view value, std::string& type, std::string& report_type) {
    Cursor cur(value);
    const std::string_view major = cur.token();
    if (major.empty() || !cur.take('/')) return false;
    const std::string_view minor = cur.token();
    if (minor.empty()) return false;
    type.clear();
    type.reserve(major.size() + 1 + minor.size());
    append_lower(type, major);
    type.push_back('/');
    append_lower(type, minor);
    while (cur.next_parameter()) {
        const std::string_view name = cur.token();
        if (!equals_lower(name, "report-type") || !report_type.empty() || !cur.take('='))
            continue;  // next_parameter() skips the value, quoted or not
        report_type = cur.value();
        for (char& c : report_type) c = lower(c);
    }
    return true;
}

std::string parse_auto_submitted(std::string_view value) {
    Cursor cur(value);
    std::string out;
    append_lower(out, cur.token());
    return out;
}

}  // namespace rapport::mime

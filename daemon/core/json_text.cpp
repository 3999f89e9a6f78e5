#include "rapport/json_text.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_set>
#include <vector>

namespace rapport {

std::pair<int, int> line_and_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {  // count characters, not UTF-8 continuation bytes
            ++column;
        }
    }
    return {line, column};
}

namespace {

Diagnostic at(std::string_view text, const std::string& file, std::size_t offset, std::string msg) {
    auto [line, column] = line_and_column(text, offset);
    return Diagnostic{file, line, column, {}, std::move(msg)};
}

// One pass over the raw text before nlohmann sees it: refuses nesting beyond the limit (so no
// parser or destructor ever recurses deeply) and finds duplicate keys, which nlohmann would
// silently collapse to the last one — an admin's copy-paste mistake must not pass unnoticed.
struct Frame {
    bool object;
    bool expect_key;
    std::unordered_set<std::string_view> keys;
};

void scan_structure(std::string_view text, const std::string& file, const JsonLimits& limits,
                    Diagnostics& depth_errors, Diagnostics& duplicate_keys) {
    std::vector<Frame> stack;
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[i];
        if (c == '"') {
            const std::size_t start = i + 1;
            std::size_t j = start;
            while (j < n && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
            if (j >= n) return;  // unterminated: the real parser reports it
            if (!stack.empty() && stack.back().object && stack.back().expect_key) {
                std::string_view key = text.substr(start, j - start);
                if (!stack.back().keys.insert(key).second && duplicate_keys.size() < 20)
                    duplicate_keys.push_back(at(text, file, i,
                        "duplicate key \"" + std::string(key.substr(0, 80)) +
                        "\" (only one of them would count)"));
                stack.back().expect_key = false;
            }
            i = j;
        } else if (c == '{' || c == '[') {
            if (static_cast<int>(stack.size()) >= limits.max_depth) {
                depth_errors.push_back(at(text, file, i,
                    "nesting is deeper than " + std::to_string(limits.max_depth) + " levels"));
                return;
            }
            stack.push_back(Frame{c == '{', c == '{', {}});
        } else if (c == '}' || c == ']') {
            if (!stack.empty()) stack.pop_back();
        } else if (c == ',' && !stack.empty() && stack.back().object) {
            stack.back().expect_key = true;
        }
    }
}

// Library messages quote the input they stopped at; never echo raw bytes to a terminal.
std::string printable(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool valid = len > 0 && i + len <= s.size() && !(c < 0x20 || c == 0x7F);
        for (std::size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (!valid) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
            continue;
        }
        out.append(s, i, len);
        i += len - 1;
    }
    return out;
}

std::string clean_parse_message(const std::string& what) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    auto pos = what.find("column ");
    if (pos != std::string::npos) {
        pos = what.find(": ", pos);
        if (pos != std::string::npos) return printable(what.substr(pos + 2));
    }
    pos = what.find("] ");
    return printable(pos == std::string::npos ? what : what.substr(pos + 2));
}

}  // namespace

JsonDocument parse_json_text(std::string_view text, const std::string& file_name,
                             const JsonLimits& limits) {
    JsonDocument doc;
    if (text.size() > limits.max_bytes) {
        doc.diagnostics.push_back(Diagnostic{file_name, 0, 0, {},
            "the file is too large (" + std::to_string(text.size()) + " bytes; the limit is " +
            std::to_string(limits.max_bytes) + " bytes)"});
        return doc;
    }
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        doc.diagnostics.push_back(Diagnostic{file_name, 1, 1, {},
            "the file is empty; expected a JSON object"});
        return doc;
    }
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        doc.diagnostics.push_back(at(text, file_name, nul,
            "the file contains a NUL byte; it is not a JSON text file"));
        return doc;
    }
    Diagnostics depth_errors, duplicate_keys;
    scan_structure(text, file_name, limits, depth_errors, duplicate_keys);
    if (!depth_errors.empty()) {
        doc.diagnostics = std::move(depth_errors);
        return doc;
    }
    try {
        doc.value = nlohmann::json::parse(text.begin(), text.end(), nullptr, true, false);
    } catch (const nlohmann::json::parse_error& e) {
        const std::size_t offset = e.byte == 0 ? 0 : e.byte - 1;
        doc.diagnostics.push_back(at(text, file_name, offset, clean_parse_message(e.what())));
        return doc;
    } catch (const nlohmann::json::out_of_range&) {  // 406: a number such as 1e999 overflows
        doc.diagnostics.push_back(at(text, file_name, 0,
            "a number in the file is too large (beyond about 1.8e308); write a smaller number"));
        return doc;
    }
    if (!duplicate_keys.empty()) {
        doc.value.reset();
        doc.diagnostics = std::move(duplicate_keys);
    }
    return doc;
}

}  // namespace rapport

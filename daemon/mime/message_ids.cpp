#include "message_ids.hpp"

#include "charset.hpp"

namespace rapport::mime {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t skip_comment(std::string_view v, size_t i) {
    int depth = 0;
    while (i < v.size()) {
        const char c = v[i];
        if (c == '\\') {
            i += 2;
            continue;
        }
        if (c == '(') ++depth;
        if (c == ')' && --depth == 0) return i + 1;
        ++i;
    }
    return v.size();
}

// Calls emit(id) for each id until it returns false.
template <typename Emit>
void scan_ids(std::string_view v, Emit&& emit) {
    size_t i = 0;
    std::string id;
    while (i < v.size()) {
        const char c = v[i];
        if (c == '(') {
            i = skip_comment(v, i);
        } else if (c == '"') {
            size_t j = i + 1;
            while (j < v.size() && v[j] != '"') j += v[j] == '\\' ? 2 : 1;
            i = j + 1;
        } else if (c == '<') {
            size_t j = i + 1;
            bool folded = false;
            while (j < v.size() && v[j] != '>' && v[j] != '<') {
                folded |= is_space(v[j]);
                ++j;
            }
            const bool closed = j < v.size() && v[j] == '>';
            std::string_view inside = v.substr(i + 1, j - i - 1);
            i = closed ? j + 1 : j;
            if (folded) {  // a long id folded by the sender: rejoin
                id.clear();
                for (char k : inside)
                    if (!is_space(k)) id.push_back(k);
                inside = id;
            }
            if (!inside.empty() && !emit(inside)) return;
        } else if (is_space(c) || c == ',' || c == '>') {
            ++i;
        } else {
            size_t j = i;
            while (j < v.size() && !is_space(v[j]) && v[j] != ',' && v[j] != '<' && v[j] != '(' &&
                   v[j] != '"')
                ++j;
            const std::string_view word = v.substr(i, j - i);
            i = j;
            if (word.find('@') != std::string_view::npos && !emit(word)) return;
        }
    }
}

}  // namespace

bool parse_message_ids(std::string_view value, size_t max_ids, std::vector<std::string>& out) {
    const size_t base = out.size();
    if (out.capacity() == 0) out.reserve(4);
    scan_ids(value, [&](std::string_view id) {
        if (is_clean_utf8(id)) {
            out.emplace_back(id);
        } else {
            out.emplace_back();
            append_utf8_sanitized(out.back(), id);
        }
        return true;
    });
    const size_t count = out.size() - base;
    if (count <= max_ids) return true;
    if (max_ids == 0) {
        out.resize(base);
        return false;
    }
    // Keep the root (first) and the newest max_ids - 1.
    const auto first_kept_tail = out.begin() + static_cast<std::ptrdiff_t>(out.size() - (max_ids - 1));
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(base + 1), first_kept_tail);
    return false;
}

std::string first_message_id(std::string_view value) {
    std::string result;
    scan_ids(value, [&](std::string_view id) {
        if (is_clean_utf8(id))
            result.assign(id);
        else
            append_utf8_sanitized(result, id);
        return false;
    });
    return result;
}

}  // namespace rapport::mime

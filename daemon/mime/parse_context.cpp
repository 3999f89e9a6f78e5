#include "parse_context.hpp"

#include "charset.hpp"

namespace rapport::mime {
namespace {
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

void ParseContext::warn(std::string_view field, std::string_view what, std::string_view snippet) {
    if (warnings_.size() >= max_warnings_) {
        if (!suppressed_ && max_warnings_ > 0) {
            warnings_.back() = "further warnings suppressed";
            suppressed_ = true;
        }
        return;
    }
    std::string w;
    w.reserve(field.size() + what.size() + 50);
    w.append(field);
    if (!field.empty()) w.append(": ");
    w.append(what);
    while (!snippet.empty() && is_blank(snippet.front())) snippet.remove_prefix(1);
    while (!snippet.empty() && is_blank(snippet.back())) snippet.remove_suffix(1);
    if (!snippet.empty()) {
        constexpr size_t kMaxSnippet = 40;
        w.append(" \"");
        size_t n = snippet.size() > kMaxSnippet ? kMaxSnippet : snippet.size();
        // Do not cut a UTF-8 sequence in half.
        while (n < snippet.size() && n > 0 && (static_cast<unsigned char>(snippet[n]) & 0xC0) == 0x80)
            --n;
        std::string cleaned;
        append_utf8_sanitized(cleaned, snippet.substr(0, n));
        for (char& c : cleaned)
            if (c == '\r' || c == '\n' || c == '\t') c = ' ';
        w.append(cleaned);
        if (n < snippet.size()) w.append("...");
        w.push_back('"');
    }
    warnings_.push_back(std::move(w));
}

bool ParseContext::take_encoded_word() {
    if (encoded_words_left_ > 0) {
        --encoded_words_left_;
        return true;
    }
    if (!budget_warned_) {
        budget_warned_ = true;
        warn("", "too many encoded words; the rest are left undecoded");
    }
    return false;
}

}  // namespace rapport::mime

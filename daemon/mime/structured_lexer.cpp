#include "structured_lexer.hpp"

#include "char_classes.hpp"
#include "encoded_words.hpp"

namespace rapport::mime {
void StructuredLexer::skip_comment() {
    // pos_ is at '('.
    const size_t start = pos_ + 1;
    int depth = 0;
    while (pos_ < s_.size()) {
        const char c = s_[pos_];
        if (c == '\\') {
            pos_ += 2;
            continue;
        }
        if (c == '(') ++depth;
        if (c == ')' && --depth == 0) {
            if (comment_.empty()) comment_ = s_.substr(start, pos_ - start);
            ++pos_;
            return;
        }
        ++pos_;
    }
    unterminated_ = true;
    pos_ = s_.size();
    if (comment_.empty() && start < s_.size()) comment_ = s_.substr(start);
}

Token StructuredLexer::next() {
    Token t;
    while (pos_ < s_.size()) {
        const char c = s_[pos_];
        if (char_class(c) == kBlank) {
            ++pos_;
            t.space_before = true;
        } else if (c == '(') {
            skip_comment();
            t.space_before = true;
        } else {
            break;
        }
    }
    t.begin = pos_;
    if (pos_ >= s_.size()) {
        t.end = pos_;
        return t;
    }
    const char c = s_[pos_];
    if (c == '"' || c == '[') {
        const char close = c == '"' ? '"' : ']';
        size_t i = pos_ + 1;
        while (i < s_.size() && s_[i] != close) i += s_[i] == '\\' ? 2 : 1;
        const bool closed = i < s_.size();
        if (!closed) {
            unterminated_ = true;
            i = s_.size();
        }
        if (c == '"') {
            t.kind = TokenKind::Quoted;
            t.text = s_.substr(pos_ + 1, i - pos_ - 1);
        } else {
            t.kind = TokenKind::DomainLiteral;
            t.text = s_.substr(pos_, (closed ? i + 1 : i) - pos_);
        }
        pos_ = closed ? i + 1 : i;
        t.end = pos_;
        return t;
    }
    if (char_class(c) & kSpecial) {
        t.kind = TokenKind::Special;
        t.text = s_.substr(pos_, 1);
        t.end = ++pos_;
        return t;
    }
    t.kind = TokenKind::Atom;
    if (c == '=' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '?') {
        EncodedWord word;
        const size_t len = match_encoded_word(s_.substr(pos_), word);
        // An encoded word may hide ',' or '.' (sloppy Q encoding), but never the brackets that
        // delimit an address.
        if (len != 0 && word.text.find_first_of("<>") == std::string_view::npos) {
            t.encoded = true;
            t.text = s_.substr(pos_, len);
            t.end = pos_ += len;
            return t;
        }
    }
    size_t i = pos_;
    while (i < s_.size() && char_class(s_[i]) == kAtext) ++i;
    t.text = s_.substr(pos_, i - pos_);
    t.end = pos_ = i;
    return t;
}

void append_unescaped(std::string& out, std::string_view text) {
    size_t start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') continue;
        out.append(text.data() + start, i - start);
        start = i + 1;  // the escaped character is kept as the start of the next run
        ++i;
    }
    out.append(text.data() + start, text.size() - start);
}

}  // namespace rapport::mime

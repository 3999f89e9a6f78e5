#pragma once
// Tokens of an RFC 5322 structured field value (address lists): atoms, quoted strings, domain
// literals and specials, with comments and whitespace (folding included) skipped. Lenient by
// design: unterminated quotes, comments and literals run to the end of the value; bytes >= 0x80
// are atom text (RFC 6532); a whole RFC 2047 encoded word is one atom even if it contains
// specials.
#include <cstddef>
#include <string>
#include <string_view>

namespace rapport::mime {

enum class TokenKind { Atom, Quoted, DomainLiteral, Special, End };

struct Token {
    TokenKind kind = TokenKind::End;
    std::string_view text;   // Quoted: between the quotes, escapes kept; DomainLiteral: with []
    size_t begin = 0;        // offset of the token's first byte (the quote for Quoted)
    size_t end = 0;          // offset just past the token
    bool space_before = false;  // whitespace or a comment precedes it
    bool encoded = false;       // Atom that is exactly one encoded word
    bool is(char special) const {
        return kind == TokenKind::Special && text.size() == 1 && text[0] == special;
    }
};

class StructuredLexer {
public:
    explicit StructuredLexer(std::string_view value, size_t start = 0) : s_(value), pos_(start) {}
    Token next();
    // The content of the first comment skipped since the last call to forget_comment().
    std::string_view first_comment() const { return comment_; }
    void forget_comment() { comment_ = {}; }
    bool saw_unterminated() const { return unterminated_; }

private:
    void skip_comment();
    std::string_view s_;
    size_t pos_ = 0;
    std::string_view comment_;
    bool unterminated_ = false;
};

// Content of a quoted string or comment with backslash escapes removed.
void append_unescaped(std::string& out, std::string_view text);

}  // namespace rapport::mime

#pragma once
// RFC 2047 encoded words ("=?utf-8?Q?caf=C3=A9?="): recognising them, joining adjacent ones, and
// decoding unstructured text (Subject, comments) to UTF-8. A malformed word (bad base64, unknown
// charset, broken syntax) is left as written.
#include <string>
#include <string_view>

#include "parse_context.hpp"

namespace rapport::mime {

struct EncodedWord {
    std::string_view charset;  // may carry an RFC 2231 "*language" suffix
    char encoding = 0;         // 'B' or 'Q'
    std::string_view text;     // still encoded
};

// If `s` starts with a syntactically valid encoded word, fills `word` and returns its length;
// otherwise returns 0.
size_t match_encoded_word(std::string_view s, EncodedWord& word);

// Appends the raw bytes of the word's text; false if the base64 is broken.
bool decode_word_bytes(const EncodedWord& word, std::string& bytes);

// Adjacent encoded words of one charset are converted together, so that a character split across
// two words, or an ISO-2022-JP shift state, survives. The raw bytes of the run are decoded into
// the tail of `out` and converted there on flush; so nothing else may be appended to `out`
// between add() and flush().
class EncodedWordRun {
public:
    // Decodes `word` into the run; a word of another charset first flushes the run.
    // Returns false, changing nothing in the run, if the word cannot be decoded: the caller keeps
    // it as written.
    bool add(const EncodedWord& word, std::string& out);
    void flush(std::string& out);

private:
    std::string charset_;
    size_t mark_ = 0;  // where the run's raw bytes start in `out`
    bool active_ = false;
    bool utf8_ = false;
};

// Unstructured text: removes folding line breaks (a TAB becomes a space), decodes encoded words
// (whitespace between two of them is dropped), makes the rest valid UTF-8.
void decode_unstructured(std::string& out, std::string_view text, ParseContext& ctx);

// Plain text, unfolded and made valid UTF-8, no decoding.
void append_unfolded(std::string& out, std::string_view text);

}  // namespace rapport::mime

#pragma once
// What the field parsers of one header block share: the warnings list (bounded, so that hostile
// input cannot make it grow without limit) and the budget of encoded words left to decode.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::mime {

class ParseContext {
public:
    ParseContext(std::vector<std::string>& warnings, size_t max_warnings,
                 size_t max_encoded_words)
        : warnings_(warnings), max_warnings_(max_warnings), encoded_words_left_(max_encoded_words) {}

    // "From: skipped "garbage" (no address)". The snippet is shortened and made valid UTF-8.
    void warn(std::string_view field, std::string_view what, std::string_view snippet = {});

    // False once the message's encoded-word budget is spent (warns once): further words stay
    // as written.
    bool take_encoded_word();

private:
    std::vector<std::string>& warnings_;
    size_t max_warnings_;
    size_t encoded_words_left_;
    bool budget_warned_ = false;
    bool suppressed_ = false;
};

}  // namespace rapport::mime

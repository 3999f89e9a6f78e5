#pragma once
// Bytes in some charset -> UTF-8. The charsets mail headers use most are decoded natively (no
// iconv call on the hot path); anything else goes through glibc's iconv. Output is always valid
// UTF-8 without NUL bytes: invalid input becomes U+FFFD.
#include <string>
#include <string_view>

namespace rapport::mime {

// Appends `in` (meant to be UTF-8) to `out`, replacing each invalid sequence by U+FFFD and
// dropping NUL bytes.
void append_utf8_sanitized(std::string& out, std::string_view in);

// Appends `bytes` decoded from `charset` (a MIME charset name, any case, RFC 2231 language
// suffix allowed: "utf-8*en"). Returns false, appending nothing, for a charset neither we nor
// iconv know.
bool append_decoded(std::string& out, std::string_view charset, std::string_view bytes);

// True for the labels decoded as UTF-8 (utf-8, us-ascii and their aliases).
bool charset_is_utf8(std::string_view charset);

// True if `s` is valid UTF-8 without NUL bytes, i.e. append_utf8_sanitized would copy it as is.
bool is_clean_utf8(std::string_view s);

// True if append_decoded would accept this charset name.
bool charset_known(std::string_view charset);

}  // namespace rapport::mime

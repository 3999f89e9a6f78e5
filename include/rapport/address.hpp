#pragma once
// Mail addresses as people type them: "Jane Doe <Jane@ACME.example>", "\"jane\"@acme.example",
// "jane@bücher.example". Normalised form: lower case, quotes dropped where they are not
// needed, domain in ASCII (IDN labels in punycode), no display name.
#include <optional>
#include <string>
#include <string_view>

namespace rapport {

struct ParsedAddress {
    std::string display_name;
    std::string local;   // lower case, unquoted where possible
    std::string domain;  // lower case, punycode
    std::string normalized() const { return local + "@" + domain; }
};

std::optional<ParsedAddress> parse_address(std::string_view text);
std::optional<std::string> normalize_address(std::string_view text);

// True when `text` is already exactly what normalize_address returns for it: a plain
// lower-case ASCII local@domain, which is what the MIME layer hands over nearly always. A
// lookup then skips the parse and its copies (they were a tenth of a first scan); anything
// else goes through normalize_address. The fuzz target mime_headers_fuzz checks the two agree.
bool is_normalized_address(std::string_view text);

// Lower case, trailing dot dropped, IDN labels to punycode; nullopt if not a plausible domain.
std::optional<std::string> normalize_domain(std::string_view text);

// RFC 3492 for one label (no "xn--" prefix); input is UTF-8.
std::optional<std::string> punycode_encode(std::string_view utf8_label);

}  // namespace rapport

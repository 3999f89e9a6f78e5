#pragma once
// Mailbox names on the wire use modified UTF-7 (RFC 3501 section 5.1.3). Rapport's settings and
// API use UTF-8; these convert between the two.
#include <optional>
#include <string>
#include <string_view>

namespace rapport::imap {

// UTF-8 -> modified UTF-7. nullopt when the input is not valid UTF-8.
std::optional<std::string> encode_mailbox_name(std::string_view utf8);

// Modified UTF-7 -> UTF-8. nullopt when the input is not valid modified UTF-7.
std::optional<std::string> decode_mailbox_name(std::string_view mutf7);

}  // namespace rapport::imap

#pragma once
// RFC 5322 address lists (From, To, Cc) as real mail writes them: display names quoted or not,
// RFC 2047 names, comments, groups, route addresses, bare addresses, and junk between commas,
// which is skipped with a warning instead of losing the whole list.
#include <string_view>
#include <vector>

#include "message_headers.hpp"
#include "parse_context.hpp"

namespace rapport::mime {

// Appends the mailboxes of `value` to `out` while out.size() < max_total. `field` names the
// field in warnings.
void parse_address_list(std::string_view value, std::string_view field, size_t max_total,
                        std::vector<MailAddress>& out, ParseContext& ctx);

// A display name (RFC 5322 phrase): words joined by single spaces, encoded words decoded and
// joined without the whitespace between them, quoted strings unescaped (and decoded: many
// mailers quote encoded words). Trimmed.
std::string decode_phrase(std::string_view text, ParseContext& ctx);

}  // namespace rapport::mime

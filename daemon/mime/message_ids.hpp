#pragma once
// Message-ID, In-Reply-To and References: "<id@host>" lists, tolerating missing brackets and
// commas, comments, and the old "In-Reply-To: Your message of ... <id>" phrases.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::mime {

// Every id in order, without <>. A bare word counts as an id if it contains '@'.
// With more than max_ids, the first and the newest max_ids - 1 are kept (what threading needs).
// Returns false if ids were dropped.
bool parse_message_ids(std::string_view value, size_t max_ids, std::vector<std::string>& out);

// The first id, or empty.
std::string first_message_id(std::string_view value);

}  // namespace rapport::mime

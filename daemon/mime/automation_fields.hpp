#pragma once
// The header fields automata set besides Auto-Submitted, read from a fetched header block:
// whether a message is worth fetching whole (a bounce or an auto-reply) depends on them.
#include <string>
#include <string_view>

namespace rapport::mime {

struct AutomationFields {
    bool autoreply = false;               // X-Autoreply or X-Autorespond
    bool auto_response_suppress = false;  // X-Auto-Response-Suppress
    std::string precedence;               // lower case, trimmed, at most 32 bytes
    bool failed_recipients = false;       // X-Failed-Recipients
};

// Linear in the block; names are matched case-insensitively at line starts only.
AutomationFields read_automation_fields(std::string_view header_block);

}  // namespace rapport::mime

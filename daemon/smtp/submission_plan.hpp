#pragma once
// What the submission listener does to one message, decided without I/O: read the header
// block with the hot-path parser, ask the core's check_compose, and add the owners it names to
// Cc (header) and to the envelope. Pure, so tests and the fuzzer call it directly.
#include <string>
#include <vector>

#include "rapport/compose_check.hpp"
#include "rapport/directory.hpp"
#include "smtp/smtp_server.hpp"

namespace rapport::smtp {

struct SubmissionPlan {
    std::string message;                  // to relay: the input with the owners in Cc, or unchanged
    std::vector<std::string> recipients;  // the envelope: the client's, then the added owners
    std::vector<CcSuggestion> added;      // owners added (header and envelope)
    std::vector<ComposeNotice> notices;   // compose.check's, for the log
    std::string message_id;               // the header's, or the core's synthetic id
    std::string subject;
    bool header_extended = true;          // false: the Cc field could not be extended safely,
                                          // so the owners are in the envelope only (a blind copy)
};

// `envelope.recipients` that appear in no To/Cc/Bcc field count as Bcc (clients strip Bcc
// before submitting). The sender is the header's From, else MAIL FROM.
SubmissionPlan plan_submission(const std::string& message, const Envelope& envelope,
                               const AccountDirectory& directory);

}  // namespace rapport::smtp

#pragma once
// The summary draft as the RFC 5322 message that is APPENDed to Drafts, built with vmime.
// Kept out of rapport_mime_headers (the IMAP sync hot path must not link vmime): this is the
// target rapport_draft_mime.
//
// The message: CRLF line ends only, no NUL, every header line folded under 78 bytes where vmime
// can (never over 998), non-ASCII header text in RFC 2047 encoded words, display names quoted
// or encoded so that a quote, comma or line break in a name cannot start another address or
// header; the body text/plain; charset=utf-8 in quoted-printable. Headers, in this order:
// From, To (when there is a recipient), Cc (when there is one), Subject, Date, Message-ID,
// MIME-Version, Content-Type, Content-Transfer-Encoding, X-Rapport-Draft (exactly once).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "rapport/summary_draft.hpp"

namespace rapport::mime {

struct DraftEnvelope {
    rapport::DraftAddress from;   // the user
    std::string message_id;       // "<left@right>", dot-atom on both sides, at most 250 bytes
    int64_t date_epoch_seconds = 0;
    int utc_offset_minutes = 0;   // the user's offset at that moment, -1439..1439
    std::string draft_id;         // the value of X-Rapport-Draft: 1-128 of A-Z a-z 0-9 . _ - @ +
};

// Thrown for an envelope that is the caller's bug, not the calendar's: a From, Message-ID or
// draft id that is not what the comments above say. Untrusted content (ComposedDraft) never
// throws: its subject and body are cleaned again, and a To or Cc address that
// clean_draft_address refuses is left out (compose_summary has already reported it in
// ComposedDraft::skipped, so a draft built from its result loses nothing here).
struct DraftEnvelopeError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

std::string build_draft_message(const rapport::ComposedDraft& d, const DraftEnvelope& e);

}  // namespace rapport::mime

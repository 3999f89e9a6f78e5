#pragma once
// Reading what customers write: is a message a bounce (and which recipients are gone for good),
// an auto-reply saying the person left, a plain out-of-office, or a person writing (and does
// it contain a loss phrase)? Pure: it judges text the MIME layer (daemon/mime/mail_body.hpp)
// already decoded, and never sees a socket, a file or the clock.
//
// Precision first: a contact wrongly marked as gone is worse than a missed one. So a recipient
// is `permanent` only for a permanent failure about the mailbox itself (5.1.x other than the
// sender-side 5.1.7/5.1.8, 5.2.1 "mailbox disabled", or a 5.x.x whose diagnostic says "user
// unknown", "no such user", … in one of the languages below); quota, size, spam policy, relay,
// sender-side and time-outs never are, and neither is anything temporary (4.x.x, Action:
// delayed). A bounce is recognised before an auto-reply: many bounces carry
// Auto-Submitted: auto-replied.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rapport {

// One message as the MIME layer read it (all text UTF-8).
struct MailBody {
    // Top-level header fields: names lower case, values unfolded and RFC 2047 decoded.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string from_address;  // as written, may be empty (a "<>" or "<@>" sender)
    std::string from_name;
    std::vector<std::string> to;
    std::string subject;
    std::string content_type;  // "multipart/report"
    std::string report_type;   // "delivery-status", "disposition-notification"
    // The readable text: text/plain parts (else HTML reduced to text; a quote in HTML becomes a
    // line "> " so that quoted replies can be cut), decoded to UTF-8, capped.
    std::string text;
    std::vector<std::string> delivery_status;  // each message/delivery-status part
    // The returned message of a report (message/rfc822 or text/rfc822-headers part).
    std::string returned_message_id;
    std::vector<std::string> returned_to;
    bool truncated = false;  // the message or its text was longer than the limits
    std::string skipped;     // non-empty: nothing could be read, and why

    // The first value of a header field (name lower case), or "".
    const std::string& header(std::string_view name) const;
};

enum class MailKind { none, bounce, auto_reply, receipt };

struct RecipientFailure {
    std::string address;  // lower case
    bool permanent = false;
    std::string status;   // "5.1.1", "4.4.1", or "" when the report gives none
    std::string reason;   // the diagnostic (trimmed, at most 300 bytes)
};

struct MailVerdict {
    MailKind kind = MailKind::none;
    // bounce
    std::vector<RecipientFailure> recipients;
    std::string original_message_id;  // without <>
    // auto_reply
    bool departure = false;
    bool out_of_office = false;
    std::string departure_cue;  // the words that made it a departure
    std::string replacement;    // the first address the reply names instead (lower case)
    std::string why;            // one line, for logs
};

// own_addresses: the user's addresses (lower case), never taken for a failed recipient or a
// replacement.
MailVerdict read_mail(const MailBody& body, const std::vector<std::string>& own_addresses);

// Text folded for matching: lower case (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic),
// every run of white space (also no-break space) one space, typographic apostrophes as "'".
std::string fold_for_matching(std::string_view text);

// The text above the first quote marker: a line starting with ">", "On … wrote:", "Am … schrieb",
// "Le … a écrit", "El … escribió", "Op … schreef", "-----Original Message-----", or an
// Outlook-style "From:" line followed by "Sent:"/"Date:" within three lines.
std::string_view unquoted_part(std::string_view text);

// The first of `phrases` in the unquoted part of `text`, case-insensitive and tolerant of white
// space (folded as above), at word boundaries; "" when none. Returns the phrase as configured.
std::string find_loss_phrase(std::string_view text, const std::vector<std::string>& phrases);

}  // namespace rapport

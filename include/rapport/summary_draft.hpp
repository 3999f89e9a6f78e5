#pragma once
// The summary draft after a customer call: what it says and to whom, as plain values. Pure:
// the adapter gathers the meeting, the directory's view of the attendees and the account's
// recent mail into a SummaryContext; compose_summary turns it into a subject, recipients and a
// UTF-8 body; daemon/mime/draft_message.hpp turns that into the RFC 5322 message.
//
// Everything from the calendar (title, description, location, attendee names and addresses)
// is untrusted: any size, any bytes. compose_summary cleans it (invalid UTF-8 becomes U+FFFD,
// control characters go, one-line fields lose their line breaks, everything is capped), and an
// address that is not a plain mail address is never used: it is listed in ComposedDraft::skipped
// so the caller can log the skip.
//
// Templates (docs/rules.md, "Summary drafts"): `{name}` is replaced by a variable, `{{` and
// `}}` are literal braces, and `{?name}` anywhere in a line keeps that line only when the
// variable is not empty. A line holding nothing but one empty variable disappears.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapport/diagnostic.hpp"

namespace rapport {

// Who gets the draft (rules.summary_drafts.recipients).
enum class DraftRecipients { attendees, owner, self };
const char* to_string(DraftRecipients r);

struct DraftAddress {
    std::string name;
    std::string address;
    bool operator==(const DraftAddress& o) const { return name == o.name && address == o.address; }
};

struct DraftAttendee {
    std::string name, address;  // as in the calendar (untrusted)
    std::string company;        // the account's name for customers, the organisation's for colleagues, else empty
    bool customer = false;
    bool champion = false;
    std::string partstat;       // ACCEPTED, TENTATIVE, DECLINED, NEEDS-ACTION ... or empty
};

struct RecentSubject {
    std::string date;     // YYYY-MM-DD
    bool inbound = false; // from the contact (true) or to them (false)
    std::string contact;  // name or address
    std::string subject;
};

struct SummaryContext {
    std::string title, description, location;  // from the event: untrusted, any size
    std::string date;        // the meeting's local date, "2026-12-01" ({date})
    std::string local_when;  // "Tuesday 1 December 2026, 10:00–10:45 (Europe/Berlin)" ({when})
    std::vector<DraftAttendee> attendees;
    std::vector<std::string> account_names;
    std::vector<RecentSubject> recent;       // newest first; at most max_list_items are shown
    std::vector<std::string> open_nudges;    // texts
    std::vector<std::string> contact_notes;  // "Raj Patel bounced on 2026-11-20"
    DraftAddress user;                       // From and signature
    std::optional<DraftAddress> owner;       // the (first) account's owner
    bool user_is_owner = false;
};

// The built-in texts. An empty body means default_body_template().
struct SummaryTemplate {
    std::string subject = "Summary: {title} — {date}";
    std::string body;
};
const std::string& default_body_template();

// ---- Validation (rules parser, config loader, --check-config) ----

enum class TemplatePart { subject, body };

struct TemplateLimits {
    static constexpr std::size_t max_body_bytes = 64 * 1024;
    static constexpr std::size_t max_subject_bytes = 1000;
};

// The variables a template may name, in the order docs/rules.md lists them; `multiline` ones
// are refused in the subject.
struct TemplateVariable {
    const char* name;
    bool multiline;
    const char* meaning;
};
const std::vector<TemplateVariable>& template_variables();

// Every problem of one template text. The body is a file of its own: its diagnostics carry
// `file` (the template's path as it should be shown), LINE and COL (1-based, COL in
// characters) — "summary.txt:3:14: unknown variable {titel}; did you mean {title}?". The subject
// is a JSON string inside the rules file: its diagnostics carry `file` (the rules file) and
// `json_path`, with the character position in the message. File-level problems (too large,
// empty) have neither line nor path. Empty result: the text is a valid template.
Diagnostics check_template(std::string_view text, TemplatePart part, const std::string& file,
                           const std::string& json_path = {});

// The body template as it is used: a UTF-8 BOM dropped, CRLF and lone CR turned into LF.
// Call on text that passed check_template.
std::string normalize_template_text(std::string_view text);

// ---- Composition ----

struct SkippedRecipient {
    DraftAddress given;  // cleaned for a log line (one line, capped); the address may be junk
    std::string reason;  // "not a mail address", "has a line break", ...
};

struct ComposedDraft {
    std::string subject;                // one line, no control characters, at most max_subject_chars
    std::vector<DraftAddress> to, cc;   // valid ASCII addresses (IDN domains in punycode), deduplicated
    std::string body;                   // UTF-8, LF line ends, ends with LF, no control characters but TAB
    std::vector<SkippedRecipient> skipped;  // recipients left out because their address was unusable
};

struct ComposeLimits {
    static constexpr std::size_t max_subject_chars = 200;
    static constexpr std::size_t max_agenda_chars = 4000;
    static constexpr std::size_t max_field_chars = 200;      // title, location, one list entry
    static constexpr std::size_t max_name_chars = 100;       // a display name
    static constexpr std::size_t max_list_items = 10;        // recent, nudges, contact notes
    static constexpr std::size_t max_attendees_listed = 50;  // in {attendees}/{participants}
    static constexpr std::size_t max_recipients = 100;       // in To
};

// attendees: To the customer attendees who did not decline (never colleagues, never the user),
//            Cc the owner unless the user is the owner (never twice);
// owner:     To the owner only (the user when the user is the owner or there is no owner);
// self:      To the user only.
// A template that did not pass check_template still composes: unknown variables stay literal.
ComposedDraft compose_summary(const SummaryContext& c, const SummaryTemplate& t, DraftRecipients recipients);

// ---- Helpers shared with the MIME adapter (it re-checks what it is handed) ----

// A display name or address and the reason it cannot be used, or the cleaned address: name on
// one line and capped, address "local@domain" with a dot-atom local part (RFC 5322 atext, at
// most 64 bytes), a domain with at least one dot (IDN labels to punycode), 254 bytes at most.
// A "mailto:" prefix and surrounding angle brackets are dropped. A name equal to the address
// is dropped.
std::optional<DraftAddress> clean_draft_address(const DraftAddress& a, std::string* reason = nullptr);

// Untrusted text on one line: invalid UTF-8 to U+FFFD, every control character (C0, DEL, C1,
// U+2028/U+2029) and run of white space to one space, trimmed, cut to max_chars code points
// with "…" when longer.
std::string clean_line(std::string_view text, std::size_t max_chars);

}  // namespace rapport

#pragma once
// The hot-path parser for the header block of one message, as fetched from IMAP with
// BODY.PEEK[HEADER.FIELDS (FROM TO CC DATE SUBJECT MESSAGE-ID AUTO-SUBMITTED CONTENT-TYPE
// BCC ...)] (In-Reply-To and References too, for a caller that asks for them): raw bytes, CRLF
// or LF line ends, folded lines, any junk real mail carries. It never fails: what cannot be
// understood is skipped and named in `warnings`. It depends on the standard library and
// glibc's iconv only, and runs in linear time.
//
// What the fields become:
// - From/To/Cc/Bcc: every mailbox, groups flattened ("undisclosed-recipients:;" gives none).
//   `address` is the addr-spec without comments or folding whitespace, domain as written (IDN
//   UTF-8 kept, case kept); a quoted local part is kept quoted unless the quotes are
//   unnecessary ("john"@x -> john@x, "john doe"@x stays). `<MAILER-DAEMON>` (no domain) is kept,
//   with a warning; a bare word without '@' is skipped, with a warning. `name` is the display
//   name decoded to UTF-8 (RFC 2047 words, also inside quotes); for "addr (Name)" the comment.
//   ';' between addresses is accepted like ','.
// - Date: RFC 5322 including the obsolete forms (two-digit years, named zones, no seconds, no
//   weekday, comments) and asctime order, in UTC. A missing zone is taken as UTC (warning).
// - Subject: unfolded, RFC 2047 decoded, trimmed, valid UTF-8.
// - Message-ID / In-Reply-To: the first id, without <>; References: every id in order.
// - Auto-Submitted: the token, lower case ("auto-replied"); Content-Type: "type/subtype" lower
//   case, plus the report-type parameter (lower case) for multipart/report.
// - Absent fields stay empty. The first From, Date, Subject, ... wins; To and Cc given twice are
//   concatenated; each duplicate gives a warning.
//
// Charsets: utf-8, us-ascii, iso-8859-1 (decoded as windows-1252, as browsers and mail clients
// do), iso-8859-15, windows-1252 natively; anything else through iconv (gb2312 and shift_jis as
// their Microsoft supersets). Invalid sequences become U+FFFD; NUL bytes are dropped.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapport/mail_address.hpp"

namespace rapport::mime {

// std::chrono::sys_seconds in C++20; spelled out because the project builds as C++17.
using SysSeconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

// Name and address as described above; the core's type (its summaries take the lists as they are).
using MailAddress = rapport::MailAddress;

struct MessageHeaders {
    // Bcc is present in the Sent copies most clients keep (and in messages handed to the
    // submission listener); the Sent audit needs it to see an owner copied blindly.
    std::vector<MailAddress> from, to, cc, bcc;
    std::optional<SysSeconds> date;
    std::string subject;
    std::string message_id;  // without <>
    std::string in_reply_to;
    std::vector<std::string> references;
    std::string auto_submitted;            // lower case token, e.g. "auto-replied"
    std::string content_type;              // "multipart/report"
    std::string content_type_report_type;  // "delivery-status"
    std::vector<std::string> warnings;     // human-readable, "Date: unparsable "...""
};

struct HeaderLimits {
    size_t max_block_bytes = 1 << 20;         // larger blocks are cut at a line end (warning)
    size_t max_addresses_per_field = 10000;   // per From, To, Cc, Bcc; the rest is dropped (warning)
    size_t max_encoded_words = 10000;         // per message; the rest stay undecoded (warning)
    size_t max_references = 1000;             // the first id and the newest ones are kept
    size_t max_warnings = 50;
};

MessageHeaders parse_message_headers(std::string_view raw, const HeaderLimits& limits = {});

}  // namespace rapport::mime

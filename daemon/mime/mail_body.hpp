#pragma once
// A whole fetched message (BODY.PEEK[], size-capped) read with vmime into what the core's
// read_mail (rapport/mail_reading.hpp) judges: its header fields, its readable text (text/plain
// decoded from quoted-printable or base64 and from its charset to UTF-8; HTML reduced to text
// when there is no plain part), its message/delivery-status parts and the returned message's
// Message-ID. The body is used for a verdict and never stored.
//
// Hostile input is bounded: the input is cut at max_input_bytes (a base64 part that never ends
// just ends there), the text at max_text_bytes, parts deeper than max_depth are ignored, and a
// message declaring more than max_multiparts multiparts is skipped with a reason before vmime
// (which recurses) ever sees it. It never throws: what cannot be read comes back with
// `skipped` set.
#include <cstddef>
#include <string_view>

#include "rapport/mail_reading.hpp"

namespace rapport::mime {

struct BodyLimits {
    std::size_t max_input_bytes = 1 << 20;
    std::size_t max_text_bytes = 256 << 10;
    std::size_t max_part_bytes = 512 << 10;  // decoded bytes taken from any one part
    int max_depth = 16;
    std::size_t max_multiparts = 64;
    std::size_t max_parts = 200;
    std::size_t max_header_fields = 300;
};

MailBody read_mail_body(std::string_view raw, const BodyLimits& limits = {});

// HTML to plain text: tags dropped (script, style and head with their content), block elements
// and <br> as line breaks, character references decoded; a <blockquote> or a mail client's
// quote container starts a line "> " so that the quote can be cut like a plain-text one.
std::string html_to_text(std::string_view html, std::size_t max_bytes);

}  // namespace rapport::mime

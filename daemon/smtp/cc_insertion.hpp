#pragma once
// The one change the submission listener makes to a message: owners appended to Cc.
//
// "Mail is sacred": every byte outside the inserted text stays as it came. The insertion is
//  - an existing Cc field (the first one, name matched case-insensitively, "Cc :" too):
//    ",\r\n <mailbox>" per owner just before the CRLF that ends the field (after its last
//    continuation line) — a fold, so no line grows; no comma when the field is empty;
//  - otherwise a new field "Cc: <mailbox>[,\r\n <mailbox>]…\r\n" after the last header line
//    (before the empty line that ends the header block, or at the end of a header-only
//    message).
// A mailbox is "Name <address>": an atom phrase as is, other ASCII names quoted, non-ASCII
// names as RFC 2047 UTF-8 B-words; names lose control characters, and an address that is not
// a plain ASCII addr-spec is never written (no header can get a line break from the rules).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::smtp {

struct CcAddition {
    std::string name;
    std::string address;  // normalised ASCII (IDN in punycode), as the rules hold it
};

// Where the header block ends: the offset of the empty line's CRLF (or data.size() when the
// message has no empty line). Lines end in CRLF (the session refuses anything else).
std::size_t header_block_end(std::string_view message);

// "Name <a@b>" (or "a@b" without a name); nullopt if the address is not safe to write.
std::optional<std::string> format_mailbox(std::string_view name, std::string_view address);

struct CcInsertion {
    std::string message;           // the new message (== input when nothing was added)
    std::vector<std::string> added;  // addresses written into the header
    std::size_t offset = 0;        // where the inserted bytes start
    std::size_t length = 0;        // how many bytes were inserted
};

CcInsertion insert_cc(std::string_view message, const std::vector<CcAddition>& owners);

}  // namespace rapport::smtp

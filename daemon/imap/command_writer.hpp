#pragma once
// Builds IMAP commands from trusted protocol words and untrusted arguments (folder names,
// user names, passwords, messages). Untrusted text never reaches the wire raw: it becomes an
// atom only when every byte is a safe atom character, a quoted string only when it is short
// 7-bit text without quotes, backslashes or control characters, and a literal otherwise. A NUL
// cannot be carried by an IMAP4rev1 literal, so it is refused. Nothing in an argument can end
// the command line or start another command.
//
// A synchronizing literal ("{n}\r\n") makes the client wait for the server's "+" before sending
// the literal bytes, so an encoded command is a list of segments: the first is sent at once,
// each following one after a continuation request. With LITERAL+ ("{n+}") there is one segment.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imap_types.hpp"

namespace rapport::imap {

struct EncodedCommand {
    std::string tag;
    std::vector<std::string> segments;  // concatenated, they are the full command incl. CRLF
    Error error;                        // invalid_argument when an argument cannot be sent
};

class CommandWriter {
public:
    // literal_plus: the server advertised LITERAL+ (or LITERAL- for literals up to 4096 bytes).
    CommandWriter(std::string tag, bool literal_plus, bool literal_minus = false);

    // A protocol word or syntax we produce ourselves ("UID", "FETCH", "(UID FLAGS)").
    // Preceded by a space unless it is the first item. Never pass untrusted text here.
    CommandWriter& word(std::string_view trusted);
    // Trusted text appended without a separating space (e.g. ")" or a section spec).
    CommandWriter& raw(std::string_view trusted);
    // Untrusted astring (user name, mailbox name already in wire form).
    CommandWriter& astring(std::string_view value);
    // Untrusted string that must not be an atom (quoted or literal), e.g. a LIST pattern.
    CommandWriter& string(std::string_view value);
    // Untrusted bytes always sent as a literal (APPEND message).
    CommandWriter& literal(std::string_view value);

    EncodedCommand finish();

private:
    void separator();
    void append_literal(std::string_view value);
    void invalid(std::string message);

    std::string tag_;
    bool literal_plus_;
    bool literal_minus_;
    bool first_ = true;
    std::vector<std::string> segments_;
    Error error_;
};

// How an untrusted astring would be sent; exposed for tests.
enum class StringForm { atom, quoted, literal, invalid };
StringForm astring_form(std::string_view value);

}  // namespace rapport::imap

#pragma once
// Incremental IMAP response parser (RFC 3501 server responses, plus the extensions Rapport
// uses: CONDSTORE, ESEARCH, UIDPLUS, LIST-EXTENDED/SPECIAL-USE, ENABLE).
//
// Feed arbitrary chunks of bytes as they arrive; take complete responses out. Literals
// ("{n}\r\n" followed by n bytes) may appear anywhere in a response and may be split across
// chunks in any way: feeding one byte at a time gives exactly the same responses as feeding
// everything at once. Input is untrusted: lines and literals have size limits, numbers are
// checked for overflow, and anything that is not IMAP yields a protocol error instead of a
// crash or unbounded memory growth. After an error the parser stays failed (the stream cannot
// be resynchronised safely).
#include <cstddef>
#include <string>
#include <string_view>

#include "imap_types.hpp"

namespace rapport::imap {

struct ParserLimits {
    std::size_t max_line = 1 << 20;           // one line of a response, literals excluded
    std::size_t max_literal = 8 << 20;        // one literal
    std::size_t max_response = 32 << 20;      // a whole response, literals included
    std::size_t max_search_results = 4000000; // expanded UIDs in one SEARCH/ESEARCH answer
};

class ResponseParser {
public:
    enum class Result { response, need_more, error };

    explicit ResponseParser(ParserLimits limits = {});

    // Appends bytes to the internal buffer. Cheap; parsing happens in next().
    void feed(std::string_view bytes);

    // Produces the next complete response into out. need_more: wait for more bytes.
    // error: see error(); every later call returns error too.
    Result next(Response& out);

    const Error& error() const { return error_; }
    bool failed() const { return static_cast<bool>(error_); }

    // Bytes received but not yet returned as part of a response. Used after STARTTLS: anything
    // the server sent after its tagged OK, before the handshake, is an injection attempt.
    std::size_t buffered() const { return buffer_.size() - start_; }

    const ParserLimits& limits() const { return limits_; }

private:
    Result fail(Errc code, std::string message);
    void compact();

    ParserLimits limits_;
    std::string buffer_;
    std::size_t start_ = 0;        // first byte of the response being framed
    std::size_t line_start_ = 0;   // first byte of the current line segment
    std::size_t scanned_ = 0;      // bytes before this are known to hold no line end
    std::size_t literal_left_ = 0; // literal bytes still to come in the current response
    Error error_;
};

// Parses one complete response (as framed by ResponseParser, CRLF included). Exposed for
// tests. Returns an Error with code protocol/too_large on failure.
Error parse_response(std::string_view bytes, const ParserLimits& limits, Response& out);

}  // namespace rapport::imap

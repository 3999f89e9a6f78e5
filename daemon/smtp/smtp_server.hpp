#pragma once
// The SMTP submission server as a sans-I/O state machine (RFC 5321, 6409, 4954, 2920, 1870,
// 6152, 6531): bytes in, replies and events out. No sockets, no clock, so transcripts test it
// whole and byte by byte and a fuzzer drives it directly. docs/submission.md has the design.
//
// Use:
//   SmtpSession s(config);
//   send(s.greeting());
//   s.receive(bytes);                      // whatever arrived, any split
//   while (auto e = s.next()) { ... }      // until nullopt: need more input (or waiting)
//   - Event::reply: write e->text (several may be batched: PIPELINING).
//   - Event::reply_after_delay: wait (a wrong password), then write; the transport must not
//     call next() before it has written it, so a guesser gets one try per delay.
//   - Event::message: relay e->envelope/e->data; next() returns nothing until deliver_result()
//     gives the upstream's verdict, which becomes the reply to DATA (a 250 only then).
//   - Event::close: write e->text (if any) and close.
//
// Line ends: commands end at LF (a CR before it is dropped; any other CR or a NUL makes the
// command a syntax error). In DATA only CRLF ends a line and only CRLF "." CRLF ends the
// message. A bare LF or bare CR inside DATA does not end anything: the message is read to its
// real end and refused with 554 5.6.11 (SMTP smuggling, CVE-2023-51764: no other server on the
// path can then read a different message boundary into what we relay). NUL in DATA: 554 5.6.0.
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapport::smtp {

struct SessionConfig {
    std::string hostname = "localhost";    // in the greeting and EHLO reply
    std::string token;                     // the password AUTH accepts (the API token)
    std::size_t max_message_size = 35u << 20;
    std::size_t max_recipients = 500;
    std::size_t max_command_line = 4096;   // RFC 5321 needs 512; AUTH lines can be longer
    std::size_t max_data_line = 1u << 20;  // RFC 5322 says 998; real mail breaks it, up to a point
    std::size_t max_commands_before_auth = 20;
    std::size_t max_auth_failures = 3;
    std::size_t max_errors = 20;           // bad commands in one session before 421
};

struct Envelope {
    std::string mail_from;                // the reverse-path without <>, may be empty
    std::vector<std::string> recipients;  // forward-paths without <>
    bool eight_bit = false;               // BODY=8BITMIME
    bool smtputf8 = false;
    std::optional<std::size_t> declared_size;  // SIZE=
};

struct Event {
    enum class Kind { reply, reply_after_delay, message, close };
    Kind kind = Kind::reply;
    std::string text;  // wire bytes of the reply (CRLF-terminated), for reply kinds and close
    Envelope envelope;  // message
    std::string data;   // message: the content, dot-unstuffed, CRLF line ends, without the final "."
};

class SmtpSession {
public:
    explicit SmtpSession(SessionConfig config);

    std::string greeting() const;
    void receive(std::string_view bytes);
    std::optional<Event> next();
    // The verdict on the last Event::message: code 250 means the upstream took it.
    void deliver_result(int code, std::string_view text);
    // For the transport's idle timeout: 421 and close.
    Event timeout_event() const;

    bool authenticated() const { return authenticated_; }
    bool closed() const { return closed_; }
    bool waiting() const { return waiting_; }
    std::size_t buffered() const { return in_.size() - pos_; }

    // "250-…\r\n250 …\r\n" from a code and lines (no CR/LF inside them).
    static std::string format_reply(int code, const std::vector<std::string>& lines);

private:
    enum class Phase { command, auth_plain, auth_login_user, auth_login_password, data };
    void command(std::string_view line);
    void data_line(std::string_view line, bool complete);
    void auth_response(std::string_view line);
    void check_password(std::string_view password);
    void error(int code, const std::string& text);
    void push(int code, const std::string& text);
    void push_close(int code, const std::string& text);
    void reset_transaction();
    void compact();

    SessionConfig config_;
    Phase phase_ = Phase::command;
    std::deque<Event> out_;
    std::string in_;
    std::size_t pos_ = 0;
    bool discarding_ = false;      // the rest of an over-long line is dropped until LF
    bool greeted_ = false;
    bool authenticated_ = false;
    bool closed_ = false;
    bool waiting_ = false;         // a message is with the relay
    std::size_t commands_before_auth_ = 0;
    std::size_t auth_failures_ = 0;
    std::size_t errors_ = 0;
    bool in_transaction_ = false;  // MAIL accepted
    Envelope envelope_;
    std::string auth_login_user_;
    // DATA
    std::string data_;
    bool data_too_big_ = false;
    bool data_bare_newline_ = false;
    bool data_nul_ = false;
    bool data_long_line_ = false;
};

// A forward- or reverse-path's mailbox, as RCPT TO/MAIL FROM give it: "<local@domain>"
// (source routes dropped). Refuses controls, spaces outside quotes, missing '@', > 254 bytes,
// and 8-bit bytes unless `utf8` (SMTPUTF8).
bool plausible_mailbox(std::string_view address, bool utf8);

}  // namespace rapport::smtp

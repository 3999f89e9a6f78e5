// Any bytes from a client, in any split: never a crash, the same replies whether they arrive
// whole or one byte at a time, replies that are well-formed CRLF lines, and a message handed
// to the relay only when it is clean (CRLF lines only, no NUL, within the size limit) — so no
// bare-LF trick (CVE-2023-51764) can make it through.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/smtp_server.hpp"

using namespace rapport::smtp;

namespace {

void fail(const char* what) {
    (void)what;
    std::abort();
}

void check_reply(const std::string& text) {
    if (text.size() < 6 || text.compare(text.size() - 2, 2, "\r\n") != 0) fail("reply not CRLF-terminated");
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) fail("bare LF in a reply");
        if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) fail("bare CR in a reply");
    }
}

void check_message(const Event& e, const SessionConfig& c) {
    if (e.data.size() > c.max_message_size) fail("message over the limit");
    if (e.envelope.recipients.empty() || e.envelope.recipients.size() > c.max_recipients) fail("recipients");
    const std::string& d = e.data;
    for (std::size_t i = 0; i < d.size(); ++i) {
        if (d[i] == '\0') fail("NUL relayed");
        if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r')) fail("bare LF relayed");
        if (d[i] == '\r' && (i + 1 >= d.size() || d[i + 1] != '\n')) fail("bare CR relayed");
    }
    if (!d.empty() && d.compare(d.size() - 2, 2, "\r\n") != 0) fail("message not ending in CRLF");
    for (const auto& r : e.envelope.recipients)
        if (!plausible_mailbox(r, true)) fail("implausible recipient accepted");
}

std::string run(std::string_view input, bool bytewise, const SessionConfig& c) {
    SmtpSession s(c);
    std::string transcript = s.greeting();
    int verdict = 0;
    auto drain = [&] {
        while (auto e = s.next()) {
            if (e->kind == Event::Kind::message) {
                check_message(*e, c);
                transcript += "<message " + std::to_string(e->data.size()) + ">";
                // Alternate verdicts so both paths run.
                s.deliver_result(++verdict % 2 ? 250 : 451, "verdict\nsecond line\r\x01");
                continue;
            }
            check_reply(e->text);
            transcript += e->text;
        }
    };
    if (bytewise) {
        for (char ch : input) {
            s.receive(std::string_view(&ch, 1));
            drain();
        }
    } else {
        s.receive(input);
        drain();
    }
    return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    SessionConfig c;
    c.token = "token";
    c.max_message_size = 2000;
    c.max_recipients = 4;
    c.max_command_line = 100;
    c.max_data_line = 120;
    // Inputs may say "AUTH PLAIN AHUAdG9rZW4=" ("\0u\0token") to get past AUTH.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (run(input, false, c) != run(input, true, c)) fail("the split changed the outcome");
    return 0;
}

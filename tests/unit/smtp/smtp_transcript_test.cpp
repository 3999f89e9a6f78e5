// Transcript tests of the sans-I/O SMTP server core: "C:" is what the client sends, "S:" what
// the server must answer. No network. Every script runs twice: with the client's bytes given
// whole and fed one at a time, which must make no difference.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "smtp/smtp_server.hpp"

using namespace rapport::smtp;

namespace {

const std::string kToken(64, 'a');
// base64("\0mia\0" + 64 × 'a')
std::string plain_ir() {
    const std::string raw = std::string("\0mia\0", 5) + kToken;
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < raw.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(raw[i]) << 16;
        if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
        if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
        out += t[(n >> 18) & 63];
        out += t[(n >> 12) & 63];
        out += i + 1 < raw.size() ? t[(n >> 6) & 63] : '=';
        out += i + 2 < raw.size() ? t[n & 63] : '=';
    }
    return out;
}

SessionConfig config() {
    SessionConfig c;
    c.hostname = "rapport.test";
    c.token = kToken;
    c.max_message_size = 1000;
    c.max_recipients = 3;
    c.max_command_line = 200;
    c.max_data_line = 300;
    return c;
}

class Script {
public:
    explicit Script(bool bytewise, SessionConfig c = config()) : session(std::move(c)), bytewise_(bytewise) {
        out_ = session.greeting();
    }

    void C(const std::string& line) { C_raw(line + "\r\n"); }
    void C_raw(const std::string& bytes) {
        if (bytewise_) {
            for (char ch : bytes) {
                session.receive(std::string_view(&ch, 1));
                drain();
            }
        } else {
            session.receive(bytes);
            drain();
        }
    }
    void S(const std::string& line) { S_raw(line + "\r\n"); }
    void S_raw(const std::string& bytes) {
        INFO("server sent: " << out_);
        REQUIRE(out_.substr(0, bytes.size()) == bytes);
        out_.erase(0, bytes.size());
    }
    // One reply line by its code only (texts may say more); "250-" lines count too.
    void S_code(const std::string& code) {
        INFO("server sent: " << out_);
        REQUIRE((out_.substr(0, 4) == code + " " || out_.substr(0, 4) == code + "-"));
        const auto eol = out_.find("\r\n");
        REQUIRE(eol != std::string::npos);
        out_.erase(0, eol + 2);
    }
    void nothing() { CHECK(out_ == ""); }

    void login() {
        S_code("220");
        C("EHLO client.test");
        S("250-rapport.test");
        S("250-PIPELINING");
        S("250-8BITMIME");
        S("250-SMTPUTF8");
        S("250-SIZE 1000");
        S("250-AUTH PLAIN LOGIN");
        S("250 ENHANCEDSTATUSCODES");
        C("AUTH PLAIN " + plain_ir());
        S_code("235");
    }

    SmtpSession session;
    std::vector<Event> messages;
    std::vector<bool> delayed;
    bool closed = false;

private:
    void drain() {
        while (auto e = session.next()) {
            switch (e->kind) {
                case Event::Kind::reply: out_ += e->text; break;
                case Event::Kind::reply_after_delay:
                    delayed.push_back(true);
                    out_ += e->text;
                    break;
                case Event::Kind::message: messages.push_back(std::move(*e)); break;
                case Event::Kind::close:
                    out_ += e->text;
                    closed = true;
                    break;
            }
        }
    }
    bool bytewise_;
    std::string out_;
};

}  // namespace

TEST_CASE("smtp: a whole submission, with dot-unstuffing and 8-bit bytes", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.login();
        s.C("MAIL FROM:<mia@vendor.example> BODY=8BITMIME SIZE=200");
        s.S("250 2.1.0 Sender OK");
        s.C("RCPT TO:<jane@acme.example>");
        s.S("250 2.1.5 Recipient OK");
        s.C("DATA");
        s.S_code("354");
        s.C_raw("Subject: Grüße\r\n\r\n..leading dot\r\n.\r\n");
        REQUIRE(s.messages.size() == 1);
        CHECK(s.messages[0].data == "Subject: Grüße\r\n\r\n.leading dot\r\n");
        CHECK(s.messages[0].envelope.mail_from == "mia@vendor.example");
        CHECK(s.messages[0].envelope.recipients == std::vector<std::string>{"jane@acme.example"});
        CHECK(s.messages[0].envelope.eight_bit);
        s.nothing();  // no reply until the relay's verdict
        CHECK(s.session.waiting());
        s.session.deliver_result(250, "2.0.0 Relayed");
        s.C("QUIT");  // drains the verdict first
        s.S("250 2.0.0 Relayed");
        s.S("221 2.0.0 Bye");
        CHECK(s.closed);
    }
}

TEST_CASE("smtp: PIPELINING answers every command in order", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.login();
        s.C_raw("MAIL FROM:<mia@vendor.example>\r\nRCPT TO:<a@acme.example>\r\nRCPT TO:<bad address>\r\nRCPT TO:<b@acme.example>\r\nDATA\r\n");
        s.S_code("250");
        s.S_code("250");
        s.S_code("553");
        s.S_code("250");
        s.S_code("354");
        s.C_raw("x\r\n.\r\n");
        REQUIRE(s.messages.size() == 1);
        CHECK(s.messages[0].envelope.recipients == std::vector<std::string>{"a@acme.example", "b@acme.example"});
        s.session.deliver_result(550, "5.1.1 <a@acme.example>: no such user\n5.1.1 (second line)");
        s.C("NOOP");
        s.S("550-5.1.1 <a@acme.example>: no such user");
        s.S("550 5.1.1 (second line)");
        s.S_code("250");
    }
}

TEST_CASE("smtp: no AUTH gives 530; a wrong token 535 after a delay; three strikes close", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.S_code("220");
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("503");  // EHLO first
        s.C("EHLO x");
        for (int i = 0; i < 7; ++i) s.S_code("250");
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("530");
        s.C("AUTH PLAIN AG1pYQB3cm9uZw==");  // "\0mia\0wrong"
        s.S_code("535");
        CHECK(s.delayed.size() == 1);
        s.C("AUTH LOGIN");
        s.S("334 VXNlcm5hbWU6");
        s.C("bWlh");
        s.S("334 UGFzc3dvcmQ6");
        s.C("d3Jvbmc=");
        s.S_code("535");
        s.C("AUTH LOGIN bWlh");
        s.S("334 UGFzc3dvcmQ6");
        s.C("d3Jvbmc=");
        s.S_code("535");
        s.S_code("421");
        CHECK(s.closed);
        CHECK_FALSE(s.session.authenticated());
    }
}

TEST_CASE("smtp: AUTH LOGIN with the token, AUTH cancelled, bad base64", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.S_code("220");
        s.C("HELO x");
        s.S("250 rapport.test");
        s.C("AUTH LOGIN");
        s.S_code("334");
        s.C("*");
        s.S_code("501");
        s.C("AUTH PLAIN");
        s.S("334 ");
        s.C("!!!");
        s.S_code("501");
        s.C("AUTH CRAM-MD5");
        s.S_code("504");
        s.C("AUTH LOGIN");
        s.S_code("334");
        s.C("bWlh");
        s.S_code("334");
        s.C("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==");
        s.S_code("235");
        s.C("AUTH LOGIN");
        s.S_code("503");  // already
    }
}

TEST_CASE("smtp: a bare LF or <LF>.<LF> does not end DATA; the message is refused (CVE-2023-51764)", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.login();
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("250");
        s.C("RCPT TO:<jane@acme.example>");
        s.S_code("250");
        s.C("DATA");
        s.S_code("354");
        // A smuggled second message after <LF>.<LF>: it must stay inside the first one.
        s.C_raw("Subject: one\r\n\r\nbody\n.\nMAIL FROM:<ceo@vendor.example>\r\nRCPT TO:<x@evil.example>\r\nDATA\r\n");
        s.nothing();
        s.C_raw("evil\r\n.\r\n");
        CHECK(s.messages.empty());
        s.S_code("554");
        // and a bare CR
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("250");
        s.C("RCPT TO:<jane@acme.example>");
        s.S_code("250");
        s.C("DATA");
        s.S_code("354");
        s.C_raw("a\rb\r\n\r.\r\n.\r\n");
        s.S_code("554");
        // a NUL
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("250");
        s.C("RCPT TO:<jane@acme.example>");
        s.S_code("250");
        s.C("DATA");
        s.S_code("354");
        s.C_raw(std::string("a\0b\r\n.\r\n", 8));
        s.S_code("554");
        CHECK(s.messages.empty());
        // the session still works
        s.C("NOOP");
        s.S_code("250");
    }
}

TEST_CASE("smtp: limits: size, recipients, line length, commands before AUTH, errors", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.login();
        s.C("MAIL FROM:<mia@vendor.example> SIZE=5000");
        s.S_code("552");
        s.C("MAIL FROM:<mia@vendor.example> NOTIFY=NEVER");
        s.S_code("555");
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("250");
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("503");
        for (int i = 0; i < 3; ++i) {
            s.C("RCPT TO:<r" + std::to_string(i) + "@acme.example>");
            s.S_code("250");
        }
        s.C("RCPT TO:<r4@acme.example>");
        s.S_code("452");
        s.C("RCPT TO:<a@b> NOTIFY=NEVER");
        s.S_code("555");
        s.C("RCPT TO:<not an address>");
        s.S_code("553");
        s.C("RCPT TO:<x@y\r>");  // a CR inside a command
        s.S_code("500");
        s.C("DATA");
        s.S_code("354");
        for (int i = 0; i < 4; ++i) s.C_raw(std::string(250, 'x') + "\r\n");  // 1008 bytes > 1000
        s.C_raw(".\r\n");
        s.S_code("552");
        s.C("RSET");
        s.S_code("250");
        // an over-long command line, then the session goes on
        s.C(std::string(5000, 'A'));
        s.S_code("500");
        s.C("NOOP");
        s.S_code("250");
        // an over-long line inside DATA: refused at the end
        s.C("MAIL FROM:<>");
        s.S_code("250");
        s.C("RCPT TO:<a@acme.example>");
        s.S_code("250");
        s.C("DATA");
        s.S_code("354");
        s.C_raw(std::string(400, 'z') + "\r\n.\r\n");
        s.S_code("554");
        CHECK(s.messages.empty());
        s.C("RSET");
        s.S_code("250");
    }
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.S_code("220");
        for (int i = 0; i < 20; ++i) {
            s.C("NOOP");
            s.S_code("250");
        }
        s.C("NOOP");
        s.S_code("421");
        CHECK(s.closed);
    }
    for (bool bytewise : {false, true}) {
        SessionConfig c = config();
        c.max_commands_before_auth = 1000;
        Script s(bytewise, c);
        s.S_code("220");
        for (int i = 0; i < 20; ++i) {
            s.C("GARBAGE");
            s.S_code("500");
        }
        s.C("GARBAGE");
        s.S_code("421");
        CHECK(s.closed);
    }
}

TEST_CASE("smtp: DATA before RCPT, RCPT before MAIL, SMTPUTF8 addresses", "[smtp]") {
    for (bool bytewise : {false, true}) {
        Script s(bytewise);
        s.login();
        s.C("RCPT TO:<a@acme.example>");
        s.S_code("503");
        s.C("DATA");
        s.S_code("503");
        s.C("MAIL FROM:<mia@vendor.example>");
        s.S_code("250");
        s.C("DATA");
        s.S_code("554");
        s.C("RCPT TO:<jürgen@bücher.example>");
        s.S_code("553");  // 8-bit without SMTPUTF8
        s.C("RSET");
        s.S_code("250");
        s.C("MAIL FROM:<mia@vendor.example> SMTPUTF8");
        s.S_code("250");
        s.C("RCPT TO:<jürgen@bücher.example>");
        s.S_code("250");
        s.C("RCPT TO:<@relay.example:jane@acme.example>");  // source route dropped
        s.S_code("250");
        s.C("DATA");
        s.S_code("354");
        s.C_raw(".\r\n");  // an empty message
        REQUIRE(s.messages.size() == 1);
        CHECK(s.messages[0].data.empty());
        CHECK(s.messages[0].envelope.recipients[1] == "jane@acme.example");
        CHECK(s.messages[0].envelope.smtputf8);
    }
}

TEST_CASE("smtp: plausible_mailbox", "[smtp]") {
    CHECK(plausible_mailbox("jane@acme.example", false));
    CHECK(plausible_mailbox("\"jane doe\"@acme.example", false));
    CHECK_FALSE(plausible_mailbox("jane", false));
    CHECK_FALSE(plausible_mailbox("jane@", false));
    CHECK_FALSE(plausible_mailbox("@acme.example", false));
    CHECK_FALSE(plausible_mailbox("ja ne@acme.example", false));
    CHECK_FALSE(plausible_mailbox("jane@acme.example\r\nBcc: x@y", false));
    CHECK_FALSE(plausible_mailbox("jane@acme..example", false));
    CHECK_FALSE(plausible_mailbox(std::string(250, 'a') + "@b.example", false));
}

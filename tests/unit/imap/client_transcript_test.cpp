// Transcript tests of the sans-I/O client in the KIMAP/Trojita style: "C:" is what the client
// must send, "S:" what the scripted server answers. No network. Every script runs twice: with
// whole server lines and with the server's bytes fed one at a time.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "client.hpp"

using namespace rapport::imap;

namespace {

class Script {
public:
    explicit Script(bool bytewise, ClientOptions options = {}) : client(options), bytewise_(bytewise) {}

    void S(const std::string& line) { feed(line + "\r\n"); }
    void S_raw(const std::string& bytes) { feed(bytes); }
    void C(const std::string& line) { C_raw(line + "\r\n"); }
    void C_raw(const std::string& bytes) {
        sent_ += client.take_output();
        INFO("client sent: " << sent_);
        REQUIRE(sent_.substr(0, bytes.size()) == bytes);
        sent_.erase(0, bytes.size());
    }
    void nothing_sent() {
        sent_ += client.take_output();
        CHECK(sent_ == "");
    }

    // Logs in with AUTH=PLAIN + SASL-IR and examines INBOX.
    void login_and_examine(const std::string& caps = "IMAP4rev1 LITERAL+ SASL-IR IDLE ESEARCH CONDSTORE ENABLE AUTH=PLAIN") {
        S("* OK [CAPABILITY " + caps + "] ready");
        bool logged_in = false;
        client.login("mia", "secret", [&](const Error& e) {
            REQUIRE_FALSE(e);
            logged_in = true;
        });
        C("A1 AUTHENTICATE PLAIN AG1pYQBzZWNyZXQ=");
        S("A1 OK [CAPABILITY " + caps + "] Logged in");
        REQUIRE(logged_in);
        bool examined = false;
        client.examine("INBOX", [&](const Error& e, const MailboxInfo&) {
            REQUIRE_FALSE(e);
            examined = true;
        });
        C("A2 EXAMINE INBOX");
        S("* 3 EXISTS");
        S("* OK [UIDVALIDITY 42] ok");
        S("A2 OK [READ-ONLY] done");
        REQUIRE(examined);
    }

    Client client;

private:
    void feed(const std::string& bytes) {
        if (bytewise_) {
            for (char ch : bytes) client.receive(std::string(1, ch));
        } else {
            client.receive(bytes);
        }
    }
    bool bytewise_;
    std::string sent_;
};

// Header fetches of `batch` UIDs per command, `in_flight` commands at a time.
ClientOptions fetch_options(std::size_t batch, std::size_t in_flight) {
    ClientOptions options;
    options.fetch_batch = batch;
    options.fetch_in_flight = in_flight;
    return options;
}

}  // namespace

TEST_CASE("client waits for the greeting before sending") {
    Script s(GENERATE(false, true));
    CHECK(s.client.state() == Client::State::waiting_for_greeting);
    CHECK(s.client.waiting_for_greeting());
    bool done = false;
    s.client.capability([&](const Error& e) {
        CHECK_FALSE(e);
        done = true;
    });
    s.nothing_sent();
    s.S("* OK hello");
    CHECK(s.client.state() == Client::State::not_authenticated);
    s.C("A1 CAPABILITY");
    s.S("* CAPABILITY IMAP4rev1 IDLE");
    s.S("A1 OK done");
    CHECK(done);
    CHECK(s.client.capabilities().has("IDLE"));
}

TEST_CASE("greeting BYE and PREAUTH") {
    SECTION("BYE") {
        Script s(GENERATE(false, true));
        s.S("* BYE too many connections");
        CHECK(s.client.state() == Client::State::closed);
        CHECK(s.client.failure().code == Errc::bye);
    }
    SECTION("PREAUTH") {
        Script s(false);
        s.S("* PREAUTH [CAPABILITY IMAP4rev1] welcome");
        CHECK(s.client.state() == Client::State::authenticated);
    }
}

TEST_CASE("LOGIN sends a password with quotes and CRLF as a synchronizing literal") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1] ready");
    Error result{Errc::closed, "", ""};
    s.client.login("mia", "se\"cret\r\nA9 DELETE INBOX", [&](const Error& e) { result = e; });
    s.C("A1 LOGIN mia {24}");
    s.nothing_sent();  // must wait for the continuation
    s.S("+ go ahead");
    s.C("se\"cret\r\nA9 DELETE INBOX");
    s.S("A1 OK logged in");
    s.C("A2 CAPABILITY");
    s.S("* CAPABILITY IMAP4rev1 IDLE");
    s.S("A2 OK");
    CHECK_FALSE(result);
    CHECK(s.client.state() == Client::State::authenticated);
}

TEST_CASE("AUTHENTICATE PLAIN without SASL-IR waits for the continuation") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
    Error result{Errc::closed, "", ""};
    s.client.login("mia", "secret", [&](const Error& e) { result = e; });
    s.C("A1 AUTHENTICATE PLAIN");
    s.S("+ ");
    s.C("AG1pYQBzZWNyZXQ=");
    s.S("A1 NO [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK(result.code == Errc::auth_failed);
    CHECK(result.response_code == "AUTHENTICATIONFAILED");
    CHECK(s.client.state() == Client::State::not_authenticated);
}

TEST_CASE("AUTHENTICATE XOAUTH2 with SASL-IR sends the token in the command") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready");
    Error result{Errc::closed, "", ""};
    s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mia@vendor.example", "ya29.tok-EN_1",
                                "imap.example.com", 993, [&](const Error& e) { result = e; });
    // base64("user=mia@vendor.example^Aauth=Bearer ya29.tok-EN_1^A^A")
    s.C("A1 AUTHENTICATE XOAUTH2 dXNlcj1taWFAdmVuZG9yLmV4YW1wbGUBYXV0aD1CZWFyZXIgeWEyOS50b2stRU5fMQEB");
    s.S("A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
    CHECK_FALSE(result);
    CHECK(s.client.state() == Client::State::authenticated);
    CHECK(s.client.capabilities().has("IDLE"));
}

TEST_CASE("AUTHENTICATE OAUTHBEARER without SASL-IR waits for the continuation; user is escaped") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] ready");
    Error result{Errc::closed, "", ""};
    s.client.authenticate_oauth(OAuthMechanism::oauthbearer, "mi=a,b@vendor.example", "ya29.tok-EN_1",
                                "imap.example.com", 993, [&](const Error& e) { result = e; });
    s.C("A1 AUTHENTICATE OAUTHBEARER");
    s.nothing_sent();
    s.S("+ ");
    // base64("n,a=mi=3Da=2Cb@vendor.example,^Ahost=imap.example.com^Aport=993^Aauth=Bearer ya29.tok-EN_1^A^A")
    s.C("bixhPW1pPTNEYT0yQ2JAdmVuZG9yLmV4YW1wbGUsAWhvc3Q9aW1hcC5leGFtcGxlLmNvbQFwb3J0PTk5MwFhdXRoPUJlYXJlciB5YTI5LnRvay1FTl8xAQE=");
    s.S("A1 OK Logged in");
    s.C("A2 CAPABILITY");
    s.S("* CAPABILITY IMAP4rev1 IDLE");
    s.S("A2 OK");
    CHECK_FALSE(result);
    CHECK(s.client.state() == Client::State::authenticated);
}

TEST_CASE("a refused XOAUTH2 token: the error challenge gets an empty answer, then NO") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready");
    Error result{Errc::closed, "", ""};
    s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mia@vendor.example", "ya29.tok-EN_1",
                                "imap.example.com", 993, [&](const Error& e) { result = e; });
    s.C("A1 AUTHENTICATE XOAUTH2 dXNlcj1taWFAdmVuZG9yLmV4YW1wbGUBYXV0aD1CZWFyZXIgeWEyOS50b2stRU5fMQEB");
    // Gmail's and Dovecot's answer to a bad token: the JSON error as a challenge...
    s.S("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==");
    // ...which must be answered (an empty line) before the server says NO; waiting would hang.
    s.C("");
    s.nothing_sent();
    CHECK(result.code == Errc::closed);  // not answered yet
    s.S("A1 NO [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK(result.code == Errc::auth_failed);
    CHECK(result.response_code == "AUTHENTICATIONFAILED");
    CHECK(result.message ==
          "AUTHENTICATE XOAUTH2 failed: Authentication failed. (the server refused the access token: "
          "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"})");
    CHECK(s.client.state() == Client::State::not_authenticated);
}

TEST_CASE("a refused OAUTHBEARER token: the error challenge is answered with ^A (AQ==)") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER] ready");
    Error result{Errc::closed, "", ""};
    s.client.authenticate_oauth(OAuthMechanism::oauthbearer, "mia", "t", "127.0.0.1", 10143,
                                [&](const Error& e) { result = e; });
    s.C("A1 AUTHENTICATE OAUTHBEARER bixhPW1pYSwBaG9zdD0xMjcuMC4wLjEBcG9ydD0xMDE0MwFhdXRoPUJlYXJlciB0AQE=");
    s.S("+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=");
    s.C("AQ==");
    s.S("A1 NO [AUTHENTICATIONFAILED] Authentication failed.");
    CHECK(result.code == Errc::auth_failed);
    CHECK(result.message.find("the server refused the access token: {\"status\":\"invalid_token\"}") !=
          std::string::npos);
}

TEST_CASE("OAuth: a second challenge is cancelled with *, garbage challenges are not shown") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready");
    Error result{Errc::closed, "", ""};
    s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mia", "t", "h", 1, [&](const Error& e) { result = e; });
    s.C("A1 AUTHENTICATE XOAUTH2 dXNlcj1taWEBYXV0aD1CZWFyZXIgdAEB");
    s.S("+ not base64 ~~");
    s.C("");
    s.S("+ again");
    s.C("*");
    s.S("A1 BAD Authentication aborted by client");
    CHECK(result.code == Errc::bad_command);
    CHECK(s.client.state() == Client::State::not_authenticated);
}

TEST_CASE("OAuth: a mechanism the server lacks, a token that could break the framing, are refused locally") {
    Script s(false);
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2] ready");
    Error result;
    s.client.authenticate_oauth(OAuthMechanism::oauthbearer, "mia", "tok", "h", 1, [&](const Error& e) { result = e; });
    CHECK(result.code == Errc::unsupported);
    CHECK(result.message == "server does not offer AUTH=OAUTHBEARER (it offers: AUTH=PLAIN AUTH=XOAUTH2)");
    for (const char* bad : {"", "tok\x01" "auth=x", "tok en", "tok\r\nA2 LOGOUT", "t\xc3\xa9"}) {
        result = Error{};
        s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mia", bad, "h", 1, [&](const Error& e) { result = e; });
        CHECK(result.code == Errc::invalid_argument);
    }
    result = Error{};
    s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mi\x01" "a", "tok", "h", 1, [&](const Error& e) { result = e; });
    CHECK(result.code == Errc::invalid_argument);
    s.nothing_sent();
    CHECK(s.client.state() == Client::State::not_authenticated);
}

TEST_CASE("OAuth: a 2.5 KB token goes out whole as one SASL-IR line") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready");
    const std::string token(2500, 'x');
    bool ok = false;
    s.client.authenticate_oauth(OAuthMechanism::xoauth2, "mia", token, "h", 1, [&](const Error& e) { ok = !e; });
    s.C("A1 AUTHENTICATE XOAUTH2 " + sasl::base64_encode("user=mia\x01" "auth=Bearer " + token + "\x01\x01"));
    s.S("A1 OK [CAPABILITY IMAP4rev1] done");
    CHECK(ok);
}

TEST_CASE("sasl base64 round trip and strictness") {
    for (const std::string& in : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\x00\xff\x01", 3)})
        CHECK(sasl::base64_decode(sasl::base64_encode(in)) == in);
    CHECK_FALSE(sasl::base64_decode("abc"));
    CHECK_FALSE(sasl::base64_decode("ab=c"));
    CHECK_FALSE(sasl::base64_decode("a b="));
    CHECK(sasl::describe_oauth_error("") == "");
    CHECK(sasl::describe_oauth_error(sasl::base64_encode("\x01\x02")) == "");
    CHECK(sasl::describe_oauth_error(sasl::base64_encode(std::string(1000, 'e'))).size() == 303);
}

TEST_CASE("LOGINDISABLED without AUTH=PLAIN is refused locally") {
    Script s(false);
    s.S("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS] ready");
    Error result;
    s.client.login("mia", "secret", [&](const Error& e) { result = e; });
    CHECK(result.code == Errc::unsupported);
    s.nothing_sent();
}

TEST_CASE("folder names with CRLF and quotes cannot inject commands") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready");
    s.client.login("mia", "x", [](const Error&) {});
    s.C("A1 AUTHENTICATE PLAIN AG1pYQB4");
    s.S("A1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ok");
    Error result{Errc::closed, "", ""};
    s.client.examine("Evil\"\r\nA3 DELETE INBOX", [&](const Error& e, const MailboxInfo&) { result = e; });
    // Control characters are base64 in modified UTF-7, the quote forces a literal.
    s.C("A2 EXAMINE {28}");
    s.S("+ ok");
    s.C("Evil\"&AA0ACg-A3 DELETE INBOX");
    s.S("A2 NO [NONEXISTENT] Mailbox doesn't exist");
    CHECK(result.code == Errc::rejected);
    CHECK(result.response_code == "NONEXISTENT");
    s.client.examine("Sent Items", [&](const Error& e, const MailboxInfo&) { result = e; });
    s.C("A3 EXAMINE \"Sent Items\"");
}

TEST_CASE("NO on EXAMINE leaves no mailbox selected") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    CHECK(s.client.state() == Client::State::selected);
    Error result;
    s.client.examine("Archive", [&](const Error& e, const MailboxInfo&) { result = e; });
    s.C("A3 EXAMINE Archive");
    s.S("A3 NO [NONEXISTENT] Mailbox doesn't exist: Archive");
    CHECK(result.code == Errc::rejected);
    CHECK(s.client.state() == Client::State::authenticated);
    // A fetch now is refused locally.
    Error fetch_error;
    s.client.fetch_headers(1, 0, {"FROM"}, nullptr,
                           [&](const Error& e, const FetchSummary&) { fetch_error = e; });
    CHECK(fetch_error.code == Errc::wrong_state);
}

TEST_CASE("EXAMINE collects UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ up to their limits") {
    Script s(GENERATE(false, true));
    s.S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR CONDSTORE ENABLE] ready");
    s.client.login("mia", "secret", [](const Error&) {});
    s.C("A1 AUTHENTICATE PLAIN AG1pYQBzZWNyZXQ=");
    s.S("A1 OK [CAPABILITY IMAP4rev1 CONDSTORE ENABLE] ok");
    bool enabled = false;
    s.client.enable_condstore([&](const Error& e) { enabled = !e; });
    s.C("A2 ENABLE CONDSTORE");
    s.S("* ENABLED CONDSTORE");
    s.S("A2 OK Enabled");
    CHECK(enabled);
    CHECK(s.client.condstore_enabled());
    MailboxInfo info;
    s.client.examine("INBOX", [&](const Error& e, const MailboxInfo& i) {
        REQUIRE_FALSE(e);
        info = i;
    });
    s.C("A3 EXAMINE INBOX");
    s.S("* FLAGS (\\Answered \\Seen)");
    s.S("* 700000000 EXISTS");
    s.S("* 0 RECENT");
    s.S("* OK [UIDVALIDITY 4294967295] UIDs valid");
    s.S("* OK [UIDNEXT 4294967295] Predicted next UID");
    s.S("* OK [HIGHESTMODSEQ 9223372036854775807] Highest");
    s.S("A3 OK [READ-ONLY] Examine completed");
    CHECK(info.exists == 700000000u);
    CHECK(info.uidvalidity == 4294967295u);
    CHECK(info.uidnext == 4294967295u);
    CHECK(info.highest_modseq == 9223372036854775807ull);
    CHECK(info.read_only);
    CHECK(info.flags.size() == 2);
    CHECK(s.client.selected_mailbox().uidvalidity == 4294967295u);
}

TEST_CASE("pipelined header fetch in UID batches with huge UIDs and literals") {
    Script s(GENERATE(false, true), fetch_options(2, 2));
    s.login_and_examine();
    std::map<std::uint32_t, FetchedMessage> got;
    std::vector<std::uint32_t> order;
    bool done = false;
    FetchSummary summary;
    s.client.fetch_headers(
        700000000, 0, {"From", "Subject"},
        [&](const FetchedMessage& m) {
            order.push_back(m.uid);
            got[m.uid] = m;
        },
        [&](const Error& e, const FetchSummary& sum) {
            REQUIRE_FALSE(e);
            done = true;
            summary = sum;
        });
    s.C("A3 UID SEARCH RETURN (ALL) UID 700000000:*");
    s.S("* ESEARCH (TAG \"A3\") UID ALL 700000001:700000003,4294967294:4294967295");
    s.S("A3 OK Search completed");
    // Two batches in flight at once; the third waits for a slot.
    s.C("A4 UID FETCH 700000001:700000002 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])");
    s.C("A5 UID FETCH 700000003,4294967294 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])");
    s.nothing_sent();
    s.S_raw("* 1 FETCH (UID 700000001 MODSEQ (5) FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] {39}\r\n"
            "From: a@x.example\r\nSubject: )\r\n {3}\r\n\r\n)\r\n");
    s.S("* 2 FETCH (UID 700000002 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] {2}\r\n\r\n)");
    // An unsolicited flag change must not count as a delivered message.
    s.S("* 3 FETCH (UID 700000003 FLAGS (\\Flagged))");
    // A duplicate FETCH for an already delivered UID is ignored.
    s.S("* 1 FETCH (UID 700000001 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] \"\")");
    s.S("A4 OK Fetch completed");
    s.C("A6 UID FETCH 4294967295 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])");
    s.S("* 3 FETCH (UID 700000003 FLAGS (\\Flagged) BODY[HEADER.FIELDS (FROM SUBJECT)] {2}\r\n\r\n)");
    s.S("* 4 FETCH (UID 4294967294 FLAGS () BODY[HEADER.FIELDS (FROM SUBJECT)] NIL)");
    s.S("A5 OK Fetch completed");
    CHECK_FALSE(done);
    s.S("* 5 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {2}\r\n\r\n UID 4294967295 FLAGS ())");
    s.S("A6 OK Fetch completed");
    REQUIRE(done);
    CHECK(summary.requested == 5);
    CHECK(summary.delivered == 5);
    CHECK(summary.highest_uid == 4294967295u);
    CHECK(order == std::vector<std::uint32_t>{700000001, 700000002, 700000003, 4294967294u, 4294967295u});
    CHECK(got[700000001].header_block == "From: a@x.example\r\nSubject: )\r\n {3}\r\n\r\n");
    CHECK(*got[700000001].modseq == 5u);
    CHECK(got[700000001].flags == std::vector<std::string>{"\\Seen"});
    CHECK(got[700000003].flags == std::vector<std::string>{"\\Flagged"});
}

TEST_CASE("a batch whose messages are all in makes room before its OK; a short one waits for the OK") {
    // Dovecot runs pipelined FETCH commands together and sends all their OKs at the end:
    // waiting for each OK would leave it idle between groups of commands.
    Script s(GENERATE(false, true), fetch_options(2, 1));
    s.login_and_examine();
    std::vector<std::uint32_t> order;
    bool done = false;
    s.client.fetch_headers(
        1, 0, {"From"}, [&](const FetchedMessage& m) { order.push_back(m.uid); },
        [&](const Error& e, const FetchSummary& sum) {
            REQUIRE_FALSE(e);
            CHECK(sum.delivered == 5);
            done = true;
        });
    s.C("A3 UID SEARCH RETURN (ALL) UID 1:*");
    s.S("* ESEARCH (TAG \"A3\") UID ALL 1:6");
    s.S("A3 OK Search completed");
    s.C("A4 UID FETCH 1:2 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM)])");
    s.nothing_sent();
    s.S("* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    s.nothing_sent();
    s.S("* 2 FETCH (UID 2 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    s.C("A5 UID FETCH 3:4 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM)])");  // before A4's OK
    s.S("* 3 FETCH (UID 3 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    // UID 4 never comes (expunged meanwhile): batch 2 keeps its place until its OK.
    s.nothing_sent();
    s.S("A4 OK Fetch completed");
    s.nothing_sent();
    s.S("A5 OK Fetch completed");
    s.C("A6 UID FETCH 5:6 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM)])");
    s.S("* 5 FETCH (UID 5 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    s.S("* 6 FETCH (UID 6 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    s.nothing_sent();
    CHECK_FALSE(done);  // done waits for every command's answer, not only for the messages
    s.S("A6 OK Fetch completed");
    REQUIRE(done);
    CHECK(order == std::vector<std::uint32_t>{1, 2, 3, 5, 6});
}

TEST_CASE("n:* matching a lower UID is filtered out, plain SEARCH works") {
    Script s(GENERATE(false, true));
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
    bool done = false;
    FetchSummary summary;
    s.client.fetch_headers(100, 0, {"FROM"}, [](const FetchedMessage&) { FAIL("no message expected"); },
                           [&](const Error& e, const FetchSummary& sum) {
                               CHECK_FALSE(e);
                               done = true;
                               summary = sum;
                           });
    s.C("A3 UID SEARCH UID 100:*");
    s.S("* SEARCH 99");
    s.S("A3 OK done");
    CHECK(done);
    CHECK(summary.requested == 0);
    s.nothing_sent();
}

TEST_CASE("BYE in the middle of a fetch fails it cleanly") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    Error result;
    std::size_t messages = 0;
    s.client.fetch_headers(1, 0, {"FROM"}, [&](const FetchedMessage&) { ++messages; },
                           [&](const Error& e, const FetchSummary&) { result = e; });
    s.C("A3 UID SEARCH RETURN (ALL) UID 1:*");
    s.S("* ESEARCH (TAG \"A3\") UID ALL 1:3");
    s.S("A3 OK done");
    s.C("A4 UID FETCH 1:3 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM)])");
    s.S("* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    s.S("* BYE Server shutting down.");
    CHECK(messages == 1);
    CHECK(result.code == Errc::bye);
    CHECK(s.client.state() == Client::State::closed);
    // Later input and later operations are harmless.
    s.S("* 2 FETCH (UID 2 FLAGS () BODY[HEADER.FIELDS (FROM)] {2}\r\n\r\n)");
    CHECK(messages == 1);
    Error later;
    s.client.noop([&](const Error& e) { later = e; });
    CHECK(later.code == Errc::bye);
}

TEST_CASE("garbage from the server is a protocol error, pending work fails") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    Error result;
    s.client.status("Sent", [&](const Error& e, const MailboxStatus&) { result = e; });
    s.C("A3 STATUS Sent (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)");
    s.S("HTTP/1.1 400 Bad Request");
    CHECK(result.code == Errc::protocol);
    CHECK(s.client.state() == Client::State::failed);
}

TEST_CASE("an unknown tag is a protocol error") {
    Script s(false);
    s.login_and_examine();
    s.S("A99 OK what?");
    CHECK(s.client.state() == Client::State::failed);
    CHECK(s.client.failure().code == Errc::protocol);
}

TEST_CASE("an oversized literal is refused, not buffered") {
    ClientOptions options;
    options.limits.max_literal = 1024;
    Script s(GENERATE(false, true), options);
    s.login_and_examine();
    s.S("* 1 FETCH (UID 1 BODY[HEADER] {1025}");
    CHECK(s.client.state() == Client::State::failed);
    CHECK(s.client.failure().code == Errc::too_large);
}

TEST_CASE("STATUS reports UIDNEXT, UIDVALIDITY, MESSAGES, HIGHESTMODSEQ") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    MailboxStatus st;
    s.client.status("Sent Items", [&](const Error& e, const MailboxStatus& x) {
        REQUIRE_FALSE(e);
        st = x;
    });
    s.C("A3 STATUS \"Sent Items\" (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)");
    s.S("* STATUS \"Sent Items\" (MESSAGES 12 UIDNEXT 4294967295 UIDVALIDITY 1700000000 HIGHESTMODSEQ 99)");
    s.S("A3 OK Status completed");
    CHECK(*st.messages == 12u);
    CHECK(*st.uidnext == 4294967295u);
    CHECK(*st.uidvalidity == 1700000000u);
    CHECK(*st.highest_modseq == 99u);
}

TEST_CASE("IDLE reports changes and ends with DONE") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    std::vector<MailboxEvent> events;
    bool started = false;
    s.client.idle([&](const MailboxEvent& e) { events.push_back(e); },
                  [&](const Error& e) { started = !e; });
    s.C("A3 IDLE");
    CHECK_FALSE(started);
    s.S("+ idling");
    CHECK(started);
    CHECK(s.client.idling());
    // Other commands are refused while idling.
    Error busy;
    s.client.noop([&](const Error& e) { busy = e; });
    CHECK(busy.code == Errc::busy);
    s.S("* 4 EXISTS");
    s.S("* 2 EXPUNGE");
    s.S("* 1 FETCH (FLAGS (\\Seen))");
    REQUIRE(events.size() == 3);
    CHECK(events[0].kind == MailboxEvent::Kind::exists);
    CHECK(events[0].number == 4);
    CHECK(events[1].kind == MailboxEvent::Kind::expunge);
    CHECK(events[2].kind == MailboxEvent::Kind::flags);
    bool stopped = false;
    s.client.idle_done([&](const Error& e) { stopped = !e; });
    // A command queued after DONE waits for the tagged answer to IDLE.
    s.client.noop(nullptr);
    s.C("DONE");
    s.nothing_sent();
    s.S("A3 OK Idle completed");
    CHECK(stopped);
    CHECK_FALSE(s.client.idling());
    s.C("A4 NOOP");
}

TEST_CASE("idle_done before the continuation sends DONE right after it") {
    Script s(false);
    s.login_and_examine();
    s.client.idle([](const MailboxEvent&) {}, [](const Error&) {});
    s.C("A3 IDLE");
    bool stopped = false;
    s.client.idle_done([&](const Error& e) { stopped = !e; });
    s.nothing_sent();
    s.S("+ idling");
    s.C("DONE");
    s.S("A3 OK Idle completed");
    CHECK(stopped);
}

TEST_CASE("APPEND waits for the continuation and returns APPENDUID") {
    Script s(GENERATE(false, true));
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS");
    AppendResult result;
    Error err{Errc::closed, "", ""};
    const std::string message = "Subject: hi\r\n\r\nA5 LOGOUT\r\n";
    s.client.append("Drafts", {"\\Draft"}, message, [&](const Error& e, const AppendResult& r) {
        err = e;
        result = r;
    });
    s.C("A3 APPEND Drafts (\\Draft) {26}");
    s.nothing_sent();
    s.S("+ OK");
    s.C(message);
    s.S("A3 OK [APPENDUID 1700000000 4294967295] Append completed.");
    CHECK_FALSE(err);
    CHECK(result.uidvalidity == 1700000000u);
    CHECK(result.uid == 4294967295u);
}

TEST_CASE("APPEND rejected instead of a continuation unblocks the connection") {
    Script s(false);
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
    Error err;
    s.client.append("Nope", {}, "x\r\n", [&](const Error& e, const AppendResult&) { err = e; });
    s.client.noop(nullptr);
    s.C("A3 APPEND Nope () {3}");
    s.nothing_sent();
    s.S("A3 NO [TRYCREATE] Mailbox doesn't exist");
    CHECK(err.response_code == "TRYCREATE");
    s.C("A4 NOOP");
}

TEST_CASE("APPEND refuses \\Deleted and NUL") {
    Script s(false);
    s.login_and_examine();
    Error err;
    s.client.append("Drafts", {"\\Deleted"}, "x\r\n", [&](const Error& e, const AppendResult&) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
    s.client.append("Drafts", {}, std::string("a\0b", 3), [&](const Error& e, const AppendResult&) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
    s.client.append("Drafts", {"x y"}, "a", [&](const Error& e, const AppendResult&) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
    s.nothing_sent();
}

TEST_CASE("APPEND flags cannot inject: CR/LF, parentheses, quotes and empty flags are refused") {
    Script s(false);
    s.login_and_examine();
    for (const std::string bad : {"\\Draft)\r\nA9 DELETE INBOX", "\\Draft\r\n", "(\\Seen", "\\Seen)",
                                  "a\"b", "\\", "", "\\Dr\\aft", "{3}", "caf\xc3\xa9"}) {
        INFO("flag: " << bad);
        Error err;
        s.client.append("Drafts", {"\\Draft", bad}, "x\r\n",
                        [&](const Error& e, const AppendResult&) { err = e; });
        CHECK(err.code == Errc::invalid_argument);
    }
    s.nothing_sent();
    // System flags and keyword atoms pass.
    s.client.append("Drafts", {"\\Draft", "\\Seen", "$Rapport"}, "x\r\n", nullptr);
    s.C("A3 APPEND Drafts (\\Draft \\Seen $Rapport) {3+}");
}

TEST_CASE("search_header: UID SEARCH HEADER with a quoted value, UIDs sorted and unique") {
    Script s(GENERATE(false, true));
    s.login_and_examine();  // the server has ESEARCH: the plain form is sent all the same
    Error err{Errc::closed, "", ""};
    std::vector<std::uint32_t> uids;
    s.client.search_header("X-Rapport-Draft", "<d-3f2a@rapport>",
                           [&](const Error& e, const std::vector<std::uint32_t>& u) {
                               err = e;
                               uids = u;
                           });
    s.C("A3 UID SEARCH HEADER X-Rapport-Draft \"<d-3f2a@rapport>\"");
    s.S("* SEARCH 9 4294967295 7");
    s.S("* SEARCH 9");  // a second response for the same command adds up
    s.S("A3 OK Search completed (0.001 + 0.000 secs).");
    CHECK_FALSE(err);
    CHECK(uids == std::vector<std::uint32_t>{7, 9, 4294967295u});
    CHECK(s.client.state() == Client::State::selected);
}

TEST_CASE("search_header: no match is an empty list, with or without an empty SEARCH") {
    Script s(GENERATE(false, true));
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
    int calls = 0;
    std::vector<std::uint32_t> uids{1};
    auto record = [&](const Error& e, const std::vector<std::uint32_t>& u) {
        CHECK_FALSE(e);
        ++calls;
        uids = u;
    };
    s.client.search_header("X-Rapport-Draft", "<d-none@rapport>", record);
    s.client.search_header("Message-ID", "<x@y>", record);  // pipelined
    s.C("A3 UID SEARCH HEADER X-Rapport-Draft \"<d-none@rapport>\"");
    s.C("A4 UID SEARCH HEADER Message-ID \"<x@y>\"");
    s.S("* SEARCH");
    s.S("A3 OK Search completed");
    CHECK(calls == 1);
    CHECK(uids.empty());
    uids = {1};
    s.S("A4 OK Search completed");  // no untagged SEARCH at all
    CHECK(calls == 2);
    CHECK(uids.empty());
}

TEST_CASE("search_header: NO keeps its response code and drops partial data") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    Error err;
    std::vector<std::uint32_t> uids{1};
    s.client.search_header("X-Rapport-Draft", "<d-1@rapport>",
                           [&](const Error& e, const std::vector<std::uint32_t>& u) {
                               err = e;
                               uids = u;
                           });
    s.C("A3 UID SEARCH HEADER X-Rapport-Draft \"<d-1@rapport>\"");
    s.S("* SEARCH 5");
    s.S("A3 NO [SERVERBUG] Search failed");
    CHECK(err.code == Errc::rejected);
    CHECK(err.response_code == "SERVERBUG");
    CHECK(uids.empty());
    // The connection goes on.
    s.client.noop(nullptr);
    s.C("A4 NOOP");
}

TEST_CASE("search_header: a non-ASCII value is a literal with CHARSET UTF-8") {
    SECTION("synchronizing literal") {
        Script s(GENERATE(false, true));
        s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
        std::vector<std::uint32_t> uids;
        Error err{Errc::closed, "", ""};
        s.client.search_header("Subject", "Zusammenfassung \xe2\x80\x93 M\xc3\xbcller",
                               [&](const Error& e, const std::vector<std::uint32_t>& u) {
                                   err = e;
                                   uids = u;
                               });
        s.C("A3 UID SEARCH CHARSET UTF-8 HEADER Subject {27}");
        s.nothing_sent();  // waits for the continuation
        s.S("+ OK");
        s.C("Zusammenfassung \xe2\x80\x93 M\xc3\xbcller");
        s.S("* SEARCH 12");
        s.S("A3 OK Search completed");
        CHECK_FALSE(err);
        CHECK(uids == std::vector<std::uint32_t>{12});
    }
    SECTION("LITERAL+") {
        Script s(GENERATE(false, true));
        s.login_and_examine();
        s.client.search_header("X-Rapport-Draft", "<d-\xc3\xa9@rapport>", nullptr);
        s.C("A3 UID SEARCH CHARSET UTF-8 HEADER X-Rapport-Draft {14+}\r\n<d-\xc3\xa9@rapport>");
    }
    SECTION("an ASCII value with CR/LF is a literal without CHARSET") {
        Script s(GENERATE(false, true));
        s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
        Error err{Errc::closed, "", ""};
        s.client.search_header("Subject", "line\r\nA9 DELETE INBOX",
                               [&](const Error& e, const std::vector<std::uint32_t>&) { err = e; });
        s.C("A3 UID SEARCH HEADER Subject {21}");
        s.nothing_sent();
        s.S("+ OK");
        s.C("line\r\nA9 DELETE INBOX");
        s.S("* SEARCH");
        s.S("A3 OK Search completed");
        CHECK_FALSE(err);
    }
}

TEST_CASE("search_header: bad field names and values are refused before sending") {
    Script s(false);
    s.login_and_examine();
    for (const std::string field : {"", "Subject:", "X Y", "X-Rapport-Draft\r\nA9 DELETE INBOX",
                                    "\"Subject\"", "Subj\xc3\xa9" "ct", "(Subject)"}) {
        INFO("field: " << field);
        Error err;
        std::vector<std::uint32_t> uids{1};
        s.client.search_header(field, "<d-1@rapport>",
                               [&](const Error& e, const std::vector<std::uint32_t>& u) {
                                   err = e;
                                   uids = u;
                               });
        CHECK(err.code == Errc::invalid_argument);
        CHECK(uids.empty());
    }
    for (const std::string& value : {std::string("a\0b", 3), std::string("\xc3"),
                                    std::string("\xed\xa0\x80")}) {  // NUL, truncated, surrogate
        Error err;
        s.client.search_header("Subject", value,
                               [&](const Error& e, const std::vector<std::uint32_t>&) { err = e; });
        CHECK(err.code == Errc::invalid_argument);
    }
    s.nothing_sent();
}

TEST_CASE("search_header needs a selected mailbox") {
    Script s(false);
    s.S("* PREAUTH [CAPABILITY IMAP4rev1] welcome");
    Error err;
    s.client.search_header("Subject", "x", [&](const Error& e, const std::vector<std::uint32_t>&) { err = e; });
    CHECK(err.code == Errc::wrong_state);
    s.nothing_sent();
}

TEST_CASE("search_header pipelined with a header fetch: both fail once when the connection drops") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    int fetch_done = 0, search_done = 0;
    Error fetch_err, search_err;
    s.client.fetch_headers(1, 0, {"FROM"}, nullptr, [&](const Error& e, const FetchSummary&) {
        fetch_err = e;
        ++fetch_done;
    });
    s.client.search_header("X-Rapport-Draft", "<d-1@rapport>",
                           [&](const Error& e, const std::vector<std::uint32_t>&) {
                               search_err = e;
                               ++search_done;
                           });
    s.C("A3 UID SEARCH RETURN (ALL) UID 1:*");
    s.C("A4 UID SEARCH HEADER X-Rapport-Draft \"<d-1@rapport>\"");
    s.S("* ESEARCH (TAG \"A3\") UID ALL 1:2");
    s.S("A3 OK done");
    s.C("A5 UID FETCH 1:2 (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (FROM)])");
    s.client.connection_lost(Error{Errc::network, "connection reset", ""});
    CHECK(fetch_done == 1);
    CHECK(search_done == 1);
    CHECK(fetch_err.code == Errc::network);
    CHECK(search_err.code == Errc::network);
}

TEST_CASE("search_header results go to the right command next to a header fetch") {
    Script s(GENERATE(false, true));
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR");
    std::vector<std::uint32_t> found;
    FetchSummary summary;
    s.client.search_header("X-Rapport-Draft", "<d-1@rapport>",
                           [&](const Error& e, const std::vector<std::uint32_t>& u) {
                               CHECK_FALSE(e);
                               found = u;
                           });
    s.client.fetch_headers(1, 0, {"FROM"}, nullptr,
                           [&](const Error& e, const FetchSummary& sum) {
                               CHECK_FALSE(e);
                               summary = sum;
                           });
    s.C("A3 UID SEARCH HEADER X-Rapport-Draft \"<d-1@rapport>\"");
    s.C("A4 UID SEARCH UID 1:*");
    s.S("* SEARCH 2");
    s.S("A3 OK done");
    s.S("* SEARCH 1 2 3");
    s.S("A4 OK done");
    CHECK(found == std::vector<std::uint32_t>{2});
    s.C("A5 UID FETCH 1:3 (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM)])");
    s.S("A5 OK done");
    CHECK(summary.requested == 3);
}

TEST_CASE("CREATE: OK, NO [ALREADYEXISTS] with its code, names in modified UTF-7") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    Error err{Errc::closed, "", ""};
    auto record = [&](const Error& e) { err = e; };
    s.client.create("Drafts 2", record);
    s.C("A3 CREATE \"Drafts 2\"");
    s.S("A3 OK Create completed.");
    CHECK_FALSE(err);

    s.client.create("Drafts", record);
    s.C("A4 CREATE Drafts");
    s.S("A4 NO [ALREADYEXISTS] Mailbox already exists");
    CHECK(err.code == Errc::rejected);
    CHECK(err.response_code == "ALREADYEXISTS");  // the caller may treat this as success

    s.client.create("Entw\xc3\xbcrfe", record);
    s.C("A5 CREATE Entw&APw-rfe");
    s.S("A5 NO [NOPERM] Permission denied");
    CHECK(err.code == Errc::rejected);
    CHECK(err.response_code == "NOPERM");

    s.client.create("Notes & Drafts", record);
    s.C("A6 CREATE \"Notes &- Drafts\"");
    s.S("A6 OK Create completed.");
    CHECK_FALSE(err);
    // CREATE leaves the selected mailbox alone.
    CHECK(s.client.state() == Client::State::selected);
}

TEST_CASE("CREATE refuses bad names and needs a login") {
    Script s(false);
    s.S("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
    Error err;
    s.client.create("Drafts", [&](const Error& e) { err = e; });
    CHECK(err.code == Errc::wrong_state);
    Script t(false);
    t.login_and_examine();
    t.client.create("", [&](const Error& e) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
    t.client.create("\xff", [&](const Error& e) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
    s.nothing_sent();
    t.nothing_sent();
}

TEST_CASE("LIST asks for special-use folders and decodes names") {
    Script s(GENERATE(false, true));
    s.login_and_examine("IMAP4rev1 AUTH=PLAIN SASL-IR SPECIAL-USE LIST-EXTENDED");
    std::vector<ListEntry> entries;
    s.client.list([&](const Error& e, const std::vector<ListEntry>& l) {
        REQUIRE_FALSE(e);
        entries = l;
    });
    s.C("A3 LIST \"\" \"*\" RETURN (SPECIAL-USE)");
    s.S("* LIST (\\HasNoChildren \\Sent) \".\" \"Gesendete Objekte\"");
    s.S("* LIST (\\HasNoChildren \\Trash) \".\" Gel&APY-scht");
    s.S("* LIST (\\HasNoChildren) \".\" INBOX");
    s.S("A3 OK List completed");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].name == "Gesendete Objekte");
    CHECK(entries[0].attributes[1] == "\\Sent");
    CHECK(entries[1].name == "Gel\xc3\xb6scht");
}

TEST_CASE("STARTTLS: success asks for a handshake, trailing plaintext is an injection") {
    SECTION("clean") {
        Script s(GENERATE(false, true));
        s.S("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready");
        bool done = false;
        s.client.starttls([&](const Error& e) { done = !e; });
        s.C("A1 STARTTLS");
        s.S("A1 OK Begin TLS negotiation now.");
        CHECK(s.client.tls_requested());
        CHECK_FALSE(done);
        s.client.tls_established();
        s.C("A2 CAPABILITY");
        s.S("* CAPABILITY IMAP4rev1 AUTH=PLAIN");
        s.S("A2 OK");
        CHECK(done);
        CHECK(s.client.capabilities().has("AUTH=PLAIN"));
        CHECK_FALSE(s.client.capabilities().has("STARTTLS"));
    }
    SECTION("injected") {
        Script s(false);
        s.S("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready");
        Error err;
        s.client.starttls([&](const Error& e) { err = e; });
        s.C("A1 STARTTLS");
        s.S_raw("A1 OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n");
        CHECK(s.client.state() == Client::State::failed);
        CHECK(err.code == Errc::protocol);
    }
    SECTION("not offered") {
        Script s(false);
        s.S("* OK [CAPABILITY IMAP4rev1] ready");
        Error err;
        s.client.starttls([&](const Error& e) { err = e; });
        CHECK(err.code == Errc::unsupported);
        s.nothing_sent();
    }
}

TEST_CASE("losing the connection fails everything pending") {
    Script s(false);
    s.login_and_examine();
    Error a, b;
    s.client.noop([&](const Error& e) { a = e; });
    s.client.status("INBOX", [&](const Error& e, const MailboxStatus&) { b = e; });
    s.client.connection_lost(Error{Errc::network, "connection reset", ""});
    CHECK(a.code == Errc::network);
    CHECK(b.code == Errc::network);
    CHECK(s.client.state() == Client::State::closed);
}

TEST_CASE("LOGOUT expects BYE then OK") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    Error err{Errc::closed, "", ""};
    s.client.logout([&](const Error& e) { err = e; });
    s.C("A3 LOGOUT");
    s.S("* BYE Logging out");
    CHECK(s.client.state() != Client::State::closed);
    s.S("A3 OK Logout completed.");
    CHECK_FALSE(err);
    CHECK(s.client.state() == Client::State::closed);
}

TEST_CASE("fetch_body: BODY.PEEK[] cut at a size, pipelined, an expunged UID is NONEXISTENT") {
    Script s(GENERATE(false, true));
    s.login_and_examine();
    std::vector<std::pair<Error, std::string>> got;
    auto record = [&](const Error& e, std::string body) { got.emplace_back(e, std::move(body)); };
    s.client.fetch_body(7, 262144, record);
    s.client.fetch_body(9, 262144, record);
    s.C("A3 UID FETCH 7 (UID BODY.PEEK[]<0.262144>)");
    s.C("A4 UID FETCH 9 (UID BODY.PEEK[]<0.262144>)");
    s.S("* 3 FETCH (UID 7 BODY[]<0> {12}\r\nSubject: x\r\n)");
    s.S("* 4 EXISTS");  // new mail meanwhile is still an event
    s.S("A3 OK Fetch completed.");
    REQUIRE(got.size() == 1);
    CHECK_FALSE(got[0].first);
    CHECK(got[0].second == "Subject: x\r\n");
    s.S("A4 OK Fetch completed.");  // nothing for UID 9: expunged
    REQUIRE(got.size() == 2);
    CHECK(got[1].first.code == Errc::rejected);
    CHECK(got[1].first.response_code == "NONEXISTENT");
    Error err;
    s.client.fetch_body(0, 10, [&](const Error& e, std::string) { err = e; });
    CHECK(err.code == Errc::invalid_argument);
}

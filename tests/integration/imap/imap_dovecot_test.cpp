// ImapConnection against a real Dovecot started by the test (tests/support/dovecot_fixture.hpp).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <algorithm>
#include <functional>
#include <set>

#include "dovecot_fixture.hpp"
#include "imap_connection.hpp"

using namespace rapport::imap;
using rapport::test::DovecotFixture;
using rapport::test::sample_message;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> header_fields = {"FROM", "TO", "CC", "DATE", "SUBJECT", "MESSAGE-ID",
                                                "IN-REPLY-TO", "REFERENCES", "AUTO-SUBMITTED",
                                                "CONTENT-TYPE"};

// Runs the io_context until done() is true; fails the test after the timeout.
void run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    io.restart();
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) FAIL("timed out waiting");
        io.run_for(20ms);
    }
}

Endpoint plain(const DovecotFixture& d) {
    return Endpoint{"127.0.0.1", static_cast<std::uint16_t>(d.port()), Security::none, "", false};
}

std::shared_ptr<ImapConnection> connected(boost::asio::io_context& io, const Endpoint& ep,
                                          const DovecotFixture& d, ConnectionOptions o = {}) {
    auto c = ImapConnection::create(io, o);
    bool done = false;
    Error err;
    c->connect(ep, {d.user(), d.password()}, [&](const Error& e) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; });
    INFO(err.message);
    REQUIRE_FALSE(err);
    return c;
}

MailboxInfo examine(boost::asio::io_context& io, ImapConnection& c, const std::string& folder) {
    bool done = false;
    MailboxInfo info;
    c.examine(folder, [&](const Error& e, const MailboxInfo& i) {
        INFO(e.message);
        REQUIRE_FALSE(e);
        info = i;
        done = true;
    });
    run_until(io, [&] { return done; });
    return info;
}

}  // namespace

TEST_CASE("login, EXAMINE and STATUS against Dovecot") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    auto c = connected(io, plain(dovecot), dovecot);
    CHECK(c->client().capabilities().has("IDLE"));
    CHECK(c->client().condstore_enabled());
    auto info = examine(io, *c, "INBOX");
    CHECK(info.read_only);
    CHECK(info.exists == 0);
    CHECK(info.uidvalidity != 0);

    bool done = false;
    MailboxStatus st;
    c->status("Sent", [&](const Error& e, const MailboxStatus& s) {
        REQUIRE_FALSE(e);
        st = s;
        done = true;
    });
    run_until(io, [&] { return done; });
    REQUIRE(st.uidvalidity);
    REQUIRE(st.uidnext);
    CHECK(*st.uidnext == 1);
    CHECK(*st.messages == 0);
    CHECK(st.highest_modseq);

    // Deleting and recreating a folder changes its UIDVALIDITY.
    dovecot.append("Sent", sample_message(1));
    dovecot.recreate_folder("Sent");
    done = false;
    MailboxStatus st2;
    c->status("Sent", [&](const Error& e, const MailboxStatus& s) {
        REQUIRE_FALSE(e);
        st2 = s;
        done = true;
    });
    run_until(io, [&] { return done; });
    CHECK(*st2.uidvalidity != *st.uidvalidity);
    CHECK(*st2.messages == 0);

    done = false;
    std::vector<ListEntry> folders;
    c->list([&](const Error& e, const std::vector<ListEntry>& l) {
        REQUIRE_FALSE(e);
        folders = l;
        done = true;
    });
    run_until(io, [&] { return done; });
    bool sent_special = false;
    for (const auto& f : folders)
        for (const auto& a : f.attributes)
            if (f.name == "Sent" && a == "\\Sent") sent_special = true;
    CHECK(sent_special);

    c->close();
    run_until(io, [&] { return c->client().state() == Client::State::closed; });
}

TEST_CASE("a wrong password is an authentication error") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    auto c = ImapConnection::create(io);
    bool done = false;
    Error err;
    c->connect(plain(dovecot), {dovecot.user(), "wrong"}, [&](const Error& e) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; });
    CHECK(err.code == Errc::auth_failed);
}

TEST_CASE("pipelined header fetch of a few thousand messages sees every UID once, peeks only") {
    DovecotFixture::Options o;
    o.seed = {{"INBOX", 3000}};
    DovecotFixture dovecot(o);
    const auto flags_before = dovecot.flags("INBOX");
    REQUIRE(flags_before.size() == 3000);

    boost::asio::io_context io;
    auto c = connected(io, plain(dovecot), dovecot);
    auto info = examine(io, *c, "INBOX");
    REQUIRE(info.exists == 3000);

    std::set<std::uint32_t> seen;
    std::size_t duplicates = 0, bodies = 0;
    bool done = false;
    FetchSummary summary;
    c->fetch_headers(1, 0, header_fields,
                     [&](const FetchedMessage& m) {
                         if (!seen.insert(m.uid).second) ++duplicates;
                         if (m.header_block.find("Body of message") != std::string::npos) ++bodies;
                         if (m.header_block.find("Subject: Message number ") == std::string::npos)
                             FAIL("header block without Subject: " << m.header_block);
                         CHECK(m.modseq);
                     },
                     [&](const Error& e, const FetchSummary& s) {
                         INFO(e.message);
                         REQUIRE_FALSE(e);
                         summary = s;
                         done = true;
                     });
    run_until(io, [&] { return done; }, 60s);
    CHECK(summary.requested == 3000);
    CHECK(summary.delivered == 3000);
    CHECK(seen.size() == 3000);
    CHECK(*seen.begin() == 1);
    CHECK(*seen.rbegin() == 3000);
    CHECK(duplicates == 0);
    CHECK(bodies == 0);

    // Only part of a range, starting in the middle.
    done = false;
    std::size_t count = 0;
    c->fetch_headers(2990, 0, {"SUBJECT"}, [&](const FetchedMessage& m) { CHECK(m.uid >= 2990); ++count; },
                     [&](const Error& e, const FetchSummary&) {
                         REQUIRE_FALSE(e);
                         done = true;
                     });
    run_until(io, [&] { return done; });
    CHECK(count == 11);
    c->close();
    run_until(io, [&] { return c->client().state() == Client::State::closed; });
    CHECK(dovecot.flags("INBOX") == flags_before);  // nothing marked \Seen or \Deleted
}

TEST_CASE("IDLE wakes within 2 seconds of an APPEND from another connection") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    auto watcher = connected(io, plain(dovecot), dovecot);
    examine(io, *watcher, "INBOX");
    bool started = false, woke = false;
    std::uint32_t exists = 0;
    watcher->idle(
        [&](const MailboxEvent& e) {
            if (e.kind == MailboxEvent::Kind::exists) {
                woke = true;
                exists = e.number;
            }
        },
        [&](const Error& e) { CHECK_FALSE(e); });
    // The IDLE is running once the server answered "+"; give it a moment.
    run_until(io, [&] {
        started = watcher->client().idling() && watcher->client().commands_in_flight() == 1;
        return started;
    });
    io.restart();
    io.run_for(200ms);

    auto writer = connected(io, plain(dovecot), dovecot);
    bool appended = false;
    AppendResult result;
    const auto t0 = std::chrono::steady_clock::now();
    writer->append("INBOX", {"\\Draft"}, sample_message(42), [&](const Error& e, const AppendResult& r) {
        REQUIRE_FALSE(e);
        result = r;
        appended = true;
    });
    run_until(io, [&] { return appended && woke; }, 10s);
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited < 2s);
    CHECK(exists == 1);
    CHECK(result.uidvalidity != 0);
    CHECK(result.uid == 1);

    bool stopped = false;
    watcher->stop_idle([&](const Error& e) {
        CHECK_FALSE(e);
        stopped = true;
    });
    run_until(io, [&] { return stopped; });
    // The watcher can fetch the new message right after IDLE.
    bool fetched = false;
    watcher->fetch_headers(1, 0, {"SUBJECT"}, [&](const FetchedMessage& m) {
        CHECK(m.header_block == "Subject: Message number 42\r\n\r\n");
        CHECK(std::count(m.flags.begin(), m.flags.end(), "\\Draft") == 1);
    }, [&](const Error& e, const FetchSummary& s) {
        REQUIRE_FALSE(e);
        CHECK(s.delivered == 1);
        fetched = true;
    });
    run_until(io, [&] { return fetched; });
}

TEST_CASE("IDLE is renewed transparently") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    ConnectionOptions o;
    o.idle_renewal = 300ms;
    auto watcher = connected(io, plain(dovecot), dovecot, o);
    examine(io, *watcher, "INBOX");
    int changes = 0;
    watcher->idle([&](const MailboxEvent& e) { changes += e.kind == MailboxEvent::Kind::exists; },
                  [&](const Error& e) { CHECK_FALSE(e); });
    io.restart();
    io.run_for(1200ms);  // several renewals
    dovecot.append("INBOX", sample_message(1));
    run_until(io, [&] { return changes > 0; }, 5s);
    CHECK(watcher->client().state() == Client::State::selected);
}

TEST_CASE("Dovecot stopped mid-session gives a clean error") {
    DovecotFixture::Options o;
    o.seed = {{"INBOX", 2000}};
    DovecotFixture dovecot(o);
    boost::asio::io_context io;
    ConnectionOptions opts;
    opts.read_timeout = 5s;
    auto c = connected(io, plain(dovecot), dovecot, opts);
    examine(io, *c, "INBOX");
    Error closed_with;
    bool closed = false;
    c->set_on_closed([&](const Error& e) {
        closed_with = e;
        closed = true;
    });
    bool idle_ended = false;
    Error idle_error;
    c->idle([](const MailboxEvent&) {}, [&](const Error& e) {
        idle_error = e;
        idle_ended = true;
    });
    run_until(io, [&] { return c->client().idling(); });
    io.restart();
    io.run_for(100ms);
    dovecot.kill_now();
    run_until(io, [&] { return closed && idle_ended; }, 10s);
    CHECK(closed_with);
    CHECK(idle_error);
    // Later operations fail at once instead of hanging.
    bool done = false;
    Error later;
    c->status("INBOX", [&](const Error& e, const MailboxStatus&) {
        later = e;
        done = true;
    });
    CHECK(done);
    CHECK(later);
}

TEST_CASE("a server that stops answering hits the read timeout") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    ConnectionOptions opts;
    opts.read_timeout = 1s;
    auto c = connected(io, plain(dovecot), dovecot, opts);
    examine(io, *c, "INBOX");
    dovecot.pause();
    bool done = false;
    Error err;
    const auto t0 = std::chrono::steady_clock::now();
    c->status("INBOX", [&](const Error& e, const MailboxStatus&) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; }, 10s);
    dovecot.resume();
    CHECK(err.code == Errc::timeout);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("Dovecot killed during a header fetch fails the fetch") {
    DovecotFixture::Options o;
    o.seed = {{"INBOX", 3000}};
    DovecotFixture dovecot(o);
    boost::asio::io_context io;
    ClientOptions small;
    small.fetch_batch = 50;
    small.fetch_in_flight = 1;
    ConnectionOptions opts;
    opts.client = small;
    auto c = connected(io, plain(dovecot), dovecot, opts);
    examine(io, *c, "INBOX");
    std::size_t got = 0;
    bool done = false;
    Error err;
    c->fetch_headers(1, 0, header_fields, [&](const FetchedMessage&) {
        if (++got == 100) dovecot.kill_now();
    }, [&](const Error& e, const FetchSummary&) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; }, 15s);
    CHECK(err);
    CHECK(got < 3000);
}

TEST_CASE("TLS: implicit and STARTTLS with the fixture CA, refused without it") {
    DovecotFixture::Options o;
    o.tls = true;
    DovecotFixture dovecot(o);
    boost::asio::io_context io;
    SECTION("implicit TLS") {
        auto c = connected(io, {"127.0.0.1", static_cast<std::uint16_t>(dovecot.tls_port()),
                                Security::tls, dovecot.ca_file(), false},
                           dovecot);
        examine(io, *c, "INBOX");
    }
    SECTION("STARTTLS by host name (SNI and name check)") {
        auto c = connected(io, {"localhost", static_cast<std::uint16_t>(dovecot.port()),
                                Security::starttls, dovecot.ca_file(), false},
                           dovecot);
        examine(io, *c, "INBOX");
    }
    SECTION("unknown CA") {
        auto c = ImapConnection::create(io);
        bool done = false;
        Error err;
        c->connect({"127.0.0.1", static_cast<std::uint16_t>(dovecot.tls_port()), Security::tls, "", false},
                   {dovecot.user(), dovecot.password()}, [&](const Error& e) {
                       err = e;
                       done = true;
                   });
        run_until(io, [&] { return done; });
        CHECK(err.code == Errc::tls);
    }
}

TEST_CASE("STARTTLS required but not offered is an error, never plaintext") {
    DovecotFixture dovecot;  // ssl = no: no STARTTLS
    boost::asio::io_context io;
    auto c = ImapConnection::create(io);
    bool done = false;
    Error err;
    c->connect({"127.0.0.1", static_cast<std::uint16_t>(dovecot.port()), Security::starttls, "", false},
               {dovecot.user(), dovecot.password()}, [&](const Error& e) {
                   err = e;
                   done = true;
               });
    run_until(io, [&] { return done; });
    CHECK(err.code == Errc::unsupported);
    CHECK(dovecot.log().find("Login: user=<mia>") == std::string::npos);
}

TEST_CASE("a silent server hits the greeting timeout") {
    // A listening socket that never speaks.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    boost::asio::ip::tcp::socket peer(io);
    acceptor.async_accept(peer, [](const boost::system::error_code&) {});
    ConnectionOptions o;
    o.connect_timeout = 500ms;
    auto c = ImapConnection::create(io, o);
    bool done = false;
    Error err;
    c->connect({"127.0.0.1", port, Security::none, "", false}, {"u", "p"}, [&](const Error& e) {
        err = e;
        done = true;
    });
    CHECK(c->client().waiting_for_greeting());
    run_until(io, [&] { return done; }, 5s);
    CHECK(err.code == Errc::timeout);
}

TEST_CASE("plaintext to a remote host is refused") {
    boost::asio::io_context io;
    auto c = ImapConnection::create(io);
    Error err;
    c->connect({"imap.example.com", 143, Security::none, "", false}, {"u", "p"},
               [&](const Error& e) { err = e; });
    CHECK(err.code == Errc::unsupported);
}

TEST_CASE("CREATE, APPEND a \\Draft and find it again with search_header (summary drafts)") {
    DovecotFixture dovecot;
    boost::asio::io_context io;
    auto c = connected(io, plain(dovecot), dovecot);

    // CREATE with a space in the name; a second CREATE is NO [ALREADYEXISTS] (RFC 5530).
    bool done = false;
    Error err{Errc::closed, "", ""};
    c->create("Drafts 2", [&](const Error& e) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; });
    INFO(err.message);
    REQUIRE_FALSE(err);
    done = false;
    c->create("Drafts 2", [&](const Error& e) {
        err = e;
        done = true;
    });
    run_until(io, [&] { return done; });
    CHECK(err.code == Errc::rejected);
    CHECK(err.response_code == "ALREADYEXISTS");

    auto append = [&](const std::string& message) {
        bool appended = false;
        AppendResult result;
        c->append("Drafts 2", {"\\Draft"}, message, [&](const Error& e, const AppendResult& r) {
            INFO(e.message);
            REQUIRE_FALSE(e);
            result = r;
            appended = true;
        });
        run_until(io, [&] { return appended; });
        return result;
    };
    // The draft, a neighbour whose id starts the same way, and a message without the header.
    const auto draft = append(sample_message(
        1, "X-Rapport-Draft: <d-1@rapport>\r\n"
           "Subject: =?UTF-8?Q?Zusammenfassung_=E2=80=93_M=C3=BCller?=\r\n"));
    const auto neighbour = append(sample_message(2, "X-Rapport-Draft: <d-10@rapport>\r\n"));
    append(sample_message(3));
    REQUIRE(draft.uid != 0);  // Dovecot has UIDPLUS
    CHECK(neighbour.uid > draft.uid);
    CHECK(neighbour.uidvalidity == draft.uidvalidity);

    auto info = examine(io, *c, "Drafts 2");
    CHECK(info.read_only);
    CHECK(info.exists == 3);
    CHECK(info.uidvalidity == draft.uidvalidity);

    auto search = [&](const std::string& field, const std::string& value) {
        bool searched = false;
        std::vector<std::uint32_t> uids;
        c->search_header(field, value, [&](const Error& e, const std::vector<std::uint32_t>& u) {
            INFO(e.message);
            REQUIRE_FALSE(e);
            uids = u;
            searched = true;
        });
        run_until(io, [&] { return searched; });
        return uids;
    };
    CHECK(search("X-Rapport-Draft", "<d-1@rapport>") == std::vector<std::uint32_t>{draft.uid});
    CHECK(search("X-Rapport-Draft", "<d-2@rapport>").empty());
    CHECK(search("x-rapport-draft", "<D-10@RAPPORT>") == std::vector<std::uint32_t>{neighbour.uid});
    // Non-ASCII goes as a literal with CHARSET UTF-8; Dovecot matches the decoded header.
    CHECK(search("Subject", "Zusammenfassung \xe2\x80\x93 M\xc3\xbc" "ller") ==
          std::vector<std::uint32_t>{draft.uid});

    // The draft carries \Draft and was not marked \Seen, neither by APPEND nor by the header peek.
    bool fetched = false;
    std::vector<std::string> flags;
    c->fetch_headers(draft.uid, draft.uid, {"X-RAPPORT-DRAFT"},
                     [&](const FetchedMessage& m) {
                         flags = m.flags;
                         CHECK(m.header_block == "X-Rapport-Draft: <d-1@rapport>\r\n\r\n");
                     },
                     [&](const Error& e, const FetchSummary& s) {
                         REQUIRE_FALSE(e);
                         CHECK(s.delivered == 1);
                         fetched = true;
                     });
    run_until(io, [&] { return fetched; });
    CHECK(std::count(flags.begin(), flags.end(), "\\Draft") == 1);
    CHECK(std::count(flags.begin(), flags.end(), "\\Seen") == 0);
    c->close();
    run_until(io, [&] { return c->client().state() == Client::State::closed; });
    const auto stored = dovecot.flags("Drafts 2");
    REQUIRE(stored.count(draft.uid) == 1);
    CHECK(stored.at(draft.uid).find("\\Draft") != std::string::npos);
    CHECK(stored.at(draft.uid).find("\\Seen") == std::string::npos);
}

// Fuzz target for the IMAP response parser and the client state machine.
// 1. Differential: the bytes fed in pseudo-random chunks (seeded by the input) must give exactly
//    the same responses, or the same error, as the bytes fed at once.
// 2. The client, logged in with a header fetch and a STATUS pending, swallows the same bytes as
//    server output without crashing, and ends in a consistent state.
// 3. A client in the middle of AUTHENTICATE XOAUTH2 takes the bytes as the server's answer
//    (error challenges included); what it reports of a challenge is printable, bounded text.
// 4. A selected client with LIST, SEARCH, a body fetch, an APPEND (literal) and a NOOP queued,
//    and one in IDLE that ends it half-way through the input, take the bytes likewise.
// Mail is sacred (DESIGN.md): every byte any of these clients writes to the server, each write
// and each whole transcript, is checked never to hold STORE, EXPUNGE, CLOSE, SELECT or a
// BODY[ that is not BODY.PEEK[ (case-insensitively); a violation aborts. The number of writes
// checked is printed at exit, so a run shows the check was exercised.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "client.hpp"
#include "response_parser.hpp"

using namespace rapport::imap;

namespace {

std::string render(const Response& r) {
    std::string s = std::to_string(static_cast<int>(r.kind)) + "|" + r.tag + "|" +
                    r.continuation_text + "|" + r.status.text + "|";
    if (r.status.code) s += r.status.code->name + "=" + r.status.code->args;
    const Untagged& u = r.untagged;
    s += "|" + u.keyword + std::to_string(u.number);
    for (const auto& w : u.words) s += "," + w;
    if (u.fetch.uid) s += "|uid" + std::to_string(*u.fetch.uid);
    for (const auto& b : u.fetch.bodies) s += "|" + b.section + ":" + b.data;
    for (auto n : u.search.numbers) s += ";" + std::to_string(n);
    s += "|" + u.list.name + "|" + u.status_data.mailbox;
    return s;
}

std::vector<std::string> parse(const std::string& input, std::uint64_t seed, ParserLimits limits) {
    ResponseParser p(limits);
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < input.size()) {
        std::size_t chunk = input.size() - pos;
        if (seed != 0) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            chunk = std::min<std::size_t>(chunk, 1 + (seed >> 33) % 17);
        }
        p.feed(std::string_view(input).substr(pos, chunk));
        pos += chunk;
        Response r;
        for (;;) {
            const auto res = p.next(r);
            if (res == ResponseParser::Result::response) {
                out.push_back(render(r));
                continue;
            }
            if (res == ResponseParser::Result::error) {
                out.push_back("ERROR " + std::to_string(static_cast<int>(p.error().code)));
                return out;
            }
            break;
        }
    }
    return out;
}

std::size_t writes_checked = 0;
std::size_t bytes_checked = 0;

void print_write_count() {
    std::fprintf(stderr, "imap_response_fuzz: %zu client writes (%zu bytes) checked for "
                         "STORE/EXPUNGE/CLOSE/SELECT/BODY[\n", writes_checked, bytes_checked);
}

// Aborts when the client's bytes could change a mailbox or mark mail read.
void check_sacred(const std::string& bytes) {
    std::string upper(bytes);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    for (const char* forbidden : {"STORE", "EXPUNGE", "CLOSE", "SELECT", "BODY["})
        if (upper.find(forbidden) != std::string::npos) {
            std::fprintf(stderr, "imap_response_fuzz: the client wrote %s: [%s]\n", forbidden,
                         bytes.c_str());
            std::abort();
        }
}

// Every write of one client, checked one by one and as a whole (so that nothing forbidden
// can straddle two writes).
class CheckedWrites {
public:
    explicit CheckedWrites(Client& client) : client_(client) {
        static const bool registered = [] { return std::atexit(print_write_count) == 0; }();
        (void)registered;
    }
    void take() {
        const std::string out = client_.take_output();
        if (out.empty()) return;
        check_sacred(out);
        ++writes_checked;
        bytes_checked += out.size();
        transcript_ += out;
    }
    ~CheckedWrites() { check_sacred(transcript_); }

private:
    Client& client_;
    std::string transcript_;
};

void selected_client(Client& client, CheckedWrites& sent) {
    client.receive("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE ESEARCH CONDSTORE ENABLE "
                   "AUTH=PLAIN UIDPLUS SPECIAL-USE] ready\r\n");
    client.login("u", "p", [](const Error&) {});
    sent.take();
    client.receive("A1 OK [CAPABILITY IMAP4rev1 IDLE ESEARCH CONDSTORE UIDPLUS SPECIAL-USE] ok\r\n");
    sent.take();
    client.examine("INBOX", [](const Error&, const MailboxInfo&) {});
    sent.take();
    client.receive("A2 OK [READ-ONLY] ok\r\n");
    sent.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    ParserLimits limits;
    limits.max_line = 4096;
    limits.max_literal = 65536;
    limits.max_search_results = 100000;

    std::uint64_t seed = 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i) seed = seed * 131 + data[i];
    const auto whole = parse(input, 0, limits);
    const auto chunked = parse(input, seed | 1, limits);
    if (whole != chunked) std::abort();

    ClientOptions options;
    options.limits = limits;
    options.fetch_batch = 3;
    {
        Client client(options);
        CheckedWrites sent(client);
        selected_client(client, sent);
        std::size_t delivered = 0;
        client.fetch_headers(1, 0, {"FROM"}, [&](const FetchedMessage&) { ++delivered; },
                             [](const Error&, const FetchSummary&) {});
        sent.take();
        client.status("Sent", [](const Error&, const MailboxStatus&) {});
        sent.take();
        client.receive(input);
        sent.take();
        client.connection_lost(Error{Errc::closed, "end of input", ""});
        sent.take();
        if (client.commands_in_flight() != 0) std::abort();
    }
    {
        Client oauth(options);
        CheckedWrites sent(oauth);
        oauth.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n");
        Error login_error;
        oauth.authenticate_oauth(OAuthMechanism::xoauth2, "u", "tok", "h", 993,
                                 [&](const Error& e) { login_error = e; });
        sent.take();
        oauth.receive(input);
        sent.take();
        oauth.connection_lost(Error{Errc::closed, "end of input", ""});
        if (oauth.commands_in_flight() != 0) std::abort();
    }
    {
        Client client(options);
        CheckedWrites sent(client);
        selected_client(client, sent);
        client.list([](const Error&, const std::vector<ListEntry>&) {});
        sent.take();
        client.search_header("Message-ID", "<d-1@rapport>", [](const Error&, const std::vector<std::uint32_t>&) {});
        sent.take();
        client.fetch_body(7, 4096, [](const Error&, std::string) {});
        sent.take();
        client.append("Drafts", {"\\Draft"}, "From: a@b\r\n\r\nhi\r\n", [](const Error&, const AppendResult&) {});
        sent.take();
        client.noop([](const Error&) {});
        sent.take();
        client.receive(input);
        sent.take();
        client.connection_lost(Error{Errc::closed, "end of input", ""});
        if (client.commands_in_flight() != 0) std::abort();
    }
    {
        Client client(options);
        CheckedWrites sent(client);
        selected_client(client, sent);
        client.idle([](const MailboxEvent&) {}, [](const Error&) {});
        sent.take();
        const std::size_t half = input.size() / 2;
        client.receive(std::string_view(input).substr(0, half));
        sent.take();
        if (client.idling()) client.idle_done([](const Error&) {});
        sent.take();
        client.receive(std::string_view(input).substr(half));
        sent.take();
        client.logout([](const Error&) {});
        sent.take();
        client.connection_lost(Error{Errc::closed, "end of input", ""});
        if (client.commands_in_flight() != 0) std::abort();
    }
    const std::string shown = sasl::describe_oauth_error(input);
    if (shown.size() > 303) std::abort();
    for (unsigned char c : shown)
        if (c < 0x20 || c >= 0x7f) std::abort();
    return 0;
}

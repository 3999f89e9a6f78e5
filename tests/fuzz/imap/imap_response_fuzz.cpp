// Fuzz target for the IMAP response parser and the client state machine.
// 1. Differential: the bytes fed in pseudo-random chunks (seeded by the input) must give exactly
//    the same responses, or the same error, as the bytes fed at once.
// 2. The client, logged in with a header fetch and a STATUS pending, swallows the same bytes as
//    server output without crashing, and ends in a consistent state.
// 3. A client in the middle of AUTHENTICATE XOAUTH2 takes the bytes as the server's answer
//    (error challenges included); what it reports of a challenge is printable, bounded text.
#include <cstddef>
#include <cstdint>
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
    Client client(options);
    client.receive("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE ESEARCH CONDSTORE ENABLE "
                   "AUTH=PLAIN UIDPLUS] ready\r\n");
    client.login("u", "p", [](const Error&) {});
    client.receive("A1 OK [CAPABILITY IMAP4rev1 IDLE ESEARCH CONDSTORE UIDPLUS] ok\r\n");
    client.examine("INBOX", [](const Error&, const MailboxInfo&) {});
    client.receive("A2 OK [READ-ONLY] ok\r\n");
    std::size_t delivered = 0;
    client.fetch_headers(1, 0, {"FROM"}, [&](const FetchedMessage&) { ++delivered; },
                         [](const Error&, const FetchSummary&) {});
    client.status("Sent", [](const Error&, const MailboxStatus&) {});
    client.receive(input);
    (void)client.take_output();
    client.connection_lost(Error{Errc::closed, "end of input", ""});
    if (client.commands_in_flight() != 0) std::abort();

    Client oauth(options);
    oauth.receive("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n");
    Error login_error;
    oauth.authenticate_oauth(OAuthMechanism::xoauth2, "u", "tok", "h", 993,
                             [&](const Error& e) { login_error = e; });
    oauth.receive(input);
    (void)oauth.take_output();
    oauth.connection_lost(Error{Errc::closed, "end of input", ""});
    if (oauth.commands_in_flight() != 0) std::abort();
    const std::string shown = sasl::describe_oauth_error(input);
    if (shown.size() > 303) std::abort();
    for (unsigned char c : shown)
        if (c < 0x20 || c >= 0x7f) std::abort();
    return 0;
}

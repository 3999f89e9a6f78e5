#pragma once
// Relays one message to the mailbox's SMTP server with libcurl (blocking: run it on the
// WorkerPool, never on the io thread). TLS is verified with SNI against the system store (plus
// `ca_file`); "starttls" requires STARTTLS and never falls back to plaintext; AUTH with the
// username and password when a username is set, or with Auth::xoauth2 / oauthbearer AUTH
// XOAUTH2 / OAUTHBEARER with `password` as the OAuth 2.0 access token (fetched by the caller
// for this one relay: tokens expire).
//
// The verdict: accepted (the server said 250 to the end of DATA) or not, with the reply code
// and text to hand back to the client: the server's own 4xx/5xx when it refused, 451 when it
// could not be reached (the client keeps the message and retries), 454 when it refused our
// login (a settings problem, so temporary for the client).
#include <chrono>
#include <string>
#include <vector>

namespace rapport::smtp {

struct RelayRequest {
    std::string host;
    int port = 587;
    enum class Security { tls, starttls, none } security = Security::starttls;
    std::string username;
    std::string password;  // the access token with an OAuth kind of auth
    enum class Auth { password, xoauth2, oauthbearer } auth = Auth::password;
    std::string ca_file;
    std::string mail_from;
    std::vector<std::string> recipients;
    const std::string* message = nullptr;  // CRLF lines, not dot-stuffed (curl stuffs)
    std::chrono::seconds connect_timeout{20};
    std::chrono::seconds stall_timeout{120};  // no progress for this long: give up
};

struct RelayResult {
    bool accepted = false;
    int code = 451;
    std::string text;  // one or more lines, '\n'-separated, without codes
};

// Once, on the main thread, before any worker calls relay().
void relay_global_init();

RelayResult relay(const RelayRequest& request);

}  // namespace rapport::smtp

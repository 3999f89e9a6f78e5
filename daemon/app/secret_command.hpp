#pragma once
// password_command: runs argv (no shell), returns the first line of its stdout. Blocking (up
// to `timeout`), so the daemon runs it as a WorkerPool job, never on the io_context's thread.
// Safe to call from several threads at once.
//
// The program is untrusted in the sense that it may misbehave: one that hangs (an agent
// waiting for a prompt nobody sees) is killed at the timeout, also when it closed its stdout
// and went on running; one that prints more than kMaxSecretOutput (a token helper printing a
// whole JSON file, or `yes`) is killed and refused; empty output is refused. For OAuth 2.0
// logins (imap.auth / smtp.auth xoauth2 or oauthbearer) the first line is the access token,
// and the command is run again for every connection because such tokens expire.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace rapport {

// Real OAuth access tokens are 1.5-2.5 KB; a password is far shorter.
constexpr std::size_t kMaxSecretOutput = 64 * 1024;

// nullopt on failure, with `error` naming the program and the reason (never the output).
// `what` names the secret in errors ("password", "access token").
std::optional<std::string> run_password_command(const std::vector<std::string>& argv,
                                                std::chrono::seconds timeout, std::string& error,
                                                const char* what = "password");

}  // namespace rapport

#pragma once
// How the daemon's IMAP connections (the folder watches, the draft writer) log in, in one
// place: the endpoint and credentials from the settings, and the secret for one connection —
// the inline password, or what password_command prints, run on the worker pool (it may block).
// With imap.auth xoauth2 / oauthbearer the secret is an OAuth 2.0 access token, which expires
// (about an hour at Microsoft and Google), so the command runs again for every connection and
// nothing keeps the token longer than that connection's login.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "imap_connection.hpp"
#include "rapport/settings.hpp"

namespace rapport {

class WorkerPool;

// A token helper that asks a browser or an agent may take a while; one that takes longer is
// hung (killed, reported, retried).
constexpr std::chrono::seconds kSecretCommandTimeout{30};

imap::Endpoint imap_endpoint(const ServerEndpoint& server);
imap::Credentials imap_credentials(const ServerEndpoint& server, std::string secret);

// True for the OAuth kinds: get a new secret before every connection.
bool secret_per_connection(const ServerEndpoint& server);

// "password" or "access token", for messages.
const char* secret_name(const ServerEndpoint& server);

// What to tell the user after the server refused the login.
std::string login_refused_hint(const ServerEndpoint& server);

using SecretHandler = std::function<void(std::optional<std::string> secret, const std::string& error)>;

// The inline password (done runs at once), or password_command's first line: run on the pool,
// done runs on the io thread and only while `owner` lives.
void fetch_secret(WorkerPool& pool, std::weak_ptr<const void> owner, const ServerEndpoint& server,
                  SecretHandler done);

}  // namespace rapport

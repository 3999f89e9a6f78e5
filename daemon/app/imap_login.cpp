#include "app/imap_login.hpp"

#include "app/secret_command.hpp"
#include "app/worker_pool.hpp"

namespace rapport {

imap::Endpoint imap_endpoint(const ServerEndpoint& s) {
    imap::Security security = imap::Security::tls;
    switch (s.security) {
        case Security::tls: security = imap::Security::tls; break;
        case Security::starttls: security = imap::Security::starttls; break;
        case Security::none: security = imap::Security::none; break;
    }
    return imap::Endpoint{s.host, static_cast<std::uint16_t>(s.port), security, s.ca_file, s.allow_insecure};
}

imap::Credentials imap_credentials(const ServerEndpoint& s, std::string secret) {
    imap::Credentials c;
    c.username = s.username;
    c.password = std::move(secret);
    if (s.auth == Auth::xoauth2) c.oauth = imap::OAuthMechanism::xoauth2;
    if (s.auth == Auth::oauthbearer) c.oauth = imap::OAuthMechanism::oauthbearer;
    return c;
}

bool secret_per_connection(const ServerEndpoint& s) { return s.auth != Auth::password; }

const char* secret_name(const ServerEndpoint& s) { return s.auth == Auth::password ? "password" : "access token"; }

std::string login_refused_hint(const ServerEndpoint& s) {
    if (s.auth == Auth::password) return "check the username and password in the settings";
    return "check that the password_command prints a current access token for \"" + s.username +
           "\": run it by hand, its helper may need to be authorized again";
}

void fetch_secret(WorkerPool& pool, std::weak_ptr<const void> owner, const ServerEndpoint& server,
                  SecretHandler done) {
    if (server.password.command.empty()) return done(server.password.value, "");
    struct Outcome {
        std::optional<std::string> secret;
        std::string error;
    };
    auto argv = server.password.command;
    const char* what = secret_name(server);
    pool.submit<Outcome>(
        std::move(owner),
        [argv, what]() {
            Outcome o;
            o.secret = run_password_command(argv, kSecretCommandTimeout, o.error, what);
            return o;
        },
        [done = std::move(done)](Outcome o) { done(std::move(o.secret), o.error); });
}

}  // namespace rapport

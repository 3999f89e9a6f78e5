#pragma once
// The user's settings file as immutable values (see CONTRACT.md). Paths come out absolute,
// resolved against the settings file's folder and the XDG variables passed in, so the core
// never reads the environment itself.
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "rapport/diagnostic.hpp"
#include "rapport/time.hpp"

namespace rapport {

enum class Security { tls, starttls, none };
const char* to_string(Security s);

// How a client logs in to an IMAP or SMTP server (CONTRACT.md imap.auth / smtp.auth).
// password: LOGIN or AUTHENTICATE PLAIN (IMAP), whatever the server offers (SMTP).
// xoauth2 / oauthbearer: SASL with an OAuth 2.0 access token (Microsoft 365, Google), which
// password_command prints; it runs again for every connection because tokens expire.
enum class Auth { password, xoauth2, oauthbearer };
const char* to_string(Auth a);

struct Secret {
    std::string value;                 // inline password (never logged)
    std::vector<std::string> command;  // argv of password_command, run without a shell
    bool empty() const { return value.empty() && command.empty(); }
    bool operator==(const Secret& o) const { return value == o.value && command == o.command; }
    bool operator!=(const Secret& o) const { return !(*this == o); }
};

struct ServerEndpoint {
    std::string host;
    int port = 0;
    Security security = Security::tls;
    std::string username;
    Secret password;  // with an OAuth kind of auth: password.command prints the access token
    Auth auth = Auth::password;
    std::string ca_file;  // absolute, optional
    bool allow_insecure = false;
    bool operator==(const ServerEndpoint& o) const {
        return std::tie(host, port, security, username, password, auth, ca_file, allow_insecure) ==
               std::tie(o.host, o.port, o.security, o.username, o.password, o.auth, o.ca_file, o.allow_insecure);
    }
    bool operator!=(const ServerEndpoint& o) const { return !(*this == o); }
};

// The local SMTP submission listener of one mailbox (docs/submission.md). Limits are per
// listener; each refusal is a clear SMTP reply, never a lost message.
struct Submission {
    int port = 0;
    std::size_t max_message_size = 35u << 20;  // bytes after dot-unstuffing; advertised as SIZE
    std::size_t max_recipients = 500;         // per message, before the owners are added
    std::size_t max_connections = 20;         // concurrent; more get 421 at once
};

struct Mailbox {
    std::string id;
    ServerEndpoint imap;
    std::optional<ServerEndpoint> smtp;
    std::optional<Submission> submission;  // requires smtp
    // Absent: found on the server (app/special_folders.hpp) — the folder marked \Sent or
    // \Drafts (RFC 6154 SPECIAL-USE), else "Sent" or "Drafts"; watch: INBOX and that Sent.
    std::optional<std::vector<std::string>> watch;
    std::optional<std::string> sent;
    std::optional<std::string> drafts;
    bool idle = true;
    Seconds poll_interval{60};
};

// What a mailbox's watchers (folder watchers, draft writer) are built from; a reload restarts
// them only when this differs. The submission listener and the relay are not part of it.
inline bool same_watch(const Mailbox& a, const Mailbox& b) {
    return std::tie(a.id, a.imap, a.watch, a.sent, a.drafts, a.idle, a.poll_interval) ==
           std::tie(b.id, b.imap, b.watch, b.sent, b.drafts, b.idle, b.poll_interval);
}

struct CalendarSource {
    std::string id;
    std::string url;  // file: paths are made absolute: "file:/abs/path"
    std::string username;
    Secret password;
    Seconds poll_interval{300};
    std::string mailbox;  // defaults to the first mailbox's id
    bool operator==(const CalendarSource& o) const {
        return std::tie(id, url, username, password, poll_interval, mailbox) ==
               std::tie(o.id, o.url, o.username, o.password, o.poll_interval, o.mailbox);
    }
    bool operator!=(const CalendarSource& o) const { return !(*this == o); }
};

struct Settings {
    std::string file;  // absolute path of the settings file itself
    std::string user_name;
    std::string user_address;  // normalised
    std::string rules_file;    // absolute; for rules from a URL, the cached last good copy
    // "rules": "https://…" (docs/rules.md): fetched with ETag / Last-Modified, re-checked every
    // rules_refresh and on SIGHUP; the last good copy is kept in rules_file (in state_dir).
    std::string rules_url;      // empty: the rules are the local file rules_file
    Seconds rules_refresh{900};
    std::string rules_ca_file;  // absolute, optional: a CA to trust besides the system's
    std::string state_dir;     // absolute
    int api_port = 7717;
    std::string token_file;  // absolute
    std::string log_level = "info";
    std::vector<Mailbox> mailboxes;
    std::vector<CalendarSource> calendars;
};

// What the settings parser needs from the environment, handed in by the caller.
struct PathContext {
    std::string settings_dir;     // absolute folder of the settings file
    std::string xdg_state_home;   // may be empty
    std::string xdg_runtime_dir;  // may be empty
    std::string home;             // may be empty
};

struct SettingsResult {
    std::shared_ptr<const Settings> settings;
    Diagnostics diagnostics;
};

SettingsResult parse_settings(std::string_view text, const std::string& file_name,
                              const PathContext& context);

bool is_loopback_host(std::string_view host);

}  // namespace rapport

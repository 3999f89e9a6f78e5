#include "rapport/settings.hpp"

#include <set>

#include "json_reader.hpp"
#include "rapport/address.hpp"
#include "rapport/json_text.hpp"

namespace rapport {

const char* to_string(Security s) {
    switch (s) {
        case Security::tls: return "tls";
        case Security::starttls: return "starttls";
        case Security::none: return "none";
    }
    return "tls";
}

const char* to_string(Auth a) {
    switch (a) {
        case Auth::password: return "password";
        case Auth::xoauth2: return "xoauth2";
        case Auth::oauthbearer: return "oauthbearer";
    }
    return "password";
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "::1" || host == "[::1]") return true;
    return host.size() >= 4 && host.substr(0, 4) == "127." &&
           host.find_first_not_of("0123456789.") == std::string_view::npos;
}

namespace {

using detail::json;
using detail::JsonReader;

std::string q(const std::string& s) { return "\"" + s + "\""; }

std::string join_path(const std::string& dir, const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    if (dir.empty() || dir.back() == '/') return dir + path;
    return dir + "/" + path;
}

class SettingsParser {
public:
    SettingsParser(const std::string& file, Diagnostics& out, const PathContext& ctx)
        : r_(file, out), ctx_(ctx) {}

    std::shared_ptr<Settings> parse(const json& root) {
        auto s = std::make_shared<Settings>();
        if (!r_.object(root, "$", {"$schema", "user", "rules", "rules_refresh", "rules_ca_file", "state_dir", "api",
                                   "log_level", "mailboxes", "calendars"},
                       {"rules"}))
            return s;
        if (const json* user = r_.find(root, "$", "user")) {
            if (r_.object(*user, "$.user", {"name", "address"}, {"address"})) {
                if (auto name = r_.string(*user, "$.user", "name")) s->user_name = *name;
                if (auto addr = r_.string(*user, "$.user", "address")) {
                    auto n = normalize_address(*addr);
                    if (!n) r_.error("$.user.address", q(*addr) + " is not a mail address");
                    else s->user_address = *n;
                }
            }
        }
        std::optional<std::string> rules = r_.string(root, "$", "rules");
        if (auto dir = r_.string(root, "$", "state_dir")) {
            s->state_dir = join_path(ctx_.settings_dir, *dir);
        } else if (!ctx_.xdg_state_home.empty()) {
            s->state_dir = join_path(ctx_.xdg_state_home, "rapport");
        } else if (!ctx_.home.empty()) {
            s->state_dir = join_path(ctx_.home, ".local/state/rapport");
        } else {
            r_.error("$", "set \"state_dir\": neither XDG_STATE_HOME nor HOME is set");
        }
        if (rules) rules_source(root, *rules, *s);
        if (auto level = r_.string(root, "$", "log_level")) {
            static const std::set<std::string> levels = {"debug", "info", "warning", "error"};
            if (!levels.count(*level)) r_.error("$.log_level", q(*level) + " is not one of debug, info, warning, error");
            else s->log_level = *level;
        }
        bool token_set = false;
        if (const json* api = r_.find(root, "$", "api")) {
            if (r_.object(*api, "$.api", {"port", "token_file"})) {
                if (auto port = r_.integer(*api, "$.api", "port", 1, 65535)) s->api_port = static_cast<int>(*port);
                if (auto token = r_.string(*api, "$.api", "token_file")) {
                    s->token_file = join_path(ctx_.settings_dir, *token);
                    token_set = true;
                }
            }
        }
        if (!token_set) {
            s->token_file = !ctx_.xdg_runtime_dir.empty()
                                ? join_path(ctx_.xdg_runtime_dir, "rapport/token")
                                : join_path(s->state_dir, "token");
        }
        std::set<std::string> mailbox_ids;
        if (const json* list = r_.array(root, "$", "mailboxes")) {
            for (std::size_t i = 0; i < list->size(); ++i) {
                const std::string path = JsonReader::index_path("$.mailboxes", i);
                Mailbox m;
                if (mailbox((*list)[i], path, m)) {
                    if (!mailbox_ids.insert(m.id).second)
                        r_.error(path + ".id", "mailbox id " + q(m.id) + " is used twice");
                    if (m.submission) {
                        const int port = m.submission->port;
                        if (port == s->api_port)
                            r_.error(path + ".submission.port", "port " + std::to_string(port) + " is the API's port");
                        for (const auto& other : s->mailboxes)
                            if (other.submission && other.submission->port == port)
                                r_.error(path + ".submission.port", "port " + std::to_string(port) +
                                                                         " is already mailbox " + q(other.id) + "'s");
                    }
                    s->mailboxes.push_back(std::move(m));
                }
            }
        }
        if (const json* list = r_.array(root, "$", "calendars")) {
            std::set<std::string> ids;
            for (std::size_t i = 0; i < list->size(); ++i) {
                const std::string path = JsonReader::index_path("$.calendars", i);
                CalendarSource c;
                if (!calendar((*list)[i], path, c)) continue;
                if (!ids.insert(c.id).second) r_.error(path + ".id", "calendar id " + q(c.id) + " is used twice");
                if (c.mailbox.empty()) {
                    if (!s->mailboxes.empty()) c.mailbox = s->mailboxes.front().id;
                } else if (!mailbox_ids.count(c.mailbox)) {
                    r_.error(path + ".mailbox", q(c.mailbox) + " names no mailbox in $.mailboxes");
                }
                s->calendars.push_back(std::move(c));
            }
        }
        return s;
    }

private:
    // "rules" is a file (relative to the settings) or an https URL; the URL's own settings are
    // only accepted with a URL, so that a leftover rules_refresh cannot pass for one in use.
    void rules_source(const json& root, const std::string& rules, Settings& s) {
        const bool https = rules.rfind("https://", 0) == 0;
        if (rules.rfind("http://", 0) == 0) {
            r_.error("$.rules", q(rules) + ": rules are fetched over https only (they decide who gets copied on mail)");
        } else if (https) {
            const std::string rest = rules.substr(8);
            const auto slash = rest.find('/');
            const std::string host = rest.substr(0, slash);
            if (host.empty() || host.find_first_of(" \t@") != std::string::npos || rules.size() > 2000 ||
                rules.find_first_of(" \t\r\n") != std::string::npos)
                r_.error("$.rules", q(rules) + " is not a usable https URL");
            else
                s.rules_url = rules;
            // The last good copy lives with the state: it is the daemon's, not the admin's.
            if (!s.state_dir.empty()) s.rules_file = join_path(s.state_dir, "rules-cache.json");
        } else {
            s.rules_file = join_path(ctx_.settings_dir, rules);
        }
        if (auto refresh = r_.duration(root, "$", "rules_refresh")) {
            if (!https) r_.error("$.rules_refresh", "only used with rules from an https URL");
            else if (*refresh < Seconds{60}) r_.error("$.rules_refresh", "must be at least a minute (\"PT1M\")");
            else s.rules_refresh = *refresh;
        }
        if (auto ca = r_.string(root, "$", "rules_ca_file")) {
            if (!https) r_.error("$.rules_ca_file", "only used with rules from an https URL");
            else s.rules_ca_file = join_path(ctx_.settings_dir, *ca);
        }
    }

    void secret(const json& v, const std::string& path, Secret& out, bool required) {
        auto password = r_.string(v, path, "password", false);
        const json* command = r_.find(v, path, "password_command");
        if (password && command) {
            r_.error(path, "give either \"password\" or \"password_command\", not both");
            return;
        }
        if (password) out.value = *password;
        if (command) {
            auto argv = r_.strings(v, path, "password_command");
            if (argv && argv->empty()) r_.error(path + ".password_command", "must name a program to run");
            if (argv) out.command = *argv;
        }
        if (required && !password && !command)
            r_.error(path, "missing \"password\" or \"password_command\"");
    }

    bool endpoint(const json& v, const std::string& path, ServerEndpoint& e, bool smtp) {
        if (!r_.object(v, path, {"host", "port", "security", "username", "password",
                                 "password_command", "auth", "ca_file", "allow_insecure"},
                       smtp ? std::initializer_list<const char*>{"host"}
                            : std::initializer_list<const char*>{"host", "username"}))
            return false;
        if (auto auth = r_.string(v, path, "auth")) {
            if (*auth == "password") e.auth = Auth::password;
            else if (*auth == "xoauth2") e.auth = Auth::xoauth2;
            else if (*auth == "oauthbearer") e.auth = Auth::oauthbearer;
            else r_.error(path + ".auth", q(*auth) + " is not one of password, xoauth2, oauthbearer");
        }
        if (auto host = r_.string(v, path, "host")) e.host = *host;
        if (auto sec = r_.string(v, path, "security")) {
            if (*sec == "tls") e.security = Security::tls;
            else if (*sec == "starttls") e.security = Security::starttls;
            else if (*sec == "none") e.security = Security::none;
            else r_.error(path + ".security", q(*sec) + " is not one of tls, starttls, none");
        }
        if (auto insecure = r_.boolean(v, path, "allow_insecure")) e.allow_insecure = *insecure;
        if (auto port = r_.integer(v, path, "port", 1, 65535)) {
            e.port = static_cast<int>(*port);
        } else {
            e.port = smtp ? (e.security == Security::tls ? 465 : 587)
                          : (e.security == Security::tls ? 993 : 143);
        }
        if (e.security == Security::none && !e.host.empty() && !is_loopback_host(e.host) && !e.allow_insecure)
            r_.error(path + ".security", "\"none\" would send the password unencrypted to " + q(e.host) +
                                             "; use \"tls\" or \"starttls\", or set \"allow_insecure\": true");
        if (auto user = r_.string(v, path, "username")) e.username = *user;
        if (auto ca = r_.string(v, path, "ca_file")) e.ca_file = join_path(ctx_.settings_dir, *ca);
        if (e.auth == Auth::password) {
            secret(v, path, e.password, !smtp || !e.username.empty());
            return true;
        }
        // OAuth 2.0: the token names the user to the server, and it expires within the hour,
        // so only a command that prints a fresh one each time will do.
        const std::string kind = q(to_string(e.auth));
        if (smtp && e.username.empty())
            r_.error(path, "missing \"username\": " + kind + " logs in as a user (the mail address, usually)");
        if (r_.find(v, path, "password"))
            r_.error(path + ".password", "with \"auth\": " + kind + " give a \"password_command\" that prints a fresh "
                                         "access token (oama, mutt_oauth2.py, pizauth); a stored token expires within the hour");
        else if (!r_.find(v, path, "password_command"))
            r_.error(path, "missing \"password_command\": with \"auth\": " + kind +
                               " it prints the access token (e.g. [\"oama\", \"access\", \"mia@vendor.example\"])");
        else
            secret(v, path, e.password, true);
        return true;
    }

    bool mailbox(const json& v, const std::string& path, Mailbox& m) {
        if (!r_.object(v, path, {"id", "imap", "smtp", "submission", "folders", "idle", "poll_interval"},
                       {"id", "imap"}))
            return false;
        if (auto id = r_.string(v, path, "id")) m.id = *id;
        if (const json* imap = r_.find(v, path, "imap")) endpoint(*imap, path + ".imap", m.imap, false);
        if (const json* smtp = r_.find(v, path, "smtp")) {
            ServerEndpoint e;
            if (endpoint(*smtp, path + ".smtp", e, true)) m.smtp = e;
        }
        if (const json* sub = r_.find(v, path, "submission")) {
            const std::string p = path + ".submission";
            if (r_.object(*sub, p, {"port", "max_message_size", "max_recipients", "max_connections"}, {"port"})) {
                Submission s;
                if (auto port = r_.integer(*sub, p, "port", 1, 65535)) s.port = static_cast<int>(*port);
                // 1 KiB is no use and more than 1 GiB would be held in memory per connection.
                if (auto size = r_.integer(*sub, p, "max_message_size", 1024, 1ll << 30))
                    s.max_message_size = static_cast<std::size_t>(*size);
                if (auto n = r_.integer(*sub, p, "max_recipients", 1, 10000)) s.max_recipients = static_cast<std::size_t>(*n);
                if (auto n = r_.integer(*sub, p, "max_connections", 1, 1000)) s.max_connections = static_cast<std::size_t>(*n);
                if (!r_.find(v, path, "smtp"))
                    r_.error(p, "the submission listener relays through \"smtp\"; add the mailbox's SMTP server");
                if (s.port) m.submission = s;
            }
        }
        if (const json* folders = r_.find(v, path, "folders")) {
            const std::string p = path + ".folders";
            if (r_.object(*folders, p, {"watch", "sent", "drafts"})) {
                if (auto watch = r_.strings(*folders, p, "watch")) {
                    if (watch->empty()) r_.error(p + ".watch", "watch at least one folder");
                    m.watch = *watch;
                }
                if (auto sent = r_.string(*folders, p, "sent")) m.sent = *sent;
                if (auto drafts = r_.string(*folders, p, "drafts")) m.drafts = *drafts;
            }
        }
        if (auto idle = r_.boolean(v, path, "idle")) m.idle = *idle;
        if (auto interval = r_.duration(v, path, "poll_interval")) {
            if (*interval < Seconds{1}) r_.error(path + ".poll_interval", "must be at least one second (\"PT1S\")");
            else m.poll_interval = *interval;
        }
        return true;
    }

    bool calendar(const json& v, const std::string& path, CalendarSource& c) {
        if (!r_.object(v, path, {"id", "url", "username", "password", "password_command",
                                 "poll_interval", "mailbox"},
                       {"id", "url"}))
            return false;
        if (auto id = r_.string(v, path, "id")) c.id = *id;
        if (auto url = r_.string(v, path, "url")) {
            auto starts = [&](const char* p) { return url->rfind(p, 0) == 0; };
            if (starts("file:")) {
                std::string file = url->substr(5);
                if (file.rfind("//", 0) == 0) file = file.substr(2);  // file:///abs
                c.url = "file:" + join_path(ctx_.settings_dir, file);
            } else if (starts("https://") || starts("http://") || starts("caldav+https://") ||
                       starts("caldav+http://")) {
                c.url = *url;
            } else {
                r_.error(path + ".url", q(*url) + " is not a calendar URL; use file:PATH, https://…, "
                                                  "http://…, caldav+https://… or caldav+http://…");
            }
        }
        if (auto user = r_.string(v, path, "username")) c.username = *user;
        secret(v, path, c.password, false);
        if (auto interval = r_.duration(v, path, "poll_interval")) {
            if (*interval < Seconds{1}) r_.error(path + ".poll_interval", "must be at least one second (\"PT1S\")");
            else c.poll_interval = *interval;
        }
        if (auto mailbox = r_.string(v, path, "mailbox")) c.mailbox = *mailbox;
        return true;
    }

    JsonReader r_;
    const PathContext& ctx_;
};

}  // namespace

SettingsResult parse_settings(std::string_view text, const std::string& file_name,
                              const PathContext& context) {
    SettingsResult result;
    JsonLimits limits;
    limits.max_bytes = 1u << 20;  // a settings file is a few hundred bytes; 1 MiB is generous
    JsonDocument doc = parse_json_text(text, file_name, limits);
    if (!doc.value) {
        result.diagnostics = std::move(doc.diagnostics);
        return result;
    }
    SettingsParser parser(file_name, result.diagnostics, context);
    auto settings = parser.parse(*doc.value);
    settings->file = file_name;
    if (result.diagnostics.empty()) result.settings = std::move(settings);
    return result;
}

}  // namespace rapport

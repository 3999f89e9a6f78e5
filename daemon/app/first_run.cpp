#include "app/first_run.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "app/config_loader.hpp"
#include "app/secret_command.hpp"
#include "app/special_folders.hpp"
#include "imap_connection.hpp"
#include "rapport/address.hpp"

namespace rapport {
namespace {

using nlohmann::ordered_json;

struct InitOptions {
    std::string address, name, host, security = "tls", username, password_command, rules = "rules.json", config;
    int port = 0;
    bool password_stdin = false;
};

constexpr const char* kUsage =
    "usage: rapportd init --address ADDR --imap-host HOST [--name NAME] [--imap-port N]\n"
    "                     [--security tls|starttls|none] [--username U]\n"
    "                     [--password-command CMD | --password-stdin] [--rules PATH] [--config PATH]\n";

// One line on stderr, the exit status with it.
int fail(int status, const std::string& line) {
    std::fprintf(stderr, "rapportd init: %s\n", line.c_str());
    return status;
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// $XDG_CONFIG_HOME/rapport/settings.json, as the systemd user unit reads it (%E).
std::string default_config_path() {
    std::string base = env("XDG_CONFIG_HOME");
    if (base.empty() && !env("HOME").empty()) base = env("HOME") + "/.config";
    if (base.empty()) return "";
    return base + "/rapport/settings.json";
}

// The password for the test login: stdin (first line), the command's first line, or a prompt
// without echo when stdin is a terminal.
std::optional<std::string> read_password(const InitOptions& o, const std::vector<std::string>& argv, std::string& error) {
    if (!argv.empty()) return run_password_command(argv, std::chrono::seconds(60), error);
    if (!o.password_stdin && !isatty(STDIN_FILENO)) {
        error = "give --password-command CMD or --password-stdin (stdin is not a terminal to ask on)";
        return std::nullopt;
    }
    termios saved{};
    const bool tty = !o.password_stdin && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        std::fprintf(stderr, "IMAP password for %s: ", o.username.c_str());
        termios quiet = saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::fprintf(stderr, "\n");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!got || line.empty()) {
        error = "no password on stdin";
        return std::nullopt;
    }
    if (line.size() > 4096) {
        error = "the password on stdin is longer than 4096 bytes";
        return std::nullopt;
    }
    return line;
}

imap::Security security_of(const std::string& s) {
    if (s == "starttls") return imap::Security::starttls;
    if (s == "none") return imap::Security::none;
    return imap::Security::tls;
}

struct Probe {
    imap::Error error;
    SpecialFolders folders;
    bool done = false;
};

// Logs in and lists the folders, bounded in time: a server that accepts and then says
// nothing must not hang a first run.
Probe probe(const InitOptions& o, const std::string& password) {
    boost::asio::io_context io;
    imap::ConnectionOptions options;
    options.connect_timeout = std::chrono::seconds(20);
    options.read_timeout = std::chrono::seconds(20);
    options.enable_condstore = false;
    auto c = imap::ImapConnection::create(io, options);
    imap::Endpoint ep{o.host, static_cast<std::uint16_t>(o.port), security_of(o.security), "", false};
    Probe result;
    Mailbox nothing_configured;
    c->connect(ep, {o.username, password}, [&](const imap::Error& e) {
        if (e) {
            result.error = e;
            result.done = true;
            return c->close();
        }
        discover_special_folders(c, nothing_configured, [&](const imap::Error& e2, const SpecialFolders& found) {
            result.error = e2;
            result.folders = found;
            result.done = true;
            c->close();
        });
    });
    io.run_for(std::chrono::seconds(60));
    if (!result.done) result.error = {imap::Errc::timeout, "no answer within 60 s", ""};
    return result;
}

std::string where(const InitOptions& o) { return o.host + ":" + std::to_string(o.port); }

std::string describe(const imap::Error& e, const InitOptions& o) {
    switch (e.code) {
        case imap::Errc::auth_failed:
            return "the server " + where(o) + " refused the login for \"" + o.username + "\" (" + e.message +
                   "); check --username and the password";
        case imap::Errc::network:
        case imap::Errc::timeout:
            return "cannot reach the IMAP server " + where(o) + " (" + e.message +
                   "); check --imap-host, --imap-port and --security";
        case imap::Errc::tls:
            return "TLS with " + where(o) + " failed (" + e.message + "); check --security (tls on 993, starttls on 143)";
        default:
            return "the IMAP server " + where(o) + " failed: " + std::string(imap::to_string(e.code)) + ": " + e.message;
    }
}

std::string folder_comment(const ChosenFolder& f, const char* attribute) {
    if (f.source == FolderSource::special_use)
        return std::string("found by SPECIAL-USE (the server marks it ") + attribute + ")";
    return std::string("the server marks no folder ") + attribute + "; \"" + f.name + "\" " +
           (f.exists ? "exists" : "does not exist yet (Drafts is created when the first draft is written)");
}

ordered_json starter_settings(const InitOptions& o, const std::vector<std::string>& command, const std::string& password,
                              const SpecialFolders& folders) {
    ordered_json imap;
    imap["host"] = o.host;
    imap["port"] = o.port;
    imap["security"] = o.security;
    imap["username"] = o.username;
    if (!command.empty()) imap["password_command"] = command;
    else imap["password"] = password;

    ordered_json f;
    f["$comment"] = "Sent: " + folder_comment(folders.sent, "\\Sent") + ". Drafts: " +
                    folder_comment(folders.drafts, "\\Drafts") +
                    ". Remove \"sent\"/\"drafts\" to let rapportd look them up at every start; "
                    "\"watch\" (default: INBOX and the Sent folder) lists the folders followed.";
    f["sent"] = folders.sent.name;
    f["drafts"] = folders.drafts.name;

    ordered_json mailbox;
    mailbox["id"] = "work";
    mailbox["imap"] = imap;
    mailbox["folders"] = f;

    ordered_json s;
    s["$comment"] = "Rapport settings, written by rapportd init. Keep this file private (mode 0600). "
                    "See /usr/share/doc/rapport/examples/settings.json and docs/install.md for every key; "
                    "check changes with: rapportd --check-config FILE";
    s["user"] = {{"name", o.name}, {"address", o.address}};
    if (o.name.empty()) s["user"].erase("name");
    s["rules"] = o.rules;
    s["mailboxes"] = ordered_json::array({mailbox});
    s["calendars"] = ordered_json::array();
    return s;
}

// Creates the file (never over an existing one: O_EXCL) with mode 0600.
bool write_new_file(const std::string& path, const std::string& text, std::string& error) {
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            error = "cannot create " + dir.string() + ": " + ec.message();
            return false;
        }
        ::chmod(dir.c_str(), 0700);
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = errno == EEXIST ? path + " already exists; not overwriting it (edit it, or pass --config OTHER.json)"
                                : "cannot create " + path + ": " + std::strerror(errno);
        return false;
    }
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = "cannot write " + path + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(path.c_str());
            return false;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(path.c_str());
        return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> split_command_line(const std::string& line, std::string& error) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char ch : line) {
        if (quote) {
            if (ch == quote) quote = 0;
            else word += ch;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
            in_word = true;
        } else if (ch == ' ' || ch == '\t') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word += ch;
            in_word = true;
        }
    }
    if (quote) {
        error = std::string("unterminated ") + quote + " quote";
        return {};
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

int run_init(const std::vector<std::string>& args) {
    InitOptions o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string port;
        bool ok = true;
        if (a == "--address") ok = value(o.address);
        else if (a == "--name") ok = value(o.name);
        else if (a == "--imap-host") ok = value(o.host);
        else if (a == "--imap-port") {
            ok = value(port);
            char* end = nullptr;
            const long n = ok ? std::strtol(port.c_str(), &end, 10) : 0;
            if (ok && (end == port.c_str() || *end || n < 1 || n > 65535))
                return fail(2, "--imap-port " + port + " is not a port number (1-65535)");
            o.port = static_cast<int>(n);
        } else if (a == "--security") {
            ok = value(o.security);
            if (ok && o.security != "tls" && o.security != "starttls" && o.security != "none")
                return fail(2, "--security " + o.security + " is not one of tls, starttls, none");
        } else if (a == "--username") ok = value(o.username);
        else if (a == "--password-command") ok = value(o.password_command);
        else if (a == "--password-stdin") o.password_stdin = true;
        else if (a == "--rules") ok = value(o.rules);
        else if (a == "--config") ok = value(o.config);
        else if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fputs(kUsage, stderr);
            return fail(2, "unknown argument '" + a + "'");
        }
        if (!ok) return fail(2, a + " needs a value");
    }
    if (o.address.empty() || o.host.empty()) {
        std::fputs(kUsage, stderr);
        return fail(2, "--address and --imap-host are required");
    }
    if (auto n = normalize_address(o.address)) o.address = *n;
    else return fail(2, "--address \"" + o.address + "\" is not a mail address");
    if (o.security == "none" && !is_loopback_host(o.host))
        return fail(2, "--security none would send the password unencrypted to " + o.host + "; use tls or starttls");
    if (!o.password_command.empty() && o.password_stdin)
        return fail(2, "give either --password-command or --password-stdin, not both");
    if (o.port == 0) o.port = o.security == "tls" ? 993 : 143;
    if (o.username.empty()) o.username = o.address;
    if (o.config.empty()) o.config = default_config_path();
    if (o.config.empty()) return fail(2, "neither XDG_CONFIG_HOME nor HOME is set; pass --config PATH");
    o.config = std::filesystem::absolute(o.config).lexically_normal().string();

    // Refused before asking for a password or connecting: nothing to lose by failing early.
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(o.config, ec)))
        return fail(1, o.config + " already exists; not overwriting it (edit it, or pass --config OTHER.json)");

    std::string error;
    std::vector<std::string> command;
    if (!o.password_command.empty()) {
        command = split_command_line(o.password_command, error);
        if (!error.empty()) return fail(2, "--password-command: " + error);
        if (command.empty()) return fail(2, "--password-command names no program");
    }
    const auto password = read_password(o, command, error);
    if (!password) return fail(1, error);

    const Probe p = probe(o, *password);
    if (p.error) return fail(1, describe(p.error, o));

    const std::string text = starter_settings(o, command, *password, p.folders).dump(2) + "\n";
    if (!write_new_file(o.config, text, error)) return fail(1, error);

    // The same check as --check-config; a rules file that is not there yet is the normal
    // state of a first run (it comes from the admin), so only the settings must pass then.
    auto loaded = load_config(o.config);
    const std::string rules_path = loaded.settings ? loaded.settings->rules_file : "";
    const bool rules_missing = !rules_path.empty() && !std::filesystem::exists(rules_path, ec);
    if (!loaded.ok() && !(rules_missing && loaded.settings)) {
        for (const auto& d : loaded.diagnostics) std::printf("%s\n", d.to_string().c_str());
        std::fflush(stdout);
        return fail(1, "wrote " + o.config + ", but the check above failed; fix it and run rapportd --check-config " +
                           o.config);
    }

    std::printf("Wrote %s (mode 0600).\n", o.config.c_str());
    std::printf("  Logged in to %s as %s.\n", where(o).c_str(), o.username.c_str());
    std::printf("  Sent folder:   \"%s\" (%s)\n", p.folders.sent.name.c_str(), to_string(p.folders.sent.source));
    std::printf("  Drafts folder: \"%s\" (%s)\n", p.folders.drafts.name.c_str(), to_string(p.folders.drafts.source));
    if (loaded.ok()) std::printf("  Checked: settings and rules are valid.\n");
    else std::printf("  Checked: the settings are valid; the rules file is not there yet.\n");
    if (command.empty())
        std::printf("  The password is stored in the file; a password_command (e.g. [\"pass\", \"show\", "
                    "\"mail\"]) keeps it out.\n");
    std::printf("\nNext steps:\n");
    int step = 0;
    if (rules_missing)
        std::printf("  %d. Put the rules file from your admin at %s\n"
                    "     (an example: /usr/share/doc/rapport/examples/rules.json), then run\n"
                    "     rapportd --check-config %s\n",
                    ++step, rules_path.c_str(), o.config.c_str());
    std::printf("  %d. Add your calendar to \"calendars\" (file:PATH, https://… or caldav+https://…) for summary drafts.\n",
                ++step);
    if (o.config != default_config_path())
        std::printf("  %d. The service reads %s: move the file there, or run\n"
                    "     systemctl --user edit rapportd to point ExecStart at --config %s\n",
                    ++step, default_config_path().c_str(), o.config.c_str());
    std::printf("  %d. Start the daemon now and at every login:  systemctl --user enable --now rapportd\n"
                "     (or in the foreground: rapportd --config %s)\n",
                ++step, o.config.c_str());
    std::printf("  %d. Thunderbird: Add-ons Manager > Install Add-on From File > /usr/share/rapport/rapport-thunderbird.xpi\n",
                ++step);
    std::printf("  %d. See that it works: rapportctl status\n", ++step);
    return 0;
}

}  // namespace rapport

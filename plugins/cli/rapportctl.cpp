// rapportctl: talk to a running rapportd over its local WebSocket API (CONTRACT.md).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_format.hpp"
#include "native_host.hpp"
#include "rapport/settings.hpp"
#include "rapport/version.hpp"
#include "ws_client.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kExitError = 1, kExitUsage = 2, kExitUnreachable = 3, kExitRefused = 4;

struct Fatal {
    int code;
    std::string message;
};

const char* kUsage =
    "usage: rapportctl [--config SETTINGS.json] [--json] COMMAND ...\n"
    "commands:\n"
    "  status [--follow]                    daemon, mailboxes, calendars, rules (--follow: until scans finish)\n"
    "  lookup ADDR...                       whose address is this, and why\n"
    "  check --from A --to B [--cc C] [--bcc D]   who would be copied on this message\n"
    "  lost ACCOUNT [--competitor X] [--delivery DATE] [--note TEXT]\n"
    "  reopen ACCOUNT                       cancel the account's pending follow-ups\n"
    "  nudges [--all | --due]               follow-ups (default: pending and due)\n"
    "  snooze ID DURATION|DATETIME          e.g. snooze 4 P3D, snooze 4 2026-12-24T09:00:00Z\n"
    "  done ID | dismiss ID\n"
    "  health ACCOUNT                       who at the account is engaged, single-threaded, silent days\n"
    "  meetings                             customer meetings the daemon knows\n"
    "  drafts                               summary and FYI drafts written to Drafts\n"
    "  ack ID                               acknowledge a notification\n"
    "  watch [--after ID]                   print notifications as they arrive (Ctrl-C stops)\n"
    "  token                                print the API token\n"
    "  native-host [--install [DIR]]        Thunderbird's native-messaging host (--install: write\n"
    "                                       ~/.mozilla/native-messaging-hosts/rapport.json for this rapportctl)\n"
    "settings: --config, else $RAPPORT_SETTINGS, else $XDG_CONFIG_HOME/rapport/settings.json\n";

std::string default_settings_path() {
    if (const char* p = std::getenv("RAPPORT_SETTINGS"); p && *p) return p;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/rapport/settings.json";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/rapport/settings.json";
    return "settings.json";
}

std::string read_file(const std::string& path, const char* what) {
    std::ifstream in(path);
    if (!in) throw Fatal{kExitUnreachable, std::string("cannot read the ") + what + " " + path + ": " + std::strerror(errno)};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

rapport::Settings load_settings(const std::string& path) {
    const std::string text = read_file(path, "settings file");
    rapport::PathContext ctx;
    const auto slash = path.rfind('/');
    char cwd[4096];
    const std::string here = getcwd(cwd, sizeof cwd) ? cwd : ".";
    ctx.settings_dir = slash == std::string::npos ? here : (path[0] == '/' ? path.substr(0, slash) : here + "/" + path.substr(0, slash));
    auto env = [](const char* n) { const char* v = std::getenv(n); return std::string(v ? v : ""); };
    ctx.xdg_state_home = env("XDG_STATE_HOME");
    ctx.xdg_runtime_dir = env("XDG_RUNTIME_DIR");
    ctx.home = env("HOME");
    auto result = rapport::parse_settings(text, path, ctx);
    if (!result.settings)
        throw Fatal{kExitUsage, result.diagnostics.front().to_string() + " (check with: rapportd --check-config " + path + ")"};
    return *result.settings;
}

std::string read_token(const rapport::Settings& s) {
    std::string token = read_file(s.token_file, "API token file");
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) throw Fatal{kExitRefused, "the token file " + s.token_file + " is empty; restart rapportd to write a new one"};
    return token;
}

class Connection {
public:
    Connection(const rapport::Settings& s) : settings_(s) {
        try {
            client_.connect(static_cast<std::uint16_t>(s.api_port), 3s);
        } catch (const rapport::api::WsError&) {
            throw Fatal{kExitUnreachable, "rapportd is not running (nothing answers on 127.0.0.1:" + std::to_string(s.api_port) +
                                              "); start it with: rapportd --config " + s.file};
        }
        try {
            call("hello", {{"token", read_token(s)}, {"client", "rapportctl"}, {"version", rapport::kVersion}});
        } catch (const rapport::api::WsError& e) {
            if (e.kind() == rapport::api::WsError::Kind::closed && e.close_code() == 1008)
                throw Fatal{kExitRefused, "rapportd refused the token in " + s.token_file +
                                              " (is it from another rapportd, or was the file replaced?)"};
            throw Fatal{kExitUnreachable, std::string("the connection to rapportd failed: ") + e.what()};
        }
    }

    json call(const std::string& method, const json& params) {
        const int id = ++next_id_;
        client_.send_text(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump(), 5s);
        while (true) {
            json reply = json::parse(client_.receive_text(30s), nullptr, false);
            if (reply.is_discarded() || !reply.is_object()) throw Fatal{kExitError, "rapportd sent something that is not JSON"};
            if (!reply.contains("id")) {  // a notification that raced the reply
                pending_.push_back(reply);
                continue;
            }
            if (reply["id"] != id) continue;
            if (reply.contains("error")) {
                const auto& e = reply["error"];
                throw Fatal{kExitError, e.value("message", std::string("error")) + " (code " + std::to_string(e.value("code", 0)) + ")"};
            }
            return reply.value("result", json::object());
        }
    }

    json next_notification(std::chrono::milliseconds timeout) {
        if (!pending_.empty()) {
            json n = pending_.front();
            pending_.erase(pending_.begin());
            return n;
        }
        return json::parse(client_.receive_text(timeout), nullptr, false);
    }

    ~Connection() { client_.close(1s); }

private:
    const rapport::Settings& settings_;
    rapport::api::WsClient client_;
    int next_id_ = 0;
    std::vector<json> pending_;
};

void print(const json& result, bool raw, const std::string& human) {
    if (raw) std::cout << result.dump(2) << "\n";
    else std::cout << human;
}

// Answers the add-on with the port, token and user of the settings found; every failure is a
// sentence for the add-on's status line.
int native_host(const std::string& settings_path) {
    std::ios::sync_with_stdio(false);
    return rapport::cli::run_native_host(std::cin, std::cout, std::cerr, [&] {
        try {
            const rapport::Settings s = load_settings(settings_path);
            return json{{"port", s.api_port},
                        {"token", read_token(s)},
                        {"user", {{"name", s.user_name}, {"address", s.user_address}}}};
        } catch (const Fatal& f) {
            throw std::runtime_error(f.message);
        }
    });
}

int run(int argc, char** argv) {
    std::string settings_path = default_settings_path();
    bool raw = false;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) settings_path = argv[++i];
        else if (a == "--json") raw = true;
        else if (a == "--help" || a == "-h") { std::cout << kUsage; return 0; }
        else if (a == "--version") { std::cout << "rapportctl " << rapport::kVersion << "\n"; return 0; }
        else args.push_back(a);
    }
    if (args.empty()) throw Fatal{kExitUsage, "no command given (rapportctl --help lists them)"};
    const std::string cmd = args[0];
    auto option = [&](const std::string& name) -> std::vector<std::string> {
        std::vector<std::string> values;
        for (std::size_t i = 1; i + 1 < args.size(); ++i)
            if (args[i] == name) values.push_back(args[i + 1]);
        return values;
    };
    auto flag = [&](const std::string& name) { return std::find(args.begin() + 1, args.end(), name) != args.end(); };
    auto positional = [&](std::size_t n, const char* what) {
        if (args.size() <= n || args[n].rfind("--", 0) == 0) throw Fatal{kExitUsage, std::string("missing ") + what + " (rapportctl --help)"};
        return args[n];
    };
    auto id_arg = [&](std::size_t n) {
        const std::string s = positional(n, "ID");
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (!end || *end || v <= 0) throw Fatal{kExitUsage, "\"" + s + "\" is not an id (a positive number)"};
        return v;
    };

    if (cmd == "native-host") {
        if (flag("--install")) {
            std::string dir;
            if (args.size() > 2 && args[2].rfind("--", 0) != 0) dir = args[2];
            try {
                std::cout << "wrote " << rapport::cli::install_user_manifest(dir) << "\n";
            } catch (const std::exception& e) {
                throw Fatal{kExitError, e.what()};
            }
            return 0;
        }
        return native_host(settings_path);
    }
    const rapport::Settings settings = load_settings(settings_path);
    if (cmd == "token") {
        std::cout << read_token(settings) << "\n";
        return 0;
    }
    static const std::vector<std::string> known = {"status", "lookup", "check", "lost", "reopen", "nudges", "snooze",
                                                   "done", "dismiss", "meetings", "drafts", "ack", "watch", "health"};
    if (std::find(known.begin(), known.end(), cmd) == known.end())
        throw Fatal{kExitUsage, "unknown command \"" + cmd + "\" (rapportctl --help lists them)"};

    Connection c(settings);
    if (cmd == "status") {
        json r = c.call("status", json::object());
        if (!flag("--follow")) { print(r, raw, rapport::cli::status_text(r)); return 0; }
        // A progress line, redrawn in place, while any mailbox is still connecting or in its
        // first scan (at most 10 minutes; a mailbox in error is reported as it is).
        const bool tty = isatty(2);
        const auto give_up = std::chrono::steady_clock::now() + 10min;
        while (std::chrono::steady_clock::now() < give_up) {
            long long done = 0, total = 0;
            bool busy = false;
            for (const auto& m : r.value("mailboxes", json::array())) {
                const std::string st = m.value("state", std::string());
                busy |= st == "starting" || st == "connecting" || st == "scanning";
                if (m.contains("scan") && m["scan"].is_object()) done += m["scan"].value("done", 0LL), total += m["scan"].value("total", 0LL);
            }
            if (!busy) break;
            if (tty && total > 0) std::fprintf(stderr, "\rfirst scan: %lld of %lld messages (%lld%%)   ", done, total, done * 100 / total);
            else if (tty) std::fprintf(stderr, "\rconnecting...   ");
            std::this_thread::sleep_for(200ms);
            r = c.call("status", json::object());
        }
        if (tty) std::fprintf(stderr, "\r%60s\r", "");
        print(r, raw, rapport::cli::status_text(r));
    } else if (cmd == "lookup") {
        json addresses = json::array();
        for (std::size_t i = 1; i < args.size(); ++i) addresses.push_back(args[i]);
        if (addresses.empty()) throw Fatal{kExitUsage, "missing ADDR (rapportctl lookup jane@acme.example)"};
        json r = c.call("lookup", {{"addresses", addresses}});
        print(r, raw, rapport::cli::lookup_text(r["results"]));
    } else if (cmd == "check") {
        auto from = option("--from");
        if (from.empty()) throw Fatal{kExitUsage, "missing --from ADDRESS"};
        json r = c.call("compose.check", {{"from", from[0]}, {"to", option("--to")}, {"cc", option("--cc")}, {"bcc", option("--bcc")}});
        print(r, raw, rapport::cli::compose_text(r));
    } else if (cmd == "lost") {
        json params = {{"account", positional(1, "ACCOUNT")}};
        for (const char* o : {"competitor", "delivery", "note"})
            if (auto v = option(std::string("--") + o); !v.empty()) params[o] = v[0];
        json r = c.call("deal.lost", params);
        std::string text = "Marked " + params["account"].get<std::string>() + " as lost. Follow-ups:\n" +
                           rapport::cli::nudges_table(r["nudges"]);
        for (const auto& w : r.value("warnings", json::array())) text += "Note: " + w.get<std::string>() + ".\n";
        print(r, raw, text);
    } else if (cmd == "health") {
        const std::string account = positional(1, "ACCOUNT");
        json r = c.call("accounts.health", {{"account", account}});
        print(r, raw, rapport::cli::health_text(r));
    } else if (cmd == "reopen") {
        const std::string account = positional(1, "ACCOUNT");
        json r = c.call("deal.reopen", {{"account", account}});
        print(r, raw, "Reopened " + account + "; its pending follow-ups are cancelled.\n");
    } else if (cmd == "nudges") {
        json params = json::object();
        if (flag("--all")) params["state"] = "all";
        else if (flag("--due")) params["state"] = "due";
        json r = c.call("nudges.list", params);
        print(r, raw, rapport::cli::nudges_table(r["nudges"]));
    } else if (cmd == "snooze") {
        const auto id = id_arg(1);
        const std::string when = positional(2, "DURATION or DATE-TIME");
        json params = {{"id", id}};
        params[when.size() > 0 && when[0] == 'P' ? "for" : "until"] = when;
        json r = c.call("nudges.snooze", params);
        print(r, raw, "Nudge " + std::to_string(id) + " snoozed until " + r.value("due", std::string("?")) + ".\n");
    } else if (cmd == "done" || cmd == "dismiss") {
        const auto id = id_arg(1);
        json r = c.call(cmd == "done" ? "nudges.done" : "nudges.dismiss", {{"id", id}});
        print(r, raw, "Nudge " + std::to_string(id) + " is " + r.value("state", std::string("?")) + ".\n");
    } else if (cmd == "meetings") {
        json r = c.call("meetings.list", json::object());
        print(r, raw, rapport::cli::meetings_table(r["meetings"]));
    } else if (cmd == "drafts") {
        json r = c.call("drafts.list", json::object());
        print(r, raw, rapport::cli::drafts_table(r["drafts"]));
    } else if (cmd == "ack") {
        const auto id = id_arg(1);
        json r = c.call("notifications.ack", {{"id", id}});
        print(r, raw, "Notification " + std::to_string(id) + " acknowledged.\n");
    } else if (cmd == "watch") {
        json params = json::object();
        if (auto after = option("--after"); !after.empty()) params["after"] = std::atoll(after[0].c_str());
        c.call("subscribe", params);
        std::cout.setf(std::ios::unitbuf);
        while (true) {
            json n;
            try {
                n = c.next_notification(24h);
            } catch (const rapport::api::WsError& e) {
                if (e.kind() == rapport::api::WsError::Kind::timed_out) continue;
                throw Fatal{kExitUnreachable, std::string("rapportd closed the connection: ") + e.what()};
            }
            if (!n.is_object() || n.value("method", std::string()) != "notify") continue;
            if (raw) std::cout << n["params"].dump() << "\n";
            else std::cout << rapport::cli::notification_line(n["params"]) << "\n";
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        // Thunderbird starts the host named in the manifest as `path MANIFEST EXTENSION-ID`, so
        // the manifest can name rapportctl itself (no wrapper script).
        if (rapport::cli::launched_by_mozilla(argc, argv)) return native_host(default_settings_path());
        return run(argc, argv);
    } catch (const Fatal& f) {
        std::fprintf(stderr, "rapportctl: %s\n", f.message.c_str());
        return f.code;
    } catch (const rapport::api::WsError& e) {
        std::fprintf(stderr, "rapportctl: the connection to rapportd failed: %s\n", e.what());
        return kExitUnreachable;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rapportctl: %s\n", e.what());
        return kExitError;
    }
}

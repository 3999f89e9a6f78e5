// rapportd's first scan of a large folder against the least a client can do: one raw
// "UID FETCH 1:* (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (…)])" of the same folder and the
// same items rapportd asks for, measured in the same run; the daemon's peak RSS; then the
// latency from an IMAP APPEND to the customer_mail notification over N appends (median, p99)
// against the floor: a bare IMAP client IDLE-ing on the same folder.
//   bench_mail_watch [MESSAGES=100000] [APPENDS=100] [history|recent|sent]
// history (the default): the messages are dated 1 Jan 2024, like most of a real folder's
// history, so rapportd keeps no per-account list entry for them (rapport/message_decision.hpp,
// kRecentMessagesKept). recent: dated yesterday, so each one goes to the account's recent
// messages (of which the store keeps the newest 10 an account wrote). sent: the same messages,
// dated yesterday, in the Sent folder, the only one watched: the user's own messages are all
// kept, so every one is written, the worst case for the store (no appends: INBOX is not
// watched).
// Never dies on a dropped connection (it reports it and exits 1), and stops Dovecot and
// rapportd on every path: normal end, an exception, SIGINT/SIGTERM/SIGHUP.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"
#include "raw_imap_client.hpp"

using namespace rapport::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Exactly the fields daemon/app/folder_watch.cpp fetches: Dovecot caches header fields per
// field, so a shorter list here would measure a cheaper fetch than the daemon's.
const char* kFields =
    "FROM TO CC DATE SUBJECT MESSAGE-ID AUTO-SUBMITTED CONTENT-TYPE BCC "
    "X-AUTOREPLY X-AUTORESPOND X-AUTO-RESPONSE-SUPPRESS PRECEDENCE X-FAILED-RECIPIENTS";

// Process groups to stop if a signal ends the bench before the fixtures' destructors can run.
// Written before each child is used, read only by the handler (kill() is async-signal-safe).
std::atomic<pid_t> g_dovecot{0}, g_rapportd{0};

extern "C" void stop_children_and_exit(int sig) {
    for (auto* p : {&g_rapportd, &g_dovecot}) {
        const pid_t pid = p->load();
        if (pid > 0) {
            ::kill(-pid, SIGTERM);
            ::kill(pid, SIGTERM);
        }
    }
    const char msg[] = "bench_mail_watch: interrupted; stopped Dovecot and rapportd (their temp dirs stay)\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(128 + sig);
}

void stop_children_on_signals() {
    struct sigaction sa {};
    sa.sa_handler = stop_children_and_exit;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
}

double raw_fetch(DovecotFixture& dovecot, const std::string& folder) {
    const auto t0 = Clock::now();
    RawClient raw(dovecot.port());
    raw.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
    raw.command("b", "EXAMINE " + folder);
    raw.command("c", std::string("UID FETCH 1:* (UID FLAGS MODSEQ BODY.PEEK[HEADER.FIELDS (") + kFields + ")])");
    raw.command("d", "LOGOUT");
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

long peak_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}


int run(int argc, char** argv) {
    const std::size_t messages = argc > 1 ? std::stoul(argv[1]) : 100000;
    const std::string mode = argc > 3 ? argv[3] : "history";
    if (mode != "history" && mode != "recent" && mode != "sent")
        throw std::invalid_argument("the third argument is history, recent or sent, not " + mode);
    const bool recent = mode != "history";
    const std::string folder = mode == "sent" ? "Sent" : "INBOX";
    const int appends = mode == "sent" ? 0 : argc > 2 ? std::atoi(argv[2]) : 100;
    DovecotFixture::Options o;
    o.seed = {{folder, messages}};
    if (mode == "sent") o.folders = {"Drafts"};  // Sent is seeded
    if (recent) {
        const std::time_t yesterday = std::time(nullptr) - 86400;
        std::tm tm{};
        gmtime_r(&yesterday, &tm);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
        o.seed_date = date;
    }
    std::printf("seeding %zu messages into Dovecot's %s, dated %s...\n", messages, folder.c_str(),
                recent ? o.seed_date.c_str() : "1 Jan 2024 (history)");
    DovecotFixture dovecot(o);
    g_dovecot = dovecot.pid();
    // Dovecot builds its index and header cache over the first fetches (the second of a fresh
    // folder was measured at 1.2-1.6 s, later ones at 0.10-0.15 s): warm it twice, then take
    // the median of three, so the baseline is the server's steady speed, not its cache filling.
    raw_fetch(dovecot, folder);
    raw_fetch(dovecot, folder);
    std::vector<double> raws = {raw_fetch(dovecot, folder), raw_fetch(dovecot, folder), raw_fetch(dovecot, folder)};
    std::sort(raws.begin(), raws.end());
    const double raw = raws[1];
    std::printf("raw UID FETCH 1:* three times          : %.3f %.3f %.3f s\n", raws[0], raws[1], raws[2]);

    const std::string rules = R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}],
      "accounts": [{"id": "acme", "name": "Acme", "domains": ["acme.example"], "owner": "bob",
                    "contacts": [{"address": "jane@acme.example"}]}]})";
    json settings = {{"log_level", "warning"},
                     {"mailboxes", {{{"id", "work"},
                                     {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                               {"username", dovecot.user()}, {"password", dovecot.password()}}},
                                     {"folders", {{"watch", {folder}}}}}}}};
    const auto t0 = Clock::now();
    RapportdFixture d(rules, settings);
    g_rapportd = d.pid();
    d.call("subscribe");
    json status = d.wait_status([&](const json& s) {
        const auto& m = s["mailboxes"][0];
        return m["state"] == "idle" && m["messages_seen"].get<std::size_t>() >= messages;
    }, 600s, 5ms);  // polled every 5 ms: the end of the scan is known to within that
    const double scan = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("raw UID FETCH 1:* of the header fields : %7.3f s (median of three)\n", raw);
    std::printf("rapportd start to first scan done      : %7.3f s  (%zu messages seen, %.0f msg/s)\n", scan,
                status["mailboxes"][0]["messages_seen"].get<std::size_t>(), messages / scan);
    const double raw_after = raw_fetch(dovecot, folder);  // the same again, to show the server's own spread
    std::printf("raw UID FETCH again, after the scan     : %7.3f s\n", raw_after);
    std::printf("ratio rapportd/raw                     : %7.2f (against the fastest raw run: %.2f)\n", scan / raw,
                scan / std::min(raws[0], raw_after));
    std::printf("rapportd peak RSS                      : %7.1f MiB\n", peak_rss_kib(d.pid()) / 1024.0);

    RawClient client(dovecot.port());
    client.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
    {
        // What the server itself costs per new message on this folder, for reference.
        RawClient probe(dovecot.port());
        probe.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
        auto e0 = Clock::now();
        probe.command("b", "EXAMINE INBOX");
        std::printf("server: EXAMINE INBOX takes %.1f ms\n", std::chrono::duration<double, std::milli>(Clock::now() - e0).count());
        std::string msg = "From: x@y.example\r\nSubject: probe\r\nMessage-ID: <probe@y.example>\r\n\r\nhi\r\n";
        e0 = Clock::now();
        probe.command("c", "APPEND Drafts {" + std::to_string(msg.size()) + "+}\r\n" + msg);
        std::printf("server: APPEND to another folder takes %.1f ms\n", std::chrono::duration<double, std::milli>(Clock::now() - e0).count());
        e0 = Clock::now();
        probe.command("d", "NOOP");
        std::printf("server: NOOP takes %.1f ms\n", std::chrono::duration<double, std::milli>(Clock::now() - e0).count());
        // A read-only session's NOOP after new mail arrived: the server's own sync cost.
        RawClient writer(dovecot.port());
        writer.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
        for (const char* mode : {"EXAMINE", "SELECT"}) {
            probe.command("e", std::string(mode) + " INBOX");
            std::string m2 = "From: x@y.example\r\nSubject: probe\r\n\r\nhi\r\n";
            writer.command("b", "APPEND INBOX {" + std::to_string(m2.size()) + "+}\r\n" + m2);
            e0 = Clock::now();
            probe.command("f", "NOOP");
            std::printf("server: NOOP after new mail, folder opened with %s: %.1f ms\n", mode,
                        std::chrono::duration<double, std::milli>(Clock::now() - e0).count());
        }
    }
    // The floor: how long the server itself takes to push new mail to a bare IDLE client.
    std::vector<double> idle_floor_ms;
    {
        RawClient idler(dovecot.port()), writer(dovecot.port());
        idler.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
        writer.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
        idler.command("b", "EXAMINE INBOX");
        for (int i = 0; i < std::min(appends, 10); ++i) {
            idler.send_line("i" + std::to_string(i) + " IDLE");
            idler.wait_for("+ ");
            std::string m = "From: x@y.example\r\nSubject: floor\r\n\r\nhi\r\n";
            // Timed from sending the APPEND, as rapportd's latency below is.
            const auto f0 = Clock::now();
            writer.command("w" + std::to_string(i), "APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m);
            idler.wait_for("EXISTS");
            idle_floor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - f0).count());
            idler.send_line("DONE");
            idler.wait_for("i" + std::to_string(i) + " OK");
        }
        std::sort(idle_floor_ms.begin(), idle_floor_ms.end());
        std::printf("floor: APPEND sent to EXISTS on a bare IDLE client (EXAMINE): median %.1f ms, p99 %.1f ms\n",
                    percentile(idle_floor_ms, 0.5), percentile(idle_floor_ms, 0.99));
    }
    std::vector<double> latency_ms, after_ok_ms;
    for (int i = 0; i < appends; ++i) {
        const std::string id = "bench-" + std::to_string(i) + "@acme.example";
        std::string msg = "From: Jane <jane@acme.example>\r\nTo: bob@vendor.example\r\nSubject: bench " + std::to_string(i) +
                          "\r\nMessage-ID: <" + id + ">\r\n\r\nhi\r\n";
        const auto a0 = Clock::now();
        client.command("p" + std::to_string(i), "APPEND INBOX {" + std::to_string(msg.size()) + "+}\r\n" + msg);
        const auto a1 = Clock::now();
        std::optional<json> n;
        try {
            n = d.wait_notification([&](const json& x) { return x["kind"] == "customer_mail" && x["message_id"] == id; }, 10s);
        } catch (const rapport::api::WsError& e) {
            std::printf("append %d: the connection to rapportd dropped (%s); reporting the %zu appends measured\n", i,
                        e.what(), latency_ms.size());
            break;
        }
        if (!n) {
            std::printf("append %d: no notification within 10 s\n", i);
            continue;
        }
        latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a0).count());
        after_ok_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a1).count());
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    std::sort(after_ok_ms.begin(), after_ok_ms.end());
    if (!latency_ms.empty()) {
        std::printf("APPEND sent to customer_mail over %zu appends: median %.1f ms, p99 %.1f ms\n", latency_ms.size(),
                    percentile(latency_ms, 0.5), percentile(latency_ms, 0.99));
        std::printf("APPEND's OK to customer_mail (rapportd's part): median %.1f ms, p99 %.1f ms\n",
                    percentile(after_ok_ms, 0.5), percentile(after_ok_ms, 0.99));
        std::printf("ratio notification/IDLE floor           : median %.2f, p99 %.2f\n",
                    percentile(latency_ms, 0.5) / percentile(idle_floor_ms, 0.5),
                    percentile(latency_ms, 0.99) / percentile(idle_floor_ms, 0.99));
    }
    std::printf("SUMMARY raw %.3f s, scan %.3f s, ratio %.2f; latency median %.1f ms vs floor %.1f ms (%.2f)\n", raw,
                scan, scan / raw, percentile(latency_ms, 0.5), percentile(idle_floor_ms, 0.5),
                latency_ms.empty() ? 0.0 : percentile(latency_ms, 0.5) / percentile(idle_floor_ms, 0.5));
    g_rapportd = 0;  // the fixtures' destructors stop them from here on
    g_dovecot = 0;
    return latency_ms.size() == static_cast<std::size_t>(appends) ? 0 : 1;
}

}  // namespace

// Every exception ends here, so the fixtures' destructors have run (an exception escaping
// main may skip them: that is how a WsError once left Dovecot running).
int main(int argc, char** argv) {
    stop_children_on_signals();
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_mail_watch failed: %s\n(Dovecot and rapportd were stopped; if the connection "
                             "to rapportd dropped, its log above says why — rerun once the machine is less loaded)\n",
                     e.what());
        return 1;
    }
}

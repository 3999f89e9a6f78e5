// rapportd's first scan of a large folder against the least a client can do: one raw
// "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (…)])" of the same folder, measured in the same run;
// the daemon's peak RSS; then the latency from an IMAP APPEND to the customer_mail
// notification over N appends (median and worst).
//   bench_mail_watch [MESSAGES=100000] [APPENDS=100]
#include <algorithm>
#include <chrono>
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

const char* kFields = "FROM TO CC DATE SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES AUTO-SUBMITTED CONTENT-TYPE";

double raw_fetch(DovecotFixture& dovecot) {
    const auto t0 = Clock::now();
    RawClient raw(dovecot.port());
    raw.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
    raw.command("b", "EXAMINE INBOX");
    raw.command("c", std::string("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (") + kFields + ")])");
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

}  // namespace

int main(int argc, char** argv) {
    const std::size_t messages = argc > 1 ? std::stoul(argv[1]) : 100000;
    const int appends = argc > 2 ? std::atoi(argv[2]) : 100;
    DovecotFixture::Options o;
    o.seed = {{"INBOX", messages}};
    std::printf("seeding %zu messages into Dovecot...\n", messages);
    DovecotFixture dovecot(o);
    raw_fetch(dovecot);  // warm Dovecot's index and cache, so both measurements see the same server
    const double raw = raw_fetch(dovecot);

    const std::string rules = R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}],
      "accounts": [{"id": "acme", "name": "Acme", "domains": ["acme.example"], "owner": "bob",
                    "contacts": [{"address": "jane@acme.example"}]}]})";
    json settings = {{"log_level", "warning"},
                     {"mailboxes", {{{"id", "work"},
                                     {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                               {"username", dovecot.user()}, {"password", dovecot.password()}}},
                                     {"folders", {{"watch", {"INBOX"}}}}}}}};
    const auto t0 = Clock::now();
    RapportdFixture d(rules, settings);
    d.call("subscribe");
    json status = d.wait_status([&](const json& s) {
        const auto& m = s["mailboxes"][0];
        return m["state"] == "idle" && m["messages_seen"].get<std::size_t>() >= messages;
    }, 600s);
    const double scan = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("raw UID FETCH 1:* of the header fields : %7.3f s\n", raw);
    std::printf("rapportd start to first scan done      : %7.3f s  (%zu messages seen, %.0f msg/s)\n", scan,
                status["mailboxes"][0]["messages_seen"].get<std::size_t>(), messages / scan);
    const double raw_after = raw_fetch(dovecot);  // the same again, to show the server's own spread
    std::printf("raw UID FETCH again, after the scan     : %7.3f s\n", raw_after);
    std::printf("ratio rapportd/raw                     : %7.2f (against the faster raw run: %.2f)\n", scan / raw,
                scan / std::min(raw, raw_after));
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
            writer.command("w" + std::to_string(i), "APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m);
            const auto f0 = Clock::now();
            idler.wait_for("EXISTS");
            idle_floor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - f0).count());
            idler.send_line("DONE");
            idler.wait_for("i" + std::to_string(i) + " OK");
        }
        std::sort(idle_floor_ms.begin(), idle_floor_ms.end());
        std::printf("floor: APPEND's OK to EXISTS on a bare IDLE client (EXAMINE): median %.1f ms, worst %.1f ms\n",
                    idle_floor_ms[idle_floor_ms.size() / 2], idle_floor_ms.back());
    }
    std::vector<double> latency_ms, after_ok_ms;
    for (int i = 0; i < appends; ++i) {
        const std::string id = "bench-" + std::to_string(i) + "@acme.example";
        std::string msg = "From: Jane <jane@acme.example>\r\nTo: bob@vendor.example\r\nSubject: bench " + std::to_string(i) +
                          "\r\nMessage-ID: <" + id + ">\r\n\r\nhi\r\n";
        const auto a0 = Clock::now();
        client.command("p" + std::to_string(i), "APPEND INBOX {" + std::to_string(msg.size()) + "+}\r\n" + msg);
        const auto a1 = Clock::now();
        auto n = d.wait_notification([&](const json& x) { return x["kind"] == "customer_mail" && x["message_id"] == id; }, 10s);
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
        std::printf("APPEND sent to customer_mail over %zu appends: median %.1f ms, worst %.1f ms\n", latency_ms.size(),
                    latency_ms[latency_ms.size() / 2], latency_ms.back());
        std::printf("APPEND's OK to customer_mail (rapportd's part): median %.1f ms, worst %.1f ms\n",
                    after_ok_ms[after_ok_ms.size() / 2], after_ok_ms.back());
    }
    return 0;
}

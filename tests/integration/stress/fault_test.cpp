// Faults between rapportd and its servers: a FaultProxy between the daemon and Dovecot, and
// another between the submission listener's relay and the SMTP upstream (an aiosmtpd sink).
// While mail is appended to INBOX and Sent, customer calls end (an .ics file) and messages are
// submitted through the listener, the proxies cut connections at random byte offsets and at
// chosen moments (mid-FETCH, mid-IDLE, mid-APPEND, the APPEND's reply, mid-DATA, after the
// end of DATA), stall them and trickle them. Then every invariant is checked from outside:
// each message classified exactly once (customer_mail notifications), each ended call drafted
// exactly once (Drafts read with doveadm), each submission the client saw accepted at the
// sink exactly once (by Message-ID).
//
// RAPPORT_STRESS_CUTS=200 ./build/tests/fault_test     (default 20, the CI form)
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "dovecot_fixture.hpp"
#include "drafts_folder.hpp"
#include "fault_proxy.hpp"
#include "rapportd_fixture.hpp"
#include "test_time_text.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true}]}],
  "rules": {"summary_drafts": {"delay": "PT1S", "min_duration": "PT10M", "catch_up": "PT24H"}}
})";

// An SMTP sink that writes the Message-ID of every message it accepts, one per line, at once.
const char* kSink = R"py(
import re, sys, time
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class Sink:
    async def handle_DATA(self, server, session, envelope):
        m = re.search(rb"(?im)^Message-ID:\s*<([^>]+)>", envelope.original_content)
        out.write((m.group(1).decode() if m else "?") + "\n")
        return "250 2.0.0 Ok: queued"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), decode_data=False)
c.start()
print("sink ready", flush=True)
while True:
    time.sleep(3600)
)py";

std::size_t cuts_wanted() {
    const char* env = std::getenv("RAPPORT_STRESS_CUTS");
    return env && *env ? static_cast<std::size_t>(std::stoul(env)) : 20;
}

// A 15-minute call with Jane (a customer) that ends at `end`.
std::string call_event(int n, std::time_t end) {
    return "BEGIN:VEVENT\r\nUID:call-" + std::to_string(n) + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" +
           ical_utc(end - 15 * 60) + "\r\nDTEND:" + ical_utc(end) + "\r\nSUMMARY:Acme call " + std::to_string(n) +
           "\r\nORGANIZER;CN=Mia Marketing:mailto:mia@vendor.example\r\n"
           "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:MAILTO:jane@acme.example\r\nEND:VEVENT\r\n";
}

// The calendar file grows while the test runs: a call ends every few seconds.
class Calendar {
public:
    explicit Calendar(std::string path) : path_(std::move(path)) {
        const std::time_t now = std::time(nullptr);
        for (int i = 0; i < 10; ++i) add(now - 3600 + i * 300);  // ended earlier today: caught up
    }
    void add(std::time_t end) {
        ends_.push_back(end);
        events_ += call_event(static_cast<int>(ends_.size()), end);
    }
    // Keeps calls ending up to 10 s ahead, one every 2.5 s on average.
    void extend() {
        const std::time_t now = std::time(nullptr);
        while (ends_.back() < now + 10) add(std::max(ends_.back(), now) + (ends_.size() % 2 ? 2 : 3));
        write_file(path_ + ".tmp", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n" + events_ +
                                       "END:VCALENDAR\r\n");
        std::filesystem::rename(path_ + ".tmp", path_);
    }
    // Calls that ended at or before `t`: each one must have exactly one draft.
    std::size_t ended_by(std::time_t t) const {
        return static_cast<std::size_t>(std::count_if(ends_.begin(), ends_.end(), [&](std::time_t e) { return e <= t; }));
    }
    // Stops adding: the calls already written still end (the last within 10 s).
    std::time_t last_end() const { return ends_.back(); }

private:
    std::string path_;
    std::string events_;
    std::vector<std::time_t> ends_;
};

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

// One submission through the listener, as a mail client does it; returns the reply code to
// the end of DATA (0 when the listener itself could not be talked to).
int submit(int port, const std::string& token, const std::string& message) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    std::string pending;
    auto reply = [&]() -> int {  // the code of the next (possibly multi-line) reply
        while (true) {
            const auto eol = pending.find("\r\n");
            if (eol != std::string::npos) {
                const std::string line = pending.substr(0, eol);
                pending.erase(0, eol + 2);
                if (line.size() >= 4 && line[3] == '-') continue;
                return line.size() >= 3 ? std::atoi(line.substr(0, 3).c_str()) : 0;
            }
            char buf[1024];
            const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
            if (r <= 0) return 0;
            pending.append(buf, static_cast<std::size_t>(r));
        }
    };
    auto say = [&](const std::string& s) { return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); };
    int code = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && reply() == 220 && say("EHLO fault-test\r\n") &&
        reply() == 250 && say("AUTH PLAIN " + base64(std::string("\0mia\0", 5) + token) + "\r\n") && reply() == 235 &&
        say("MAIL FROM:<mia@vendor.example>\r\n") && reply() == 250 && say("RCPT TO:<jane@acme.example>\r\n") &&
        reply() == 250 && say("DATA\r\n") && reply() == 354 && say(message + ".\r\n")) {
        code = reply();
        say("QUIT\r\n");
    }
    ::close(fd);
    return code;
}

std::string mail(const std::string& id, const std::string& from, const std::string& to, const std::string& subject) {
    return "From: " + from + "\r\nTo: " + to + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: " + subject +
           "\r\nMessage-ID: <" + id + ">\r\nContent-Type: text/plain\r\n\r\nHello,\r\nthe numbers for " + subject +
           " are attached in spirit.\r\n";
}

// An SMTP cut that fell after the whole message went up and before its reply came back: the
// upstream has the message but rapportd cannot know (RFC 5321's duplicate window, documented
// in docs/submission.md). A retry after such a cut delivers twice; nothing else may.
bool in_reply_window(const FaultProxy::CutRecord& r) {
    const std::string& up = r.tail[FaultProxy::to_server];
    if (up.size() < 5 || up.compare(up.size() - 5, 5, "\r\n.\r\n") != 0) return false;
    const std::string& down = r.tail[FaultProxy::to_client];
    const bool reply_complete = r.last == FaultProxy::to_client && down.size() >= 2 &&
                                down.compare(down.size() - 2, 2, "\r\n") == 0;
    return !reply_complete;
}

}  // namespace

TEST_CASE("cuts, stalls and trickles between rapportd and its servers lose nothing and double nothing",
          "[stress][faults]") {
    const std::size_t wanted = cuts_wanted();
    const auto started = Clock::now();
    DovecotFixture dovecot;
    FaultProxy imap(dovecot.port());
    const int sink_port = free_port(), submission_port = free_port();
    TempDir sink_dir;
    write_file(sink_dir / "sink.py", kSink);
    Child sink({"/usr/bin/python3", sink_dir / "sink.py", std::to_string(sink_port), sink_dir / "accepted.txt"},
               sink_dir / "sink.log");
    REQUIRE(wait_for_port(sink_port, 15s));
    FaultProxy smtp(sink_port);

    std::unique_ptr<Calendar> calendar;
    const json settings = {
        {"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
        {"mailboxes",
         {{{"id", "work"},
           {"poll_interval", "PT30S"},
           {"imap", {{"host", "127.0.0.1"}, {"port", imap.port()}, {"security", "none"},
                     {"username", dovecot.user()}, {"password", dovecot.password()}}},
           {"smtp", {{"host", "127.0.0.1"}, {"port", smtp.port()}, {"security", "none"}}},
           {"submission", {{"port", submission_port}}},
           {"folders", {{"watch", {"INBOX", "Sent"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}},
        {"calendars", {{{"id", "work"}, {"url", "file:calendar.ics"}, {"poll_interval", "PT1S"}}}}};
    RapportdFixture d(kRules, settings, [&](const TempDir& dir) {
        calendar = std::make_unique<Calendar>(dir / "calendar.ics");
        calendar->extend();
    });
    d.call("subscribe", {{"after", 0}});
    REQUIRE(wait_for_port(submission_port, 15s));
    // Mail that arrives before the first scan has set the history boundary is history (not
    // announced): start the workload once both folders are caught up.
    const json synced = d.wait_status([](const json& st) {
        const auto& m = st["mailboxes"][0];
        return (m["state"] == "idle" || m["state"] == "polling") && !m.contains("scan");
    }, 60s);
    INFO(synced.dump());
    REQUIRE((synced["mailboxes"][0]["state"] == "idle" || synced["mailboxes"][0]["state"] == "polling"));
    const std::string token = d.token();

    std::mt19937 rng(std::random_device{}());
    auto uniform = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };

    std::vector<std::string> mail_ids;                  // appended to INBOX or Sent
    std::size_t sent_ids = 0;                           // of which to Sent (each gets an FYI draft)
    std::map<std::string, int> accepted, allowed_extra;  // submissions: the client saw 250; window cuts
    std::size_t submissions = 0, attempts = 0, given_up = 0, missed = 0;
    auto append_mail = [&] {
        const std::size_t n = mail_ids.size() + 1;
        const bool out = n % 3 == 0;
        const std::string id = "m" + std::to_string(n) + (out ? "@vendor.example" : "@acme.example");
        sent_ids += out;
        if (out) dovecot.append("Sent", mail(id, "Mia Marketing <mia@vendor.example>", "Jane Doe <jane@acme.example>", "Pricing " + std::to_string(n)));
        else dovecot.append("INBOX", mail(id, "Jane Doe <jane@acme.example>", "mia@vendor.example", "Question " + std::to_string(n)));
        mail_ids.push_back(id);
    };
    // A submission, retried (up to 6 times) while the client sees it fail.
    auto submit_one = [&] {
        const std::string id = "s" + std::to_string(++submissions) + "@vendor.example";
        const std::string msg = mail(id, "Mia Marketing <mia@vendor.example>", "Jane Doe <jane@acme.example>", "Offer " + std::to_string(submissions));
        for (int attempt = 0; attempt < 6; ++attempt) {
            ++attempts;
            const std::size_t before = smtp.records().size();
            const int code = submit(submission_port, token, msg);
            const auto records = smtp.records();
            for (std::size_t i = before; i < records.size(); ++i)
                if (in_reply_window(records[i])) ++allowed_extra[id];
            if (code == 250) {
                ++accepted[id];
                return;
            }
            INFO("submission " << id << " got " << code << "\n" << d.log());
            REQUIRE((code == 451 || code == 0));  // a relay failure, temporary: retry
            std::this_thread::sleep_for(200ms);
        }
        ++given_up;
    };
    auto wait_fired = [&](FaultProxy& p, std::size_t before, std::chrono::milliseconds timeout) {
        const auto until = Clock::now() + timeout;
        while (p.cut_count() == before && Clock::now() < until) std::this_thread::sleep_for(10ms);
        if (p.cut_count() == before) {
            missed += p.disarm();
            return false;
        }
        return true;
    };

    std::size_t fired = 0, iteration = 0;
    const std::vector<std::string> kinds = {"imap random", "mid-FETCH",  "mid-IDLE",         "smtp random",
                                            "mid-APPEND",  "mid-DATA",   "APPEND reply lost", "imap random",
                                            "mid-FETCH",   "smtp reply lost",  "mid-IDLE",         "smtp before QUIT"};
    bool trickled = false;
    // Until the cuts asked for have fired, and every kind at least once (a targeted cut that
    // found no traffic in its round is dropped and comes round again).
    auto every_kind_fired = [&] {
        for (const auto& k : kinds)
            if ((imap.cuts().count(k) ? imap.cuts()[k] : 0) + (smtp.cuts().count(k) ? smtp.cuts()[k] : 0) == 0) return false;
        return true;
    };
    while ((fired < wanted || !every_kind_fired()) && iteration < wanted * 4 + 4 * kinds.size()) {
        const std::string kind = kinds[iteration++ % kinds.size()];
        calendar->extend();
        if (iteration % 6 == 0) imap.stall(std::chrono::milliseconds(uniform(300, 2000)));
        if (iteration % 9 == 0) smtp.stall(std::chrono::milliseconds(uniform(300, 1500)));
        if (!trickled && fired >= wanted / 2) {
            // Trickle phase: both servers at 4 KB/s for a few seconds of steady work.
            trickled = true;
            imap.trickle(4000);
            smtp.trickle(4000);
            for (int i = 0; i < 6; ++i) {
                append_mail();
                submit_one();
                std::this_thread::sleep_for(300ms);
            }
            imap.trickle(0);
            smtp.trickle(0);
        }
        FaultProxy& proxy = kind.rfind("smtp", 0) == 0 || kind == "mid-DATA" ? smtp : imap;
        const std::size_t before = proxy.cut_count();
        if (kind == "imap random")
            imap.cut_after(uniform(0, 1) ? FaultProxy::to_client : FaultProxy::to_server, uniform(1, 4000), kind);
        else if (kind == "mid-FETCH")
            imap.cut_on(FaultProxy::to_client, " FETCH (", uniform(0, 150), kind);
        else if (kind == "mid-IDLE")
            imap.cut_on(FaultProxy::to_client, "+ idling", 0, kind);
        else if (kind == "mid-APPEND")
            imap.cut_on(FaultProxy::to_server, "APPEND ", uniform(40, 400), kind);
        else if (kind == "APPEND reply lost")
            imap.cut_on(FaultProxy::to_client, "[APPENDUID", -10, kind);
        else if (kind == "smtp random")
            smtp.cut_after(uniform(0, 1) ? FaultProxy::to_client : FaultProxy::to_server, uniform(1, 700), kind);
        else if (kind == "mid-DATA")
            smtp.cut_on(FaultProxy::to_server, "DATA\r\n", uniform(0, 200), kind);
        else if (kind == "smtp reply lost")  // the whole message went up; its reply never comes back
            smtp.cut_on(FaultProxy::to_server, "\r\n.\r\n", 0, kind);
        else if (kind == "smtp before QUIT")  // the reply came back; the session dies after it
            smtp.cut_on(FaultProxy::to_server, "QUIT", -4, kind);

        if (&proxy == &smtp) {
            submit_one();
            if (wait_fired(smtp, before, 200ms)) ++fired;
            append_mail();
        } else {
            append_mail();
            if (kind == "imap random" || kind == "mid-IDLE") submit_one();
            // A draft cut needs a call to end meanwhile: one ends every 2-3 s.
            if (wait_fired(imap, before, kind.find("APPEND") != std::string::npos ? 8s : 4s)) {
                ++fired;
                append_mail();  // arrives while the folder is cut off: found after the reconnect
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(uniform(100, 600)));
        }
    }
    imap.disarm();
    smtp.disarm();
    const auto faults_done = Clock::now();

    // Settle: every call written ends, every draft retry (10 s, 20 s, … after a failed attempt)
    // runs, every message is read.
    const std::time_t last_end = calendar->last_end();
    std::size_t expected_drafts = calendar->ended_by(last_end);
    std::vector<Draft> drafts;
    std::map<std::string, int> classified;
    const auto settle_deadline = Clock::now() + std::chrono::seconds(120 + 2 * static_cast<long>(wanted));
    auto count_mail = [&] {
        classified.clear();
        for (const auto& n : d.notifications_)
            if (n["kind"] == "customer_mail") ++classified[n["message_id"].get<std::string>()];
    };
    while (Clock::now() < settle_deadline) {
        std::this_thread::sleep_for(300ms);
        d.call("status");  // collects the notifications that came meanwhile (a receive timeout would drop the client)
        count_mail();
        drafts = drafts_in(dovecot);
        if (std::time(nullptr) > last_end + 2 && drafts.size() >= expected_drafts + sent_ids &&
            classified.size() >= mail_ids.size())
            break;
    }
    std::this_thread::sleep_for(3s);  // and nothing more comes
    d.call("status");
    count_mail();
    drafts = drafts_in(dovecot);
    std::set<std::string> summaries, fyis;  // distinct draft ids by kind ("d-…" summary, "f-…" FYI)
    for (const auto& dr : drafts) (dr.id.rfind("d-", 0) == 0 ? summaries : fyis).insert(dr.id);
    std::map<std::string, int> at_sink;
    {
        std::istringstream in(read_file(sink_dir / "accepted.txt"));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) ++at_sink[line];
    }

    // The figures, printed whether or not the checks below pass.
    std::ostringstream figures;
    figures << "fault test: " << wanted << " cuts wanted, " << imap.cut_count() + smtp.cut_count() << " fired ("
            << missed << " armed but not reached), " << iteration << " rounds, "
            << std::chrono::duration<double>(faults_done - started).count() << " s of faults, "
            << std::chrono::duration<double>(Clock::now() - started).count() << " s in all\n";
    for (const auto& [label, n] : imap.cuts()) figures << "  imap cut  " << label << ": " << n << "\n";
    for (const auto& [label, n] : smtp.cuts()) figures << "  smtp cut  " << label << ": " << n << "\n";
    std::size_t window = 0, doubled = 0;
    for (const auto& [id, n] : allowed_extra) window += static_cast<std::size_t>(n);
    for (const auto& [id, n] : at_sink) doubled += n > 1 ? static_cast<std::size_t>(n - 1) : 0;
    figures << "  stalls imap " << imap.stalls() << ", smtp " << smtp.stalls() << "; trickle phases "
            << imap.trickles() << "; imap connections " << imap.connections() << ", smtp " << smtp.connections()
            << "\n  messages " << mail_ids.size() << ", classified " << classified.size() << "\n  drafts "
            << drafts.size() << ": " << summaries.size() << " summaries of " << expected_drafts << " calls, "
            << fyis.size() << " FYI of " << sent_ids << " Sent messages\n  submissions " << submissions << " ("
            << attempts << " attempts, " << given_up << " given up), accepted " << accepted.size() << ", at sink "
            << at_sink.size() << " distinct, " << doubled << " extra copies (" << window
            << " cuts in the reply window after DATA)\n";
    std::cout << figures.str() << std::flush;
    INFO(figures.str());
    INFO("rapportd log tail:\n" << [&] {
        const std::string log = d.log();
        return log.size() > 6000 ? log.substr(log.size() - 6000) : log;
    }());

    // The faults really happened, of every kind.
    CHECK(imap.cut_count() + smtp.cut_count() >= wanted);
    for (const char* kind : {"mid-FETCH", "mid-IDLE", "mid-APPEND", "APPEND reply lost", "imap random"})
        CHECK(imap.cuts()[kind] > 0);
    for (const char* kind : {"smtp random", "mid-DATA", "smtp reply lost", "smtp before QUIT"}) CHECK(smtp.cuts()[kind] > 0);
    CHECK(imap.stalls() > 0);
    CHECK(imap.trickles() == 1);

    // Every message classified exactly once.
    for (const auto& id : mail_ids) {
        INFO("message " << id);
        CHECK(classified[id] == 1);
    }
    CHECK(classified.size() == mail_ids.size());
    // Every call that ended drafted exactly once, and every Sent message without the owner
    // given its FYI draft exactly once.
    for (const auto& [id, n] : count_by_id(drafts)) {
        INFO("draft " << id);
        CHECK(n == 1);
    }
    CHECK(summaries.size() == expected_drafts);
    CHECK(fyis.size() == sent_ids);
    // Every submission the client saw accepted is at the sink exactly once, plus one copy per
    // cut in the reply window (the documented SMTP trade-off); nothing else reaches the sink.
    CHECK(given_up == 0);
    for (const auto& [id, n] : accepted) {
        INFO("submission " << id);
        CHECK(at_sink[id] == 1 + allowed_extra[id]);
    }
    for (const auto& [id, n] : at_sink) {
        INFO("at the sink " << id);
        CHECK(accepted.count(id) + static_cast<std::size_t>(allowed_extra[id]) >= static_cast<std::size_t>(n));
    }
    sink.stop();
}

// Crashes: kill -9 rapportd again and again while everything it does is in flight — customer
// mail arriving in INBOX and Sent, customer meetings ending (summary drafts), nudges coming due,
// messages going through the submission listener — and start it again each time. Afterwards
// the state database is intact and every piece of work happened exactly once: one
// customer_mail per Message-ID, one draft per meeting, one nudge_due per nudge (also for a
// nudge due while the daemon was down), each accepted submission relayed once.
//
// RAPPORT_STRESS_KILLS sets the number of kills (default 20, the CI form; 200 is the full form).
#include <catch2/catch.hpp>

#include <array>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "dovecot_fixture.hpp"
#include "drafts_folder.hpp"
#include "rapportd_fixture.hpp"
#include "test_time_text.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int kills_wanted() {
    const char* v = std::getenv("RAPPORT_STRESS_KILLS");
    return v && *v ? std::max(1, std::atoi(v)) : 20;
}

// Accounts lost0… are marked lost one per start (their follow-up nudges come due during the
// kills); acme gets the mail, the meetings and the submissions.
std::string rules(int lost_accounts) {
    json accounts = json::array();
    accounts.push_back({{"id", "acme"}, {"name", "Acme Corp"}, {"domains", {"acme.example"}}, {"owner", "bob"},
                        {"contacts", {{{"address", "jane@acme.example"}, {"name", "Jane Doe"}, {"champion", true}}}}});
    for (int i = 0; i < lost_accounts; ++i)
        accounts.push_back({{"id", "lost" + std::to_string(i)}, {"name", "Lost " + std::to_string(i)},
                            {"domains", {"lost" + std::to_string(i) + ".example"}}, {"owner", "bob"}});
    return json{{"organization", {{"name", "Vendor Inc"}, {"domains", {"vendor.example"}}}},
                {"people", {{{"id", "bob"}, {"name", "Bob Rep"}, {"addresses", {"bob@vendor.example"}}},
                            {{"id", "mia"}, {"name", "Mia Marketing"}, {"addresses", {"mia@vendor.example"}}}}},
                {"accounts", accounts},
                {"rules", {{"summary_drafts", {{"delay", "PT1S"}, {"min_duration", "PT10M"}, {"catch_up", "PT24H"}}},
                           {"loss", {{"nudges", {"PT3S", "PT7S", "PT12S"}}}}}}}
        .dump(2);
}

std::time_t from_iso(const std::string& iso) {  // 2026-12-02T07:00:00Z
    std::tm tm{};
    strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return timegm(&tm);
}

// A 10-minute customer call (the shortest that gets a draft) ending at `end`.
std::string meeting(int n, std::time_t end) {
    return "BEGIN:VEVENT\r\nUID:crash-" + std::to_string(n) + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" +
           ical_utc(end - 600) + "\r\nDTEND:" + ical_utc(end) + "\r\nSUMMARY:Acme call " + std::to_string(n) +
           " end\r\nORGANIZER;CN=Mia Marketing:mailto:mia@vendor.example\r\n"
           "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:MAILTO:jane@acme.example\r\n"
           "ATTENDEE;CN=Mia Marketing;PARTSTAT=ACCEPTED:MAILTO:mia@vendor.example\r\nEND:VEVENT\r\n";
}

// The upstream sink (aiosmtpd) and a submission client (smtplib) in one Python process. The
// client sends one message per session, each with a new Message-ID, and never retries: a
// message it saw accepted (250 after DATA) is "ack", one whose session was cut is "cut" (and
// "down" when it found no listener). The
// sink writes each Message-ID it receives, one line each, flushed at once.
const char* kSmtpHelper = R"py(
import email.parser, os, smtplib, sys, threading, time
from aiosmtpd.controller import Controller
sink_port, sub_port, token_file, workdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
got = open(os.path.join(workdir, "sink.txt"), "a", buffering=1)
lock = threading.Lock()
class Sink:
    async def handle_DATA(self, server, session, envelope):
        mid = email.parser.BytesHeaderParser().parsebytes(envelope.original_content).get("Message-ID", "")
        with lock:
            got.write(mid.strip() + "\n")
        return "250 2.0.0 Ok"
c = Controller(Sink(), hostname="127.0.0.1", port=sink_port, decode_data=False)
c.start()
log = open(os.path.join(workdir, "client.txt"), "a", buffering=1)
print("sink ready", flush=True)
n = 0
while not os.path.exists(os.path.join(workdir, "stop")):
    n += 1
    mid = "<sub-%d@vendor.example>" % n
    msg = ("From: Mia Marketing <mia@vendor.example>\r\nTo: Jane Doe <jane@acme.example>\r\n"
           "Subject: submission %d\r\nMessage-ID: %s\r\n\r\nHello %d\r\n" % (n, mid, n)).encode()
    try:
        s = smtplib.SMTP("127.0.0.1", sub_port, timeout=5)
    except Exception as e:
        log.write("down %s %s\n" % (mid, type(e).__name__))  # no session: the daemon is not up
        time.sleep(0.1)
        continue
    try:
        log.write("try %s\n" % mid)
        s.login("mia", open(token_file).read().strip())
        s.sendmail("mia@vendor.example", ["jane@acme.example"], msg)
        log.write("ack %s\n" % mid)
        try:
            s.quit()
        except Exception:
            pass
    except Exception as e:
        log.write("cut %s %s\n" % (mid, type(e).__name__))
        time.sleep(0.05)
    time.sleep(0.05)
c.stop()
print("client stopped", flush=True)
)py";

std::vector<std::string> lines_of(const std::string& path) {
    std::vector<std::string> out;
    std::istringstream in(read_file(path));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

// A query on the state database, opened read-only by the sqlite3 shell; rows of tab-separated fields.
std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
    auto [status, out] = run({"sqlite3", "-readonly", "-separator", "\t", db, sql});
    if (status != 0) throw std::runtime_error("sqlite3 failed on " + db + " (" + sql + "): " + out);
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> f;
        std::size_t start = 0;
        for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            f.push_back(line.substr(start, tab - start));
        f.push_back(line.substr(start));
        rows.push_back(f);
    }
    return rows;
}

enum Phase { mail_flow, meeting_end, nudge_time, submission, kPhases };
const char* const kPhaseNames[] = {"mail flow", "meeting end", "nudge time", "submission"};

}  // namespace

TEST_CASE("kill -9 during mail, meeting ends, nudges and submissions: all done once, the database intact",
          "[stress][crash]") {
    const int kills_target = kills_wanted();
    const int lost_accounts = kills_target + 2;
    const auto began = Clock::now();
    DovecotFixture dovecot;
    const int sink_port = free_port(), submission_port = free_port();
    json settings = {
        {"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
        {"mailboxes", {{{"id", "work"}, {"poll_interval", "PT1S"},
                        {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                  {"username", dovecot.user()}, {"password", dovecot.password()}}},
                        {"folders", {{"watch", {"INBOX", "Sent"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}},
                        {"smtp", {{"host", "127.0.0.1"}, {"port", sink_port}, {"security", "none"}}},
                        {"submission", {{"port", submission_port}, {"max_connections", 30}}}}}},
        {"calendars", {{{"id", "work"}, {"url", "file:calendar.ics"}, {"poll_interval", "PT1S"}}}},
        {"log_level", "info"}};

    // Meetings end every 1.5 s from 5 s after the start; the calendar grows as the test goes
    // (written whole and renamed into place, as an editor would).
    std::vector<std::time_t> meeting_ends;
    std::string events;
    const std::time_t first_end = std::time(nullptr) + 5;
    auto extend_calendar = [&](const TempDir& dir, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const int n = static_cast<int>(meeting_ends.size());
            meeting_ends.push_back(first_end + static_cast<std::time_t>(n * 3 / 2));
            events += meeting(n, meeting_ends.back());
        }
        write_file(dir / "calendar.ics.new",
                   "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n" + events + "END:VCALENDAR\r\n");
        std::rename((dir / "calendar.ics.new").c_str(), (dir / "calendar.ics").c_str());
    };
    RapportdFixture d(rules(lost_accounts), settings, [&](const TempDir& dir) { extend_calendar(dir, 20); });
    const std::string db = d.dir() / "state/state.sqlite";

    // The API client as a plugin is: subscribes after the last notification it saw, on every start.
    std::map<long long, int> seen_notifications;           // notification id -> times received
    std::map<long long, std::set<long long>> nudge_told;   // nudge id -> notification ids
    long long last_seen = 0;
    auto harvest = [&] {
        for (const auto& n : d.notifications_) {
            const long long id = n.value("id", 0LL);
            if (++seen_notifications[id] == 1 && n.value("kind", "") == "nudge_due")
                nudge_told[n["nudge"]["id"].get<long long>()].insert(id);
            last_seen = std::max(last_seen, id);
        }
        d.notifications_.clear();
    };
    // Receives notifications for a while (and so also serves as the test's sleep). A timed-out
    // receive drops the WebSocket, so it asks for `status` every 20 ms instead: the
    // notifications sent before each answer are collected on the way.
    auto pump = [&](std::chrono::milliseconds how_long) {
        const auto until = Clock::now() + how_long;
        do {
            try {
                d.call("status");
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string("the API connection failed (") + e.what() + "); rapportd " +
                                         (d.running() ? "runs" : "exited") + ":\n" + d.log());
            }
            harvest();
            std::this_thread::sleep_for(std::min<Clock::duration>(20ms, std::max<Clock::duration>(until - Clock::now(), 0ms)));
        } while (Clock::now() < until);
    };
    std::map<long long, std::time_t> nudges_planned;  // id -> due
    int next_lost = 0;
    auto on_start = [&] {
        d.call("subscribe", {{"after", last_seen}});
        if (next_lost < lost_accounts) {
            const json lost = d.call("deal.lost", {{"account", "lost" + std::to_string(next_lost++)}});
            for (const auto& n : lost["nudges"]) nudges_planned[n["id"].get<long long>()] = from_iso(n["due"]);
        }
    };

    // Mail only counts as new once the first scan has drawn the history line.
    const json ready = d.wait_status([](const json& s) { return s["mailboxes"][0]["state"] == "idle"; }, 30s);
    REQUIRE(ready["mailboxes"][0]["state"] == "idle");
    on_start();

    Child smtp(std::vector<std::string>{"/usr/bin/python3", "-u", "-c", kSmtpHelper, std::to_string(sink_port),
                                        std::to_string(submission_port), d.dir() / "state/token", d.dir().path().string()},
               d.dir() / "smtp-helper.log");
    REQUIRE(smtp.wait_for_log("sink ready", 15s));

    // Customer mail, both ways, one message every ~150 ms for as long as the kills go on.
    std::atomic<bool> stop_mail{false};
    std::atomic<int> appended{0};
    std::mutex mail_mutex;
    std::vector<std::string> mail_ids;
    std::string mail_error;
    std::thread mailer([&] {
        for (int n = 1; !stop_mail; ++n) {
            const bool in = n % 2 == 1;
            const std::string mid = "<mail-" + std::to_string(n) + "@crash.test>";
            const std::string message =
                std::string(in ? "From: Jane Doe <jane@acme.example>\r\nTo: Mia Marketing <mia@vendor.example>\r\n"
                               : "From: Mia Marketing <mia@vendor.example>\r\nTo: Jane Doe <jane@acme.example>\r\n") +
                "Subject: crash mail " + std::to_string(n) + "\r\nMessage-ID: " + mid +
                "\r\nDate: " + rfc5322_date(std::time(nullptr)) + "\r\n\r\nBody " + std::to_string(n) + "\r\n";
            try {
                dovecot.append(in ? "INBOX" : "Sent", message);
                std::lock_guard<std::mutex> lock(mail_mutex);
                mail_ids.push_back(mid);
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(mail_mutex);
                mail_error = e.what();
                return;
            }
            ++appended;
            std::this_thread::sleep_for(150ms);
        }
    });
    struct StopMail {  // also when an assertion throws
        std::atomic<bool>& stop;
        std::thread& t;
        ~StopMail() {
            stop = true;
            if (t.joinable()) t.join();
        }
    } stop_mail_guard{stop_mail, mailer};

    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> jitter(0, 300);
    std::array<int, kPhases> kills_in{};
    int kills = 0, long_outages = 0;
    std::vector<std::pair<std::time_t, std::time_t>> down;  // (killed, started again)
    const std::string client_log = d.dir() / "client.txt";
    for (; kills < kills_target; ++kills) {
        const Phase phase = static_cast<Phase>(kills % kPhases);
        if (meeting_ends.back() < std::time(nullptr) + 15) extend_calendar(d.dir(), 10);
        switch (phase) {
            case mail_flow: {  // right after a message lands: while it is fetched and classified
                const int before = appended;
                const auto until = Clock::now() + 5s;
                while (appended == before && Clock::now() < until) pump(20ms);
                pump(std::chrono::milliseconds(jitter(rng)));
                break;
            }
            case meeting_end: {  // when the next meeting's draft is due (end + the 1 s delay)
                const std::time_t now = std::time(nullptr);
                std::time_t next = 0;
                for (auto e : meeting_ends)
                    if (e + 1 >= now) { next = e + 1; break; }
                if (next > now) pump(std::chrono::seconds(next - now));
                pump(std::chrono::milliseconds(jitter(rng)));
                break;
            }
            case nudge_time: {  // the second a nudge comes due
                const std::time_t now = std::time(nullptr);
                std::time_t next = 0;
                for (const auto& [id, due] : nudges_planned)
                    if (due >= now && (next == 0 || due < next)) next = due;
                if (next > now) pump(std::chrono::seconds(next - now));
                pump(std::chrono::milliseconds(jitter(rng) / 3));
                break;
            }
            case submission: {  // a session has just begun (login, MAIL, DATA, relay)
                auto sessions = [&] {
                    const auto l = lines_of(client_log);
                    return std::count_if(l.begin(), l.end(), [](const std::string& x) { return x.rfind("try ", 0) == 0; });
                };
                // A session on loopback lasts a few ms: watch the client's log closely and kill
                // at once (the notifications meanwhile are replayed after the restart).
                pump(1ms);
                const auto before = sessions();
                const auto until = Clock::now() + 5s;
                while (sessions() == before && Clock::now() < until) std::this_thread::sleep_for(1ms);
                break;
            }
            default: break;
        }
        harvest();
        d.kill_hard();
        ++kills_in[phase];
        const std::time_t killed = std::time(nullptr);
        // Every fifth kill stays down 2-4 s, so that nudges and meeting ends fall due meanwhile.
        if (kills % 5 == 4) {
            ++long_outages;
            std::this_thread::sleep_for(std::chrono::milliseconds(2000 + jitter(rng) * 6));
        }
        down.emplace_back(killed, std::time(nullptr));
        d.start();
        on_start();
    }
    const double kill_seconds = std::chrono::duration<double>(Clock::now() - began).count();
    stop_mail = true;
    mailer.join();
    write_file(d.dir() / "stop", "");
    REQUIRE(smtp.wait(20s) != -1);
    INFO("mail: " << mail_error);
    REQUIRE(mail_error.empty());

    // Let the last work finish: every nudge due, every meeting drafted, every message classified.
    std::time_t last_due = 0;
    for (const auto& [id, due] : nudges_planned) last_due = std::max(last_due, due);
    std::size_t meetings_due = 0;
    for (auto e : meeting_ends) meetings_due += e + 1 <= std::time(nullptr) + 1 ? 1 : 0;
    const auto settle_until = Clock::now() + 60s;
    while (Clock::now() < settle_until) {
        pump(500ms);
        if (std::time(nullptr) <= last_due + 1) continue;
        if (drafts_in(dovecot).size() < meetings_due) continue;
        const auto classified = query(db, "SELECT count(DISTINCT json_extract(extra, '$.message_id')) FROM notifications "
                                          "WHERE kind = 'customer_mail'");
        if (std::stoul(classified.at(0).at(0)) >= mail_ids.size()) break;
    }
    pump(2s);  // and nothing more comes
    // The drafts the calendar asks for: every meeting that ended (plus the delay) by now.
    meetings_due = 0;
    for (auto e : meeting_ends) meetings_due += e + 4 <= std::time(nullptr) ? 1 : 0;

    d.signal(SIGTERM);
    const auto stop_until = Clock::now() + 15s;
    while (d.running() && Clock::now() < stop_until) std::this_thread::sleep_for(20ms);
    REQUIRE_FALSE(d.running());
    const double total_seconds = std::chrono::duration<double>(Clock::now() - began).count();

    const auto client = lines_of(client_log);
    std::set<std::string> acked, cut;
    for (const auto& l : client) {
        if (l.rfind("ack ", 0) == 0) acked.insert(l.substr(4));
        if (l.rfind("cut ", 0) == 0) cut.insert(l.substr(4, l.find(' ', 4) - 4));
    }
    std::map<std::string, int> relayed;
    for (const auto& mid : lines_of(d.dir() / "sink.txt")) ++relayed[mid];

    // Nudges due while the daemon was down.
    int due_while_down = 0;
    for (const auto& [id, due] : nudges_planned)
        for (const auto& [from, to] : down)
            if (due > from && due < to) { ++due_while_down; break; }  // whole seconds strictly inside

    std::ostringstream phases;
    for (int p = 0; p < kPhases; ++p) phases << kPhaseNames[p] << ": " << kills_in[p] << "  ";
    WARN(kills << " kills (" << long_outages << " with 2-4 s down) in " << kill_seconds << " s, " << total_seconds
               << " s in all; kills by phase — " << phases.str() << "\n"
               << mail_ids.size() << " messages appended, " << meetings_due << " meetings ended, " << nudges_planned.size()
               << " nudges (" << due_while_down << " due while down), " << acked.size() << " submissions accepted, "
               << cut.size() << " cut by a kill, " << relayed.size() << " relayed");
    const std::string log = d.log();
    INFO("the last start's log, its end:\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));

    // The database: intact.
    CHECK(query(db, "PRAGMA integrity_check").at(0).at(0) == "ok");

    // Mail: each message classified once.
    std::map<std::string, int> classified;
    for (const auto& r : query(db, "SELECT json_extract(extra, '$.message_id'), count(*) FROM notifications "
                                   "WHERE kind = 'customer_mail' GROUP BY 1"))
        classified["<" + r.at(0) + ">"] = std::stoi(r.at(1));  // stored without the angle brackets
    for (const auto& mid : mail_ids) {
        INFO("message " << mid);
        CHECK(classified[mid] == 1);
    }
    CHECK(classified.size() == mail_ids.size());

    // Meetings: one draft per meeting that ended, in Drafts and in the store.
    // (The folder's Subject is RFC 2047-encoded; the store's is text, so meetings are told
    // apart by the store's row and the folder's X-Rapport-Draft id is matched to it.)
    const auto drafts = drafts_in(dovecot);
    // Mail to Jane in Sent leaves without her owner Bob: the Sent audit writes an FYI draft
    // for each such message, deduplicated like the summaries, so those are counted too.
    std::map<std::string, int> per_meeting;  // "Acme call N" -> summary drafts rows
    std::map<std::string, int> per_sent;     // "crash mail N" -> FYI drafts rows
    std::set<std::string> stored_ids;
    std::size_t summaries = 0;
    for (const auto& r : query(db, "SELECT id, kind, subject FROM drafts")) {
        stored_ids.insert(r.at(0));
        const std::string& subject = r.at(2);
        if (r.at(1) == "summary") {
            ++summaries;
            const auto at = subject.find("Acme call ");
            ++per_meeting[at == std::string::npos ? subject : subject.substr(at, subject.find(" end", at) - at)];
        } else {
            const auto at = subject.find("crash mail ");
            ++per_sent[at == std::string::npos ? subject : subject.substr(at)];
        }
    }
    for (const auto& mid : mail_ids) {
        const int n = std::stoi(mid.substr(6));  // <mail-N@…
        if (n % 2 == 1) continue;                // INBOX
        INFO("FYI draft for the Sent message " << mid);
        CHECK(per_sent["crash mail " + std::to_string(n)] == 1);
    }
    for (const auto& [subject, count] : per_sent) {
        INFO("FYI drafts rows for " << subject);
        CHECK(count == 1);
    }
    for (std::size_t n = 0; n < meetings_due; ++n) {
        INFO("meeting " << n);
        CHECK(per_meeting["Acme call " + std::to_string(n)] == 1);
    }
    for (const auto& [meeting, count] : per_meeting) {
        INFO("drafts rows for " << meeting);
        CHECK(count == 1);
    }
    const auto in_folder = count_by_id(drafts);
    for (const auto& [id, count] : in_folder) {
        INFO("draft " << id << " in Drafts");
        CHECK(count == 1);
        CHECK(stored_ids.count(id) == 1u);
    }
    CHECK(in_folder.size() == stored_ids.size());
    CHECK(summaries >= meetings_due);
    CHECK(summaries <= meetings_due + 3);  // those that ended in the last 4 s may be in or not

    // Nudges: each fired once, stored once and told once to the client.
    std::map<long long, int> fired;
    for (const auto& r : query(db, "SELECT json_extract(extra, '$.nudge.id'), count(*) FROM notifications "
                                   "WHERE kind = 'nudge_due' GROUP BY 1"))
        fired[std::stoll(r.at(0))] = std::stoi(r.at(1));
    std::map<long long, std::string> state;
    for (const auto& r : query(db, "SELECT id, state FROM nudges")) state[std::stoll(r.at(0))] = r.at(1);
    for (const auto& [id, due] : nudges_planned) {
        INFO("nudge " << id << " due " << due);
        CHECK(state[id] == "due");
        CHECK(fired[id] == 1);
        CHECK(nudge_told[id].size() == 1);
    }
    for (const auto& [id, count] : fired) {
        INFO("nudge " << id);
        CHECK(count == 1);
    }
    for (const auto& [id, times] : seen_notifications) {
        INFO("notification " << id);
        CHECK(times == 1);
    }

    // Submissions: accepted → relayed once; cut → relayed at most once; nothing relayed twice.
    for (const auto& mid : acked) {
        INFO("accepted " << mid);
        CHECK(relayed[mid] == 1);
    }
    for (const auto& [mid, count] : relayed) {
        INFO("relayed " << mid);
        CHECK(count == 1);
        CHECK(acked.count(mid) + cut.count(mid) == 1u);
    }
    CHECK(acked.size() >= static_cast<std::size_t>(kills / 4));  // the flow went on between kills
    if (kills >= 8) CHECK(!cut.empty());                          // and kills cut sessions short

    // The kills hit every phase, and some nudges were due while the daemon was down.
    for (int p = 0; p < kPhases; ++p) CHECK((kills_in[p] > 0 || kills < kPhases));
    if (kills >= 5) CHECK(due_while_down > 0);
}

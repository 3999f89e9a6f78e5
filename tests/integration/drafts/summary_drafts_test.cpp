// Summary drafts end to end: an .ics file with customer calls, a real Dovecot, a real rapportd.
// What the user sees — the drafts in the Drafts folder, read back with doveadm (not through
// rapportd) — must be exactly one draft per occurrence, also across restarts, kill -9 at any
// moment, and a server that drops the connection mid-APPEND.
#include <catch2/catch.hpp>

#include <ctime>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "dovecot_fixture.hpp"
#include "drafts_folder.hpp"
#include "radicale_fixture.hpp"
#include "rapportd_fixture.hpp"
#include "test_time_text.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true}]}],
  "rules": {"summary_drafts": {"delay": "PT1S", "min_duration": "PT10M", "catch_up": "PT24H"}}
})";

std::string event(const std::string& uid, long start, long end, const std::string& title, const std::string& extra = "") {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" + ical_in(start) +
           "\r\nDTEND:" + ical_in(end) + "\r\nSUMMARY:" + title +
           "\r\nDESCRIPTION:Agenda: pricing\\, roll-out plan\\nQuestions from Jane\r\n"
           "ORGANIZER;CN=Mia Marketing:mailto:mia@vendor.example\r\n"
           "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:MAILTO:jane@acme.example\r\n"
           "ATTENDEE;CN=Mia Marketing;PARTSTAT=ACCEPTED:MAILTO:mia@vendor.example\r\n" +
           extra + "END:VEVENT\r\n";
}

std::string calendar(const std::string& events) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n" + events + "END:VCALENDAR\r\n";
}

json settings(DovecotFixture& dovecot) {
    return {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
            {"mailboxes", {{{"id", "work"}, {"poll_interval", "PT30S"},
                            {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                      {"username", dovecot.user()}, {"password", dovecot.password()}}},
                            {"folders", {{"watch", {"INBOX"}}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}},
            {"calendars", {{{"id", "work"}, {"url", "file:calendar.ics"}, {"poll_interval", "PT1S"}}}}};
}

}  // namespace

TEST_CASE("a customer call that just ended gives exactly one draft, in Drafts, once", "[drafts]") {
    DovecotFixture dovecot;
    RapportdFixture d(kRules, settings(dovecot), [](const TempDir& dir) {
        write_file(dir / "calendar.ics", calendar(event("qbr-1", -32 * 60, -2, "Acme QBR — Überblick")));
    });
    d.call("subscribe", {{"after", 0}});
    auto drafts = wait_drafts(dovecot, 1, 20s);
    INFO(d.log());
    INFO("doveadm: " << last_doveadm_output);
    REQUIRE(drafts.size() == 1);
    const auto& draft = drafts[0];
    CHECK(draft.flags.find("\\Draft") != std::string::npos);
    CHECK(draft.flags.find("\\Seen") == std::string::npos);
    CHECK(draft.id.rfind("d-", 0) == 0);
    CHECK(draft.to.find("jane@acme.example") != std::string::npos);
    CHECK(draft.cc.find("bob@vendor.example") != std::string::npos);  // the owner; the user is not him
    auto n = d.wait_notification([](const json& x) { return x["kind"] == "summary_draft"; }, 10s);
    REQUIRE(n);
    CHECK((*n)["mailbox"] == "work");
    CHECK((*n)["account"] == "acme");
    const json listed = d.call("drafts.list");
    REQUIRE(listed["drafts"].size() == 1);
    CHECK(listed["drafts"][0]["id"] == draft.id);
    CHECK(listed["drafts"][0]["kind"] == "summary");

    // A restart decides nothing again: the end is recorded, the intent is done.
    d.restart();
    std::this_thread::sleep_for(3s);
    CHECK(drafts_in(dovecot).size() == 1);
    // A draft the user deleted is not re-created.
    dovecot.doveadm({"expunge", "-u", dovecot.user(), "mailbox", "Drafts", "all"});
    d.restart();
    std::this_thread::sleep_for(3s);
    CHECK(drafts_in(dovecot).empty());
}

TEST_CASE("one draft per occurrence of a recurring call; none for cancelled or short ones", "[drafts]") {
    DovecotFixture dovecot;
    // Five half-hour calls an hour apart, the last ending 10 minutes ago; the third cancelled.
    const long first = -5 * 3600 - 40 * 60;
    const std::string third = ical_in(first + 2 * 3600);
    const std::string events =
        event("weekly", first, first + 30 * 60, "Acme sync", "RRULE:FREQ=HOURLY;COUNT=5\r\n") +
        "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID:" + third + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" + third +
        "\r\nDTEND:" + ical_in(first + 2 * 3600 + 30 * 60) +
        "\r\nSUMMARY:Acme sync\r\nSTATUS:CANCELLED\r\nORGANIZER:mailto:mia@vendor.example\r\n"
        "ATTENDEE:MAILTO:jane@acme.example\r\nEND:VEVENT\r\n" +
        event("short", -20 * 60, -15 * 60, "Quick Acme call");
    RapportdFixture d(kRules, settings(dovecot), [&](const TempDir& dir) { write_file(dir / "calendar.ics", calendar(events)); });
    auto drafts = wait_drafts(dovecot, 4, 20s);
    std::this_thread::sleep_for(2s);  // and no more come
    drafts = drafts_in(dovecot);
    INFO(d.log());
    CHECK(drafts.size() == 4);
    for (const auto& [id, n] : count_by_id(drafts)) CHECK(n == 1);
    CHECK(d.call("drafts.list")["drafts"].size() == 4);
}

TEST_CASE("kill -9 at random moments while drafting: exactly one draft per occurrence, none missing", "[drafts][crash]") {
    DovecotFixture dovecot;
    // 290 calls of 20 minutes every 4 minutes over the last 20 hours: 290 drafts to write, a
    // few seconds of work, so that random kills land before, between and right after APPENDs.
    const long first = -20 * 3600;
    constexpr std::size_t kDrafts = 290;  // the last ends 24 minutes ago
    RapportdFixture d(kRules, settings(dovecot), [&](const TempDir& dir) {
        write_file(dir / "calendar.ics",
                   calendar(event("standup", first, first + 20 * 60, "Acme stand-up", "RRULE:FREQ=MINUTELY;INTERVAL=4;COUNT=290\r\n")));
    });
    std::mt19937 rng(std::random_device{}());
    // Short pauses: a run appends a draft every few milliseconds (seen: 83 of 290 within one
    // 0-400 ms pause), and the kills must land mid-way, many times.
    std::uniform_int_distribution<int> pause_ms(0, 100);
    std::size_t kills = 0, mid_way = 0;
    std::vector<std::size_t> seen_at_kill;
    for (; kills < 50; ++kills) {
        // Kill while this run is drafting, not while it starts: under the sanitizers a start
        // alone can take longer than the pause (seen: 50 kills, none after the first APPEND).
        d.wait_for_log("appended to", 15s);
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
        d.kill_hard();
        const std::size_t present = drafts_in(dovecot).size();
        seen_at_kill.push_back(present);
        if (present > 0 && present < kDrafts) ++mid_way;
        d.start();
        if (present >= kDrafts) break;  // all written: further kills would only repeat the check below
    }
    std::ostringstream trace;
    for (auto n : seen_at_kill) trace << n << ' ';
    WARN("drafts in Drafts at each kill: " << trace.str());
    // The kills must have hit the work, not only a finished job.
    CHECK(mid_way >= 5);
    auto drafts = wait_drafts(dovecot, kDrafts, 120s);
    std::this_thread::sleep_for(2s);
    drafts = drafts_in(dovecot);
    INFO("after " << kills << " kills\n" << d.log());
    CHECK(drafts.size() == kDrafts);
    const auto counts = count_by_id(drafts);
    CHECK(counts.size() == kDrafts);
    for (const auto& [id, n] : counts) {
        INFO("draft " << id);
        CHECK(n == 1);
    }
    CHECK(d.call("drafts.list")["drafts"].size() == kDrafts);
}

TEST_CASE("a server that goes away mid-drafting: retried, nothing doubled", "[drafts][outage]") {
    DovecotFixture dovecot;
    const long first = -20 * 3600;
    RapportdFixture d(kRules, settings(dovecot), [&](const TempDir& dir) {
        write_file(dir / "calendar.ics",
                   calendar(event("standup", first, first + 20 * 60, "Acme stand-up", "RRULE:FREQ=MINUTELY;INTERVAL=30;COUNT=40\r\n")));
    });
    // Cut the server (and its sessions) as soon as the first drafts arrive.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (drafts_in(dovecot).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    dovecot.kill_now();
    // While it is down, status says why drafts wait.
    json status;
    const auto until = std::chrono::steady_clock::now() + 10s;
    do {
        std::this_thread::sleep_for(200ms);
        status = d.call("status");
    } while (status["mailboxes"][0]["drafts"]["last_error"].is_null() && std::chrono::steady_clock::now() < until);
    // On a loaded machine all 40 may be in before the cut; otherwise the waiting ones say why.
    const bool waiting = status["mailboxes"][0]["drafts"]["pending"].get<int>() > 0;
    INFO(status.dump());
    CHECK((!waiting || status["mailboxes"][0]["drafts"]["last_error"].is_string()));
    dovecot.restart();
    auto drafts = wait_drafts(dovecot, 40, 90s);
    std::this_thread::sleep_for(2s);
    drafts = drafts_in(dovecot);
    INFO(d.log());
    CHECK(drafts.size() == 40);
    for (const auto& [id, n] : count_by_id(drafts)) CHECK(n == 1);
}

TEST_CASE("a call from a CalDAV calendar on a real Radicale gives its draft too", "[drafts][caldav]") {
    DovecotFixture dovecot;
    RadicaleServer radicale;
    REQUIRE(radicale.make_calendar("work").status < 300);
    REQUIRE(radicale.put_event("work", "call.ics", calendar(event("dav-call", -40 * 60, -3, "Acme roll-out review"))).status < 300);
    json s = settings(dovecot);
    s["calendars"] = {{{"id", "work"},
                       {"url", "caldav+" + radicale.origin() + radicale.collection_path("work")},
                       {"username", radicale.options().user},
                       {"password", radicale.options().password},
                       {"poll_interval", "PT1S"}}};
    RapportdFixture d(kRules, s);
    auto drafts = wait_drafts(dovecot, 1, 30s);
    std::this_thread::sleep_for(2s);
    drafts = drafts_in(dovecot);
    INFO(d.log());
    REQUIRE(drafts.size() == 1);
    const json listed = d.call("drafts.list")["drafts"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["id"] == drafts[0].id);
    CHECK(listed[0]["subject"].get<std::string>().find("Acme roll-out review") != std::string::npos);
    CHECK(drafts[0].flags.find("\\Draft") != std::string::npos);
}

TEST_CASE("a mailbox without a Drafts folder gets one, and the draft goes there", "[drafts]") {
    DovecotFixture::Options o;
    o.folders = {"Sent"};  // no Drafts
    DovecotFixture dovecot(o);
    RapportdFixture d(kRules, settings(dovecot), [](const TempDir& dir) {
        write_file(dir / "calendar.ics", calendar(event("qbr-2", -32 * 60, -2, "Acme QBR")));
    });
    auto drafts = wait_drafts(dovecot, 1, 20s);
    INFO(d.log());
    REQUIRE(drafts.size() == 1);
    CHECK(d.log().find("creating the folder \"Drafts\"") != std::string::npos);
}

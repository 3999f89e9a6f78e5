// rapportd's calendar side end to end: an .ics file, an ICS feed over local HTTP and a real
// Radicale; the customer meetings it lists, and each occurrence ending exactly once.
#include <catch2/catch.hpp>

#include <ctime>

#include "radicale_fixture.hpp"
#include "rapportd_fixture.hpp"
#include "test_time_text.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]}],
  "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
                "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}]
})";

std::string iso_time(const std::string& ical) {  // 20261125T101500Z -> 2026-11-25T10:15:00Z
    return ical.substr(0, 4) + "-" + ical.substr(4, 2) + "-" + ical.substr(6, 2) + "T" + ical.substr(9, 2) + ":" +
           ical.substr(11, 2) + ":" + ical.substr(13, 2) + "Z";
}

std::string event(const std::string& uid, const std::string& start, const std::string& end, const std::string& title,
                  const std::string& attendee = "jane@acme.example", const std::string& extra = "") {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end +
           "\r\nSUMMARY:" + title + "\r\nORGANIZER;CN=Bob Rep:mailto:bob@vendor.example\r\nATTENDEE;PARTSTAT=ACCEPTED:MAILTO:" +
           attendee + "\r\n" + extra + "END:VEVENT\r\n";
}

std::string calendar(const std::string& events) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n" + events + "END:VCALENDAR\r\n";
}

json meeting(RapportdFixture& d, const std::string& uid) {
    const json list = d.call("meetings.list");  // kept alive: the loop reads inside it
    for (const auto& m : list["meetings"])
        if (m["uid"] == uid) return m;
    return nullptr;
}

json wait_meeting(RapportdFixture& d, const std::string& uid, const std::function<bool(const json&)>& pred,
                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json m = meeting(d, uid);
    while (!pred(m) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        m = meeting(d, uid);
    }
    return m;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
    return n;
}

json file_settings(const std::string& path) {
    return {{"calendars", {{{"id", "work"}, {"url", "file:" + path}, {"poll_interval", "PT1S"}}}}};
}

}  // namespace

TEST_CASE("customer meetings from an .ics file: listed in UTC, ended once, edits picked up", "[meetings]") {
    TempDir cal;
    const auto soon_start = ical_in(-1800), soon_end = ical_in(3);
    const auto later_start = ical_in(86400), later_end = ical_in(86400 + 3600);
    write_file(cal / "work.ics",
               calendar(event("ends-soon", soon_start, soon_end, "Acme weekly") +
                        event("tomorrow", later_start, later_end, "Acme QBR") +
                        event("internal", later_start, later_end, "Team sync", "mia@vendor.example") +
                        "BEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:no start\r\nEND:VEVENT\r\n"));
    RapportdFixture d(kRules, file_settings(cal / "work.ics"));

    auto status = d.wait_status([](const json& s) { return !s["calendars"][0]["last_sync"].is_null(); }, 10s);
    CHECK(status["calendars"][0]["customer_meetings"] == 2);  // the internal one is not
    CHECK(status["calendars"][0]["last_error"].is_null());
    auto qbr = meeting(d, "tomorrow");
    REQUIRE(qbr.is_object());
    CHECK(qbr["start"] == iso_time(later_start));
    CHECK(qbr["end"] == iso_time(later_end));
    CHECK(qbr["accounts"] == json::array({"acme"}));
    CHECK(qbr["state"] == "upcoming");
    CHECK(meeting(d, "internal").is_null());

    // The meeting ends at its end time (within the one-second timer margin), once.
    CHECK(d.wait_for_log("customer meeting ended: \"Acme weekly\"", 8s));
    CHECK(wait_meeting(d, "ends-soon", [](const json& m) { return m.is_object() && m["state"] == "ended"; }, 3s)["state"] == "ended");
    std::this_thread::sleep_for(2500ms);  // a few more polls and timer runs
    CHECK(count(d.log(), "customer meeting ended: \"Acme weekly\"") == 1);

    // Moved by an edit: picked up within one poll (1 s).
    const auto moved_start = ical_in(2 * 86400), moved_end = ical_in(2 * 86400 + 1800);
    write_file(cal / "work.ics", calendar(event("ends-soon", soon_start, soon_end, "Acme weekly") +
                                          event("tomorrow", moved_start, moved_end, "Acme QBR (moved)")));
    auto moved = wait_meeting(d, "tomorrow", [&](const json& m) { return m.is_object() && m["start"] == iso_time(moved_start); }, 3s);
    CHECK(moved["start"] == iso_time(moved_start));
    CHECK(moved["title"] == "Acme QBR (moved)");

    // A restart does not end it again.
    d.restart();
    d.wait_status([](const json& s) { return !s["calendars"][0]["last_sync"].is_null(); }, 10s);
    std::this_thread::sleep_for(1500ms);
    CHECK(count(d.log(), "customer meeting ended") == 0);
}

TEST_CASE("meetings that ended while the daemon was down: caught up within catch_up only", "[meetings]") {
    TempDir cal;
    write_file(cal / "work.ics",
               calendar(event("two-hours-ago", ical_in(-3 * 3600), ical_in(-2 * 3600), "Recent call") +
                        event("three-days-ago", ical_in(-3 * 86400 - 3600), ical_in(-3 * 86400), "Old call") +
                        event("cancelled", ical_in(-3 * 3600), ical_in(-2 * 3600), "Cancelled call", "jane@acme.example",
                              "STATUS:CANCELLED\r\n")));
    RapportdFixture d(kRules, file_settings(cal / "work.ics"));
    CHECK(d.wait_for_log("customer meeting ended: \"Recent call\"", 8s));
    CHECK(d.wait_for_log("customer meeting \"Old call\" ended", 3s));
    CHECK(d.log().find("before the catch-up window") != std::string::npos);
    CHECK(d.log().find("Cancelled call\"") == std::string::npos);
    CHECK(meeting(d, "cancelled")["state"] == "cancelled");
}

TEST_CASE("a CalDAV collection on a real Radicale: created, changed and deleted events", "[meetings][caldav]") {
    RadicaleServer radicale;
    REQUIRE(radicale.make_calendar("work").status < 300);
    const auto start = ical_in(3600), end = ical_in(7200);
    REQUIRE(radicale.put_event("work", "a.ics", calendar(event("dav-1", start, end, "Acme via CalDAV"))).status < 300);
    json settings = {{"calendars", {{{"id", "dav"},
                                     {"url", "caldav+" + radicale.origin() + radicale.collection_path("work")},
                                     {"username", radicale.options().user},
                                     {"password", radicale.options().password},
                                     {"poll_interval", "PT1S"}}}}};
    RapportdFixture d(kRules, settings);
    auto m = wait_meeting(d, "dav-1", [](const json& x) { return x.is_object(); }, 10s);
    INFO(d.log());
    REQUIRE(m.is_object());
    CHECK(m["calendar"] == "dav");
    CHECK(m["start"] == iso_time(start));

    const auto new_start = ical_in(5400), new_end = ical_in(9000);
    REQUIRE(radicale.put_event("work", "a.ics", calendar(event("dav-1", new_start, new_end, "Acme via CalDAV"))).status < 300);
    CHECK(wait_meeting(d, "dav-1", [&](const json& x) { return x.is_object() && x["start"] == iso_time(new_start); }, 4s)["start"] ==
          iso_time(new_start));

    REQUIRE(radicale.delete_event("work", "a.ics").status < 300);
    CHECK(wait_meeting(d, "dav-1", [](const json& x) { return x.is_null(); }, 4s).is_null());
}

TEST_CASE("an ICS feed over HTTP, and a feed that answers HTML or 500", "[meetings][feed]") {
    TempDir web;
    write_file(web / "good.ics", calendar(event("feed-1", ical_in(3600), ical_in(5400), "Acme from the feed")));
    write_file(web / "page.ics", "<html><body>Please log in</body></html>");
    const int port = free_port();
    Child server({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory",
                  web.path().string()},
                 web / "server.log");
    REQUIRE(wait_for_port(port));
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    json settings = {{"calendars", {{{"id", "feed"}, {"url", base + "/good.ics"}, {"poll_interval", "PT1S"}},
                                    {{"id", "html"}, {"url", base + "/page.ics"}, {"poll_interval", "PT1S"}},
                                    {{"id", "missing"}, {"url", base + "/nope.ics"}, {"poll_interval", "PT1S"}}}}};
    RapportdFixture d(kRules, settings);
    auto m = wait_meeting(d, "feed-1", [](const json& x) { return x.is_object(); }, 10s);
    REQUIRE(m.is_object());
    CHECK(m["title"] == "Acme from the feed");
    auto status = d.wait_status([](const json& s) {
        return s["calendars"][1]["last_error"].is_string() && s["calendars"][2]["last_error"].is_string();
    }, 10s);
    INFO(status.dump());
    CHECK(status["calendars"][0]["last_error"].is_null());
    CHECK(status["calendars"][1]["state"] == "error");
    CHECK(status["calendars"][2]["state"] == "error");
    CHECK(status["calendars"][2]["last_error"].get<std::string>().find("404") != std::string::npos);
    CHECK(d.running());
}

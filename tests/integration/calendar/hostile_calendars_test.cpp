// Isolation: a real rapportd with 92 calendars — 84 good ones (42 ICS feeds, 42 files, one
// customer meeting each), the six hostile feeds of issue #15 (an HTML page, HTTP 500, HTTP 404,
// an empty body, 10 MB of junk, FREQ=SECONDLY;COUNT=1000000000 in twenty events) and two slow
// ones (a feed that stalls after its headers, one that trickles a byte every half second).
// Within 5 s of starting the daemon every good calendar must be read, with its meeting, and
// every one of the six must show its error in `status`. The slow two only must not hold up the
// others: their own timeouts are longer than the test.
#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>

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

constexpr int kGoodFeeds = 42;
constexpr int kGoodFiles = 42;
constexpr auto kLimit = 5s;

std::string calendar(const std::string& events) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n" + events + "END:VCALENDAR\r\n";
}

std::string customer_meeting(const std::string& uid, long offset) {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:" + ical_in(offset) +
           "\r\nDTEND:" + ical_in(offset + 1800) + "\r\nSUMMARY:Acme review " + uid +
           "\r\nORGANIZER;CN=Bob Rep:mailto:bob@vendor.example\r\nATTENDEE;PARTSTAT=ACCEPTED:MAILTO:jane@acme.example\r\n"
           "END:VEVENT\r\n";
}

// Twenty series of one instance per second for 31 years, starting before the window.
std::string runaway_recurrences() {
    std::string events;
    for (int i = 0; i < 20; ++i)
        events += "BEGIN:VEVENT\r\nUID:every-second-" + std::to_string(i) + "\r\nDTSTART:" + ical_in(-10 * 86400 + i) +
                  "\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY;COUNT=1000000000\r\nSUMMARY:Every second\r\n"
                  "ATTENDEE:MAILTO:jane@acme.example\r\nEND:VEVENT\r\n";
    return calendar(events);
}

struct Hostile {
    std::string id;
    std::string path;           // on the feed server
    std::string error_part;     // expected in last_error
};

const std::vector<Hostile> kHostile = {
    {"html", "/login.ics", "not an iCalendar"},
    {"http-500", "/status/500", "HTTP 500"},
    {"http-404", "/missing.ics", "HTTP 404"},
    {"empty", "/empty.ics", "not an iCalendar"},
    {"junk-10mb", "/junk/10000000", "not an iCalendar"},
    {"every-second", "/every-second.ics", "recurrence"},
};

}  // namespace

TEST_CASE("hostile and slow calendars do not delay the good ones, and show their errors within 5 s",
          "[calendar][isolation]") {
    TempDir web;
    for (int i = 0; i < kGoodFeeds; ++i)
        write_file(web / ("good-" + std::to_string(i) + ".ics"),
                   calendar(customer_meeting("feed-" + std::to_string(i), 3600 + 60 * i)));
    write_file(web / "login.ics", "<!DOCTYPE html><html><body><form>Please sign in</form></body></html>\n");
    write_file(web / "empty.ics", "");
    write_file(web / "every-second.ics", runaway_recurrences());
    const int port = free_port();
    Child server({"/usr/bin/python3", source_dir() + "/tests/integration/calendar/feed_server.py", std::to_string(port),
                  web.path().string()},
                 web / "server.log");
    REQUIRE(wait_for_port(port));
    const std::string base = "http://127.0.0.1:" + std::to_string(port);

    json calendars = json::array();
    std::vector<std::string> good;
    for (int i = 0; i < kGoodFeeds; ++i) {
        calendars.push_back({{"id", "feed-" + std::to_string(i)}, {"url", base + "/good-" + std::to_string(i) + ".ics"}});
        good.push_back("feed-" + std::to_string(i));
        if (i == 10) calendars.push_back({{"id", "stall"}, {"url", base + "/stall"}});
        if (i == 20) calendars.push_back({{"id", "trickle"}, {"url", base + "/trickle"}});
    }
    for (const auto& h : kHostile) calendars.push_back({{"id", h.id}, {"url", base + h.path}});
    for (int i = 0; i < kGoodFiles; ++i) {
        calendars.push_back({{"id", "file-" + std::to_string(i)}, {"url", "file:cal/good-" + std::to_string(i) + ".ics"}});
        good.push_back("file-" + std::to_string(i));
    }
    const auto prepare = [](const TempDir& dir) {
        for (int i = 0; i < kGoodFiles; ++i)
            write_file(dir / ("cal/good-" + std::to_string(i) + ".ics"),
                       calendar(customer_meeting("file-" + std::to_string(i), 7200 + 60 * i)));
    };

    const auto started = std::chrono::steady_clock::now();
    RapportdFixture d(kRules, {{"calendars", calendars}}, prepare);

    auto by_id = [](const json& status) {
        std::map<std::string, json> out;
        for (const auto& c : status["calendars"]) out[c["id"].get<std::string>()] = c;
        return out;
    };
    auto read_well = [](const json& c) {
        return c["state"] == "idle" && c["last_error"].is_null() && c["events"] == 1 && c["customer_meetings"] == 1;
    };
    auto all_done = [&](const json& status) {
        auto c = by_id(status);
        for (const auto& id : good)
            if (!read_well(c[id])) return false;
        for (const auto& h : kHostile)
            if (!c[h.id]["last_error"].is_string()) return false;
        return true;
    };
    const json status = d.wait_status(all_done, kLimit + 5s);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("hostile_calendars: all good calendars read and all hostile ones in error after %.2f s "
                "(daemon start to the status that showed it)\n", took);
    std::fflush(stdout);

    auto c = by_id(status);
    INFO(status.dump(1));
    for (const auto& id : good) {
        INFO(id);
        CHECK(read_well(c[id]));
    }
    for (const auto& h : kHostile) {
        INFO(h.id);
        REQUIRE(c[h.id]["last_error"].is_string());
        CHECK(c[h.id]["state"] == "error");
        CHECK(c[h.id]["last_error"].get<std::string>().find(h.error_part) != std::string::npos);
    }
    CHECK(took < std::chrono::duration<double>(kLimit).count());
    // The slow two are still waiting on their feeds (or already timed out): either way they
    // are not read.
    CHECK_FALSE(read_well(c["stall"]));
    CHECK_FALSE(read_well(c["trickle"]));
    CHECK(d.running());
}

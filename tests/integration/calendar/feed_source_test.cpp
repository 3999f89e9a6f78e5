// ICS feeds over real HTTP: conditional GET with ETags, redirects, Basic auth, size limits and
// timeouts, against a small Python server started by the test.
#include <catch2/catch.hpp>

#include "calendar/calendar_source.hpp"
#include "test_process.hpp"

using namespace rapport::calendar;
using rapport::test::Child;
using rapport::test::TempDir;

namespace {

const std::string kFeed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:feed-1\r\n"
                          "DTSTART;TZID=Europe/Berlin:20261103T100000\r\nDURATION:PT1H\r\n"
                          "SUMMARY:Customer call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

struct FeedServer {
    TempDir dir;
    int port = rapport::test::free_port();
    Child child{{"/usr/bin/python3", rapport::test::source_dir() + "/tests/integration/calendar/feed_server.py",
                 std::to_string(port), dir.path().string()},
                dir / "server.log"};
    FeedServer() {
        if (!rapport::test::wait_for_port(port)) throw std::runtime_error("feed server did not start: " + child.log());
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
    int count(const std::string& line) const {
        const std::string log = child.log();
        int n = 0;
        for (auto pos = log.find(line); pos != std::string::npos; pos = log.find(line, pos + 1)) ++n;
        return n;
    }
};

std::unique_ptr<CalendarSource> open(const std::string& url, const std::string& user = {},
                                     const std::string& password = {}) {
    SourceSettings settings;
    settings.url = url;
    settings.username = user;
    settings.password = password;
    settings.timeout = std::chrono::seconds(2);
    settings.max_bytes = 1024 * 1024;
    std::string error;
    auto source = open_calendar_source(settings, error);
    if (!source) throw std::runtime_error(error);
    return source;
}

const sys_seconds kFrom(std::chrono::seconds(1790812800));  // 2026-10-01
const sys_seconds kTo = kFrom + std::chrono::hours(24 * 60);

}  // namespace

TEST_CASE("a feed is fetched once and then answered 304 until it changes", "[calendar][integration]") {
    FeedServer server;
    rapport::test::write_file(server.dir / "work.ics", kFeed);
    auto source = open(server.url("/work.ics"));

    auto first = source->fetch(kFrom, kTo);
    REQUIRE(first.error.empty());
    REQUIRE(first.state == FetchResult::State::changed);
    REQUIRE(first.documents.size() == 1);
    auto expanded = expand_documents(first.documents, kFrom, kTo);
    REQUIRE(expanded.occurrences.size() == 1);
    CHECK(expanded.occurrences[0].start.time_since_epoch().count() == 1793696400);  // 09:00Z

    CHECK(source->fetch(kFrom, kTo).state == FetchResult::State::unchanged);
    CHECK(server.count("REQUEST /work.ics 304 \"") == 1);  // sent If-None-Match, got 304

    std::string changed = kFeed;
    changed.replace(changed.find("Customer call"), 13, "Customer demo");
    rapport::test::write_file(server.dir / "work.ics", changed);
    auto second = source->fetch(kFrom, kTo);
    REQUIRE(second.state == FetchResult::State::changed);
    CHECK(expand_documents(second.documents, kFrom, kTo).occurrences.at(0).summary == "Customer demo");
}

TEST_CASE("feed redirects and credentials work and failures are reported", "[calendar][integration]") {
    FeedServer server;
    rapport::test::write_file(server.dir / "work.ics", kFeed);

    auto redirected = open(server.url("/redirect/work.ics"))->fetch(kFrom, kTo);
    CHECK(redirected.state == FetchResult::State::changed);

    auto with_password = open(server.url("/private/work.ics"), "rep", "pw")->fetch(kFrom, kTo);
    CHECK(with_password.state == FetchResult::State::changed);

    auto wrong_password = open(server.url("/private/work.ics"), "rep", "nope")->fetch(kFrom, kTo);
    CHECK(wrong_password.state == FetchResult::State::failed);
    CHECK(wrong_password.error == "feed refused the credentials (HTTP 401)");

    auto missing = open(server.url("/none.ics"))->fetch(kFrom, kTo);
    CHECK(missing.error == "feed answered HTTP 404");

    auto big = open(server.url("/big"))->fetch(kFrom, kTo);
    INFO("state " << static_cast<int>(big.state) << " documents " << big.documents.size() << "\n" << server.child.log());
    CHECK(big.error == "response larger than 1048576 bytes");

    const auto started = std::chrono::steady_clock::now();
    auto slow = open(server.url("/slow"))->fetch(kFrom, kTo);
    CHECK(slow.error == "reading the response: timed out");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));

    const int closed_port = rapport::test::free_port();
    auto refused = open("http://127.0.0.1:" + std::to_string(closed_port) + "/x.ics")->fetch(kFrom, kTo);
    CHECK(refused.state == FetchResult::State::failed);
    CHECK(refused.error.rfind("connecting to http://127.0.0.1:", 0) == 0);
}

// CalDAV against a real Radicale: create a calendar, add, change and delete events, and see the
// source report exactly those changes; credentials, missing collections and verified TLS.
#include <catch2/catch.hpp>

#include "calendar/calendar_source.hpp"
#include "calendar/http_client.hpp"
#include "radicale_fixture.hpp"

using namespace rapport::calendar;
using rapport::test::RadicaleServer;

namespace {

std::string event(const std::string& uid, const std::string& start, const std::string& summary,
                  const std::string& extra = {}) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rapport tests//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
           "\r\nDTSTAMP:20261001T000000Z\r\nDTSTART;TZID=Europe/Berlin:" + start +
           "\r\nDURATION:PT1H\r\nSUMMARY:" + summary + "\r\n" + extra +
           "ATTENDEE;CN=Jonas;PARTSTAT=ACCEPTED:mailto:j.mueller@customer.de\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
}

const sys_seconds kFrom(std::chrono::seconds(1793491200));  // 2026-11-01
const sys_seconds kTo = kFrom + std::chrono::hours(24 * 30);

std::unique_ptr<CalendarSource> open(const std::string& url, const std::string& user, const std::string& password,
                                     const std::string& ca_file = {}) {
    SourceSettings settings;
    settings.url = url;
    settings.username = user;
    settings.password = password;
    settings.ca_file = ca_file;
    settings.timeout = std::chrono::seconds(5);
    std::string error;
    auto source = open_calendar_source(settings, error);
    if (!source) throw std::runtime_error(error);
    return source;
}

int count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

std::vector<std::string> summaries(const FetchResult& r) {
    std::vector<std::string> out;
    for (const auto& o : expand_documents(r.documents, kFrom, kTo).occurrences) out.push_back(o.summary);
    return out;
}

}  // namespace

TEST_CASE("a CalDAV collection: add, change, delete", "[calendar][integration]") {
    RadicaleServer radicale;
    REQUIRE(radicale.make_calendar("work").status == 201);
    REQUIRE(radicale.put_event("work", "a.ics", event("a", "20261102T090000", "Kickoff")).status == 201);
    REQUIRE(radicale.put_event("work", "b.ics", event("b", "20261104T090000", "Weekly", "RRULE:FREQ=WEEKLY;COUNT=3\r\n"))
                .status == 201);
    // Outside the window: the server's time-range filter leaves it out.
    REQUIRE(radicale.put_event("work", "old.ics", event("old", "20250102T090000", "Last year")).status == 201);

    const std::string url = "caldav+" + radicale.origin() + radicale.collection_path("work");
    auto source = open(url, radicale.options().user, radicale.options().password);

    auto first = source->fetch(kFrom, kTo);
    INFO(first.error << "\n" << radicale.log());
    REQUIRE(first.state == FetchResult::State::changed);
    CHECK(first.documents.size() == 2);
    auto expanded = expand_documents(first.documents, kFrom, kTo);
    CHECK(expanded.skipped.empty());
    REQUIRE(expanded.occurrences.size() == 4);
    CHECK(expanded.occurrences[0].uid == "a");
    CHECK(expanded.occurrences[0].start.time_since_epoch().count() == 1793606400);  // 2026-11-02T08:00Z
    CHECK(expanded.occurrences[0].attendees.at(0).address == "j.mueller@customer.de");

    // Unchanged collection, window a day later: the change tag answers, no REPORT is sent.
    CHECK(source->fetch(kFrom + std::chrono::hours(24), kTo + std::chrono::hours(24)).state ==
          FetchResult::State::unchanged);
    CHECK(count(radicale.log(), "REPORT request for") == 1);
    // A window beyond the one queried needs a REPORT: "a" (2026-11-02) has left it.
    auto later = source->fetch(kFrom + std::chrono::hours(24 * 8), kTo + std::chrono::hours(24 * 8));
    CHECK(count(radicale.log(), "REPORT request for") == 2);
    REQUIRE(later.state == FetchResult::State::changed);
    REQUIRE(later.documents.size() == 1);
    CHECK(later.documents[0].name == radicale.collection_path("work") + "b.ics");
    REQUIRE(source->fetch(kFrom, kTo).state == FetchResult::State::changed);  // back to the first window

    const int replaced = radicale.put_event("work", "a.ics", event("a", "20261102T100000", "Kickoff (moved)")).status;
    REQUIRE((replaced == 201 || replaced == 204));
    auto changed = source->fetch(kFrom, kTo);
    REQUIRE(changed.state == FetchResult::State::changed);
    CHECK(summaries(changed) == std::vector<std::string>{"Kickoff (moved)", "Weekly", "Weekly", "Weekly"});

    REQUIRE(radicale.delete_event("work", "b.ics").status == 200);
    auto deleted = source->fetch(kFrom, kTo);
    REQUIRE(deleted.state == FetchResult::State::changed);
    CHECK(summaries(deleted) == std::vector<std::string>{"Kickoff (moved)"});
}

TEST_CASE("CalDAV failures are reported, not thrown", "[calendar][integration]") {
    RadicaleServer radicale;
    REQUIRE(radicale.make_calendar("work").status == 201);
    const std::string url = "caldav+" + radicale.origin() + radicale.collection_path("work");

    auto wrong = open(url, radicale.options().user, "wrong")->fetch(kFrom, kTo);
    CHECK(wrong.state == FetchResult::State::failed);
    CHECK(wrong.error == "CalDAV server refused the credentials (HTTP 401)");

    auto empty = open(url, radicale.options().user, radicale.options().password)->fetch(kFrom, kTo);
    CHECK(empty.state == FetchResult::State::changed);
    CHECK(empty.documents.empty());

    auto missing = open("caldav+" + radicale.origin() + radicale.collection_path("nope"), radicale.options().user,
                        radicale.options().password)
                       ->fetch(kFrom, kTo);
    CHECK(missing.state == FetchResult::State::failed);
}

TEST_CASE("CalDAV without authentication", "[calendar][integration]") {
    RadicaleServer::Options options;
    options.auth = false;
    RadicaleServer radicale(options);
    REQUIRE(radicale.make_calendar("team").status == 201);
    REQUIRE(radicale.put_event("team", "x.ics", event("x", "20261105T140000", "Open call")).status == 201);
    auto r = open("caldav+" + radicale.origin() + radicale.collection_path("team"), "", "")->fetch(kFrom, kTo);
    INFO(r.error);
    REQUIRE(r.state == FetchResult::State::changed);
    CHECK(summaries(r) == std::vector<std::string>{"Open call"});
}

TEST_CASE("CalDAV over TLS is verified against the trusted CAs and the host name", "[calendar][integration]") {
    rapport::test::TempDir certs;
    auto [status, output] = rapport::test::run(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", certs / "key.pem", "-out", certs / "cert.pem"});
    INFO(output);
    REQUIRE(status == 0);
    RadicaleServer::Options options;
    options.certificate = certs / "cert.pem";
    options.key = certs / "key.pem";
    RadicaleServer radicale(options);
    // By name, so the client sends SNI and checks the certificate's DNS name.
    const std::string by_name = "https://localhost:" + std::to_string(radicale.port()) + radicale.collection_path("tls");
    const std::string by_address = "https://127.0.0.1:" + std::to_string(radicale.port()) + radicale.collection_path("tls");

    // Set up through the client under test: the fixture's helper speaks plain HTTP only.
    std::string error;
    HttpRequest mk;
    mk.method = "MKCALENDAR";
    mk.url = *parse_calendar_url(by_name, error);
    mk.ca_file = certs / "cert.pem";
    mk.headers.emplace_back("Authorization", basic_authorization(options.user, options.password));
    auto made = http_exchange(mk);
    INFO(made.error << radicale.log());
    REQUIRE(made.status == 201);

    auto trusted = open("caldav+" + by_name, options.user, options.password, certs / "cert.pem")->fetch(kFrom, kTo);
    INFO(trusted.error);
    CHECK(trusted.state == FetchResult::State::changed);

    auto untrusted = open("caldav+" + by_name, options.user, options.password)->fetch(kFrom, kTo);
    CHECK(untrusted.state == FetchResult::State::failed);
    CHECK(untrusted.error.find("TLS handshake") != std::string::npos);
    CHECK(untrusted.error.find("certificate verify failed") != std::string::npos);

    // The right CA but the wrong name: the certificate is for localhost, not 127.0.0.1.
    auto wrong_name = open("caldav+" + by_address, options.user, options.password, certs / "cert.pem")->fetch(kFrom, kTo);
    CHECK(wrong_name.state == FetchResult::State::failed);
    CHECK(wrong_name.error.find("certificate verify failed") != std::string::npos);
}

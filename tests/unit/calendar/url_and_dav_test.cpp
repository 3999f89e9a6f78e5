// Calendar URLs from the settings file and CalDAV multistatus replies, as real servers write
// them (Radicale, Nextcloud/SabreDAV, Google), plus broken ones.
#include <catch2/catch.hpp>

#include "calendar/dav_xml.hpp"
#include "calendar/http_client.hpp"
#include "calendar/url.hpp"

using namespace rapport::calendar;

TEST_CASE("calendar URLs", "[calendar]") {
    std::string error;
    auto caldav = parse_calendar_url("caldav+https://dav.example.com/remote.php/dav/calendars/rep/work/", error);
    REQUIRE(caldav);
    CHECK(caldav->kind == Url::Kind::caldav);
    CHECK(caldav->tls);
    CHECK(caldav->host == "dav.example.com");
    CHECK(caldav->port == "443");
    CHECK(caldav->target == "/remote.php/dav/calendars/rep/work/");
    CHECK(caldav->origin() == "https://dav.example.com");

    auto feed = parse_calendar_url("http://127.0.0.1:8080/feed.ics?token=abc#frag", error);
    REQUIRE(feed);
    CHECK(feed->kind == Url::Kind::feed);
    CHECK_FALSE(feed->tls);
    CHECK(feed->port == "8080");
    CHECK(feed->target == "/feed.ics?token=abc");
    CHECK(feed->origin() == "http://127.0.0.1:8080");

    auto v6 = parse_calendar_url("https://[::1]:8443", error);
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->target == "/");

    auto file = parse_calendar_url("file:calendar.ics", error);
    REQUIRE(file);
    CHECK(file->kind == Url::Kind::file);
    CHECK(file->path == "calendar.ics");
    CHECK(parse_calendar_url("file:///var/cal/", error)->path == "/var/cal/");

    CHECK_FALSE(parse_calendar_url("ftp://example.com/x.ics", error));
    CHECK_FALSE(parse_calendar_url("https://user:pw@example.com/x.ics", error));
    CHECK(error == "calendar URL must not contain credentials; use username and password");
    CHECK_FALSE(parse_calendar_url("https://example.com:99999/", error));
    CHECK_FALSE(parse_calendar_url("https:///nohost", error));
    CHECK_FALSE(parse_calendar_url("https://exa mple.com/", error));
}

TEST_CASE("redirects keep TLS", "[calendar]") {
    std::string error;
    auto base = parse_calendar_url("https://a.example/feed.ics", error);
    REQUIRE(base);
    auto relative = resolve_redirect(*base, "/other.ics", error);
    REQUIRE(relative);
    CHECK(relative->host == "a.example");
    CHECK(relative->target == "/other.ics");
    auto elsewhere = resolve_redirect(*base, "https://b.example:444/x", error);
    REQUIRE(elsewhere);
    CHECK(elsewhere->port == "444");
    CHECK_FALSE(resolve_redirect(*base, "http://a.example/feed.ics", error));
    CHECK(error == "redirect from HTTPS to plain HTTP refused");
}

TEST_CASE("basic authorization header", "[calendar]") {
    CHECK(basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK(basic_authorization("a", "") == "Basic YTo=");
    CHECK(basic_authorization("ab", "c") == "Basic YWI6Yw==");
}

TEST_CASE("multistatus from a CalDAV calendar-query", "[calendar]") {
    const std::string xml = R"(<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <response>
    <href>/rep/work/a.ics</href>
    <propstat>
      <prop>
        <getetag>"e1"</getetag>
        <C:calendar-data>BEGIN:VCALENDAR&#13;
BEGIN:VEVENT&#13;
SUMMARY:Q&amp;A &lt;customer&gt;&#13;
END:VEVENT&#13;
END:VCALENDAR&#13;
</C:calendar-data>
      </prop>
      <status>HTTP/1.1 200 OK</status>
    </propstat>
  </response>
  <d:response xmlns:d="DAV:">
    <d:href>/rep/work/b.ics</d:href>
    <d:propstat><d:prop><d:getetag>"e2"</d:getetag>
      <cal:calendar-data xmlns:cal="urn:ietf:params:xml:ns:caldav"><![CDATA[BEGIN:VCALENDAR
END:VCALENDAR
]]></cal:calendar-data></d:prop>
      <d:status>HTTP/1.1 200 OK</d:status></d:propstat>
    <d:propstat><d:prop><x:other xmlns:x="urn:x"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
  </d:response>
</multistatus>)";
    std::string error;
    auto resources = parse_multistatus(xml, error);
    REQUIRE(resources);
    REQUIRE(resources->size() == 2);
    CHECK((*resources)[0].href == "/rep/work/a.ics");
    CHECK((*resources)[0].etag == "\"e1\"");
    CHECK((*resources)[0].calendar_data ==
          "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Q&A <customer>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    CHECK((*resources)[1].href == "/rep/work/b.ics");
    CHECK((*resources)[1].etag == "\"e2\"");
    CHECK((*resources)[1].calendar_data == "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
}

TEST_CASE("a collection's change tag", "[calendar]") {
    std::string error;
    auto ctag = parse_multistatus(R"(<d:multistatus xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">
      <d:response><d:href>/rep/work/</d:href><d:propstat><d:prop><d:sync-token>http://x/sync/1</d:sync-token>
      <cs:getctag>"c-42"</cs:getctag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      </d:multistatus>)", error);
    REQUIRE(ctag);
    REQUIRE(ctag->size() == 1);
    CHECK(ctag->front().collection_tag == "\"c-42\"");
    auto token = parse_multistatus(R"(<multistatus xmlns="DAV:"><response><href>/c/</href><propstat><prop>
      <sync-token>http://x/sync/7</sync-token></prop><status>HTTP/1.1 200 OK</status></propstat>
      <propstat><prop><getctag xmlns="http://calendarserver.org/ns/"/></prop><status>HTTP/1.1 404 Not Found</status>
      </propstat></response></multistatus>)", error);
    REQUIRE(token);
    CHECK(token->front().collection_tag == "http://x/sync/7");
}

TEST_CASE("broken multistatus replies are refused with a reason", "[calendar]") {
    std::string error;
    CHECK_FALSE(parse_multistatus("<html><body>Login</body></html>", error));
    CHECK(error == "DAV reply is not a multistatus document");
    CHECK_FALSE(parse_multistatus("<multistatus><response></multistatus>", error));
    CHECK_FALSE(parse_multistatus("<multistatus><response>", error));
    CHECK(error.find("ends early") != std::string::npos);
    CHECK_FALSE(parse_multistatus("<!DOCTYPE x [<!ENTITY a 'b'>]><multistatus/>", error));
    std::string deep = "<multistatus>";
    for (int i = 0; i < 100; ++i) deep += "<a>";
    CHECK_FALSE(parse_multistatus(deep, error));
    CHECK(error == "DAV reply nested too deeply");
    auto empty = parse_multistatus("<D:multistatus xmlns:D=\"DAV:\"/>", error);
    REQUIRE(empty);
    CHECK(empty->empty());
}

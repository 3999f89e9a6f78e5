// caldav+http(s):// — a CalDAV collection, read with a calendar-query REPORT (RFC 4791 7.8)
// over the window. A poll first asks for the collection's change tag (CS:getctag or
// DAV:sync-token, one small PROPFIND): while it stays the same and the window is still inside
// the one last queried, nothing is downloaded. The REPORT asks for a few days more than the
// window so that a sliding window does not need a query every poll. Without a change tag the
// ETags of the reply tell whether anything changed.
#include <ctime>
#include <map>

#include "calendar/dav_xml.hpp"
#include "calendar/http_client.hpp"
#include "calendar/source_kinds.hpp"

namespace rapport::calendar {
namespace {

std::string caldav_time(sys_seconds t) {
    const std::time_t secs = static_cast<std::time_t>(t.time_since_epoch().count());
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string calendar_query(sys_seconds from, sys_seconds to) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
           "<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\n"
           "  <D:prop><D:getetag/><C:calendar-data/></D:prop>\n"
           "  <C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\">\n"
           "    <C:time-range start=\"" + caldav_time(from) + "\" end=\"" + caldav_time(to) + "\"/>\n"
           "  </C:comp-filter></C:comp-filter></C:filter>\n"
           "</C:calendar-query>\n";
}

constexpr auto kQueryBefore = std::chrono::hours(24);
constexpr auto kQueryAfter = std::chrono::hours(24 * 7);

const char* const kTagQuery =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<D:propfind xmlns:D=\"DAV:\" xmlns:CS=\"http://calendarserver.org/ns/\">\n"
    "  <D:prop><CS:getctag/><D:sync-token/></D:prop>\n"
    "</D:propfind>\n";

class CaldavSource final : public CalendarSource {
public:
    CaldavSource(const SourceSettings& settings, const Url& url) : settings_(settings), url_(url) {
        if (url_.target.empty() || url_.target.back() != '/') url_.target += '/';  // a collection
    }

    FetchResult fetch(sys_seconds window_start, sys_seconds window_end) override {
        FetchResult result;
        const std::string tag = collection_tag();
        if (fetched_ && !tag.empty() && tag == tag_ && window_start >= queried_from_ && window_end <= queried_to_) {
            result.state = FetchResult::State::unchanged;
            return result;
        }
        const sys_seconds query_from = window_start - kQueryBefore;
        const sys_seconds query_to = window_end + kQueryAfter;
        HttpRequest request = base_request("REPORT");
        request.body = calendar_query(query_from, query_to);
        request.headers.emplace_back("Depth", "1");

        HttpResponse response = http_exchange(request);
        if (!response.error.empty()) {
            result.error = response.error;
            return result;
        }
        if (response.status == 401 || response.status == 403) {
            result.error = "CalDAV server refused the credentials (HTTP " + std::to_string(response.status) + ")";
            return result;
        }
        if (response.status == 404) {
            result.error = "CalDAV collection not found: " + url_.target;
            return result;
        }
        if (response.status != 207) {
            result.error = "CalDAV REPORT answered HTTP " + std::to_string(response.status);
            return result;
        }
        std::string error;
        auto resources = parse_multistatus(response.body, error);
        if (!resources) {
            result.error = error;
            return result;
        }
        if (resources->size() > settings_.max_documents) {
            result.error = "CalDAV collection holds more than " + std::to_string(settings_.max_documents) +
                           " events in the window";
            return result;
        }
        std::map<std::string, std::string> etags;
        for (const auto& r : *resources)
            if (!r.calendar_data.empty()) etags[r.href] = r.etag.empty() ? r.calendar_data : r.etag;
        // The window slides, so the same ETags can still mean a different set of resources;
        // the map compares both.
        tag_ = tag;
        queried_from_ = query_from;
        queried_to_ = query_to;
        if (fetched_ && etags == etags_) {
            result.state = FetchResult::State::unchanged;
            return result;
        }
        for (auto& r : *resources)
            if (!r.calendar_data.empty()) result.documents.push_back({r.href, std::move(r.calendar_data)});
        etags_ = std::move(etags);
        fetched_ = true;
        result.state = FetchResult::State::changed;
        return result;
    }

private:
    HttpRequest base_request(const char* method) const {
        HttpRequest request;
        request.method = method;
        request.url = url_;
        request.timeout = settings_.timeout;
        request.total_timeout = settings_.total_timeout;
        request.max_body = settings_.max_bytes;
        request.ca_file = settings_.ca_file;
        request.headers.emplace_back("Content-Type", "application/xml; charset=utf-8");
        if (!settings_.username.empty())
            request.headers.emplace_back("Authorization", basic_authorization(settings_.username, settings_.password));
        return request;
    }

    // The collection's change tag, or "" when the server has none or the PROPFIND fails (the
    // REPORT that follows then reports the failure).
    std::string collection_tag() const {
        HttpRequest request = base_request("PROPFIND");
        request.body = kTagQuery;
        request.headers.emplace_back("Depth", "0");
        request.max_body = 1024 * 1024;
        const HttpResponse response = http_exchange(request);
        if (!response.error.empty() || response.status != 207) return {};
        std::string error;
        auto resources = parse_multistatus(response.body, error);
        if (!resources || resources->size() != 1) return {};
        return resources->front().collection_tag;
    }

    SourceSettings settings_;
    Url url_;
    std::map<std::string, std::string> etags_;  // href → ETag
    std::string tag_;                           // change tag at the last REPORT
    sys_seconds queried_from_, queried_to_;     // the window of the last REPORT
    bool fetched_ = false;
};

}  // namespace

std::unique_ptr<CalendarSource> make_caldav_source(const SourceSettings& settings, const Url& url) {
    return std::make_unique<CaldavSource>(settings, url);
}

}  // namespace rapport::calendar

#pragma once
// Where calendars come from: a .ics file or a folder of them (file:), an ICS feed (http(s)://,
// conditional GET), or a CalDAV collection (caldav+http(s)://, calendar-query REPORT over the
// window). fetch() blocks; run it off the core strand. It never throws: failures are returned.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "calendar/occurrence.hpp"

namespace rapport::calendar {

struct CalendarDocument {
    std::string name;  // file path or resource href, for messages
    std::string text;  // iCalendar text
};

struct SourceSettings {
    std::string url;  // as in the settings file
    std::string username;
    std::string password;
    std::filesystem::path base_dir;  // relative file: paths start here (the settings file's folder)
    std::string ca_file;             // extra trusted CAs (PEM) for https
    std::chrono::seconds timeout{30};        // per network step (connect, each read…)
    std::chrono::seconds total_timeout{60};  // one HTTP exchange in all (a feed that trickles)
    std::size_t max_bytes = 10 * 1024 * 1024;  // per file, feed or CalDAV reply
    std::size_t max_documents = 5000;          // files in a folder, resources in a collection
};

struct FetchResult {
    enum class State { changed, unchanged, failed };
    State state = State::failed;
    std::vector<CalendarDocument> documents;  // every current document, when changed
    std::string error;                        // when failed: one line, no credentials
};

class CalendarSource {
public:
    virtual ~CalendarSource() = default;
    // What changed since the last successful fetch. The first successful fetch is always
    // `changed`. The window narrows CalDAV queries; files and feeds are read whole.
    virtual FetchResult fetch(sys_seconds window_start, sys_seconds window_end) = 0;
};

// Returns nullptr and sets error for a URL that cannot be used.
std::unique_ptr<CalendarSource> open_calendar_source(const SourceSettings& settings, std::string& error);

// Every document expanded and merged: occurrences sorted, one per (uid, recurrence_id) (the
// highest SEQUENCE wins), messages prefixed with the document name. A document refused as a
// whole (too large, not iCalendar, past the deadline) is reported in `skipped`; `error` stays
// empty. `limit` is the first document's that has one.
CalendarParseResult expand_documents(const std::vector<CalendarDocument>& documents, sys_seconds window_start,
                                     sys_seconds window_end, const ExpandLimits& limits = {},
                                     const std::string& default_tz = "UTC");

}  // namespace rapport::calendar

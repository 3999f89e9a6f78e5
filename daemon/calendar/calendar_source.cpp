#include "calendar/calendar_source.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "calendar/expand_calendar.hpp"
#include "calendar/libical_support.hpp"
#include "calendar/source_kinds.hpp"

namespace rapport::calendar {

std::unique_ptr<CalendarSource> open_calendar_source(const SourceSettings& settings, std::string& error) {
    auto url = parse_calendar_url(settings.url, error);
    if (!url) return nullptr;
    switch (url->kind) {
        case Url::Kind::file: return make_file_source(settings, *url);
        case Url::Kind::feed: return make_feed_source(settings, *url);
        case Url::Kind::caldav: return make_caldav_source(settings, *url);
    }
    error = "unsupported calendar URL";
    return nullptr;
}

CalendarParseResult expand_documents(const std::vector<CalendarDocument>& documents, sys_seconds window_start,
                                     sys_seconds window_end, const ExpandLimits& limits,
                                     const std::string& default_tz) {
    CalendarParseResult merged;
    std::map<std::pair<std::string, long long>, std::size_t> index;  // (uid, recurrence_id) → position
    for (const CalendarDocument& document : documents) {
        CalendarParseResult one = expand_calendar(document.text, window_start, window_end, limits, default_tz);
        const std::string prefix = clip(document.name, 120) + ": ";
        if (!one.error.empty()) merged.skipped.push_back(prefix + one.error);
        if (!one.limit.empty() && merged.limit.empty()) merged.limit = prefix + one.limit;
        for (auto& s : one.skipped) merged.skipped.push_back(prefix + s);
        for (auto& w : one.warnings) merged.warnings.push_back(prefix + w);
        merged.events += one.events;
        for (auto& o : one.occurrences) {
            const auto key = std::make_pair(o.uid, static_cast<long long>(o.recurrence_id.time_since_epoch().count()));
            auto [it, fresh] = index.emplace(key, merged.occurrences.size());
            if (fresh)
                merged.occurrences.push_back(std::move(o));
            else if (o.sequence > merged.occurrences[it->second].sequence)
                merged.occurrences[it->second] = std::move(o);
        }
    }
    std::sort(merged.occurrences.begin(), merged.occurrences.end(), [](const Occurrence& a, const Occurrence& b) {
        return std::tie(a.start, a.uid, a.recurrence_id) < std::tie(b.start, b.uid, b.recurrence_id);
    });
    return merged;
}

}  // namespace rapport::calendar

#pragma once
// The three kinds of calendar source behind open_calendar_source().
#include <memory>

#include "calendar/calendar_source.hpp"
#include "calendar/url.hpp"

namespace rapport::calendar {

std::unique_ptr<CalendarSource> make_file_source(const SourceSettings& settings, const Url& url);
std::unique_ptr<CalendarSource> make_feed_source(const SourceSettings& settings, const Url& url);
std::unique_ptr<CalendarSource> make_caldav_source(const SourceSettings& settings, const Url& url);

}  // namespace rapport::calendar

#include "calendar/expand_calendar.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <tuple>

#include "calendar/event_record.hpp"
#include "calendar/libical_support.hpp"
#include "calendar/recurrence.hpp"
#include "calendar/zone_resolver.hpp"

namespace rapport::calendar {
namespace {

struct Source {
    icalcomponent* vevent;
    icalcomponent* vcalendar;  // null for a bare VEVENT
    bool method_cancel;
};

bool is_method_cancel(icalcomponent* vcalendar) {
    icalproperty* method = icalcomponent_get_first_property(vcalendar, ICAL_METHOD_PROPERTY);
    return method && icalproperty_get_method(method) == ICAL_METHOD_CANCEL;
}

void collect_events(icalcomponent* parent, icalcomponent* vcalendar, bool cancel, std::vector<Source>& out) {
    for (icalcomponent* c = icalcomponent_get_first_component(parent, ICAL_VEVENT_COMPONENT); c;
         c = icalcomponent_get_next_component(parent, ICAL_VEVENT_COMPONENT))
        out.push_back({c, vcalendar, cancel});
}

// Returns false when the text holds no calendar at all.
bool collect_sources(icalcomponent* root, std::vector<Source>& out) {
    switch (icalcomponent_isa(root)) {
        case ICAL_VCALENDAR_COMPONENT:
            collect_events(root, root, is_method_cancel(root), out);
            return true;
        case ICAL_VEVENT_COMPONENT:
            out.push_back({root, nullptr, false});
            return true;
        case ICAL_XROOT_COMPONENT: {  // several calendars in one text
            bool any = false;
            for (icalcomponent* cal = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT); cal;
                 cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT)) {
                collect_events(cal, cal, is_method_cancel(cal), out);
                any = true;
            }
            const std::size_t before = out.size();
            collect_events(root, nullptr, false, out);
            return any || out.size() > before;
        }
        default:
            return false;
    }
}

struct Series {
    std::optional<EventRecord> master;
    std::map<long long, EventRecord> overrides;  // by RECURRENCE-ID in UTC
};

// Producers that merge feeds repeat events; the highest SEQUENCE is the current one.
template <typename Slot>
void keep_latest(Slot& slot, EventRecord&& event, std::vector<std::string>& warnings) {
    if (!slot) {
        slot = std::move(event);
        return;
    }
    warnings.push_back(event.label + ": defined twice; the higher SEQUENCE is used");
    if (event.sequence >= slot->sequence) slot = std::move(event);
}

// "END:VEVENT", also "END;X=y:VEVENT" and "END :VEVENT": libical reads the name up to ':' or
// ';' and trims it.
bool names_keyword(std::string_view line, std::string_view keyword) {
    const auto separator = line.find_first_of(":;");
    if (separator == std::string_view::npos) return false;
    std::string_view name = line.substr(0, separator);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.remove_suffix(1);
    if (name.size() != keyword.size()) return false;
    for (std::size_t i = 0; i < keyword.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(name[i])) != keyword[i]) return false;
    return true;
}

// Hands libical the text line by line (its parser asks for pieces of at most `size` - 1 bytes).
// Three reasons not to use icalparser_parse_string: it looks for each piece's line end with
// strchr over the whole rest of the text, which is quadratic on a long line without a break
// (10 MB of junk takes minutes); it needs a copy to drop the END lines that close nothing
// (libical 3.0.16 prints "Encountered END before BEGIN" to stderr for each, straight into the
// daemon's log); and it cannot stop at a deadline.
class LineFeed {
public:
    LineFeed(std::string_view text, std::optional<std::chrono::steady_clock::time_point> deadline)
        : rest_(text), deadline_(deadline) {}

    static char* next(char* out, std::size_t size, void* self) { return static_cast<LineFeed*>(self)->piece(out, size); }
    bool out_of_time() const { return out_of_time_; }

private:
    static constexpr std::size_t kDeadlineStride = 4096;  // lines between looks at the clock

    char* piece(char* out, std::size_t size) {
        if (size < 2) return nullptr;
        for (;;) {
            if (rest_.empty()) return nullptr;
            if (at_line_start_ && deadline_ && ++lines_ % kDeadlineStride == 0 &&
                std::chrono::steady_clock::now() >= *deadline_) {
                out_of_time_ = true;
                return nullptr;
            }
            const std::size_t cap = std::min(rest_.size(), size - 1);
            const void* newline = std::memchr(rest_.data(), '\n', cap);
            const std::size_t n = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - rest_.data()) + 1 : cap;
            const std::string_view piece = rest_.substr(0, n);
            if (at_line_start_) {
                if (names_keyword(piece, "BEGIN")) {
                    ++depth_;
                } else if (names_keyword(piece, "END")) {
                    if (depth_ == 0) {  // closes nothing: skip the whole line
                        const auto end = rest_.find('\n');
                        rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
                        continue;
                    }
                    --depth_;
                }
            }
            at_line_start_ = newline != nullptr;
            std::memcpy(out, piece.data(), n);
            out[n] = '\0';
            rest_.remove_prefix(n);
            return out;
        }
    }

    std::string_view rest_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
    bool at_line_start_ = true;
    int depth_ = 0;
    std::size_t lines_ = 0;
    bool out_of_time_ = false;
};

ComponentPtr parse(std::string_view text, const std::optional<std::chrono::steady_clock::time_point>& deadline,
                   bool& out_of_time) {
    LineFeed feed(text, deadline);
    icalparser* parser = icalparser_new();
    if (!parser) return nullptr;
    icalparser_set_gen_data(parser, &feed);
    ComponentPtr root(icalparser_parse(parser, &LineFeed::next));
    icalparser_free(parser);
    out_of_time = feed.out_of_time();
    return root;
}

Occurrence make_occurrence(const EventRecord& event, const EventRecord* master, sys_seconds recurrence_id,
                           sys_seconds start, sys_seconds end) {
    Occurrence o;
    o.uid = event.uid;
    o.recurrence_id = recurrence_id;
    o.start = start;
    o.end = end;
    o.all_day = event.start.is_date();
    o.floating = event.start.floating;
    o.cancelled = event.cancelled || (master && master->cancelled);
    o.summary = event.summary.empty() && master ? master->summary : event.summary;
    o.description = event.description.empty() && master ? master->description : event.description;
    o.location = event.location.empty() && master ? master->location : event.location;
    const EventRecord& people = event.has_people || !master ? event : *master;
    o.organizer = people.organizer;
    o.attendees = people.attendees;
    o.sequence = event.sequence;
    return o;
}

}  // namespace

CalendarParseResult expand_calendar(std::string_view ics_text, sys_seconds window_start,
                                    sys_seconds window_end, const ExpandLimits& limits,
                                    const std::string& default_tz) {
    CalendarParseResult result;
    if (ics_text.size() > limits.max_input_bytes) {
        result.error = "calendar too large: " + std::to_string(ics_text.size()) + " bytes (limit " +
                       std::to_string(limits.max_input_bytes) + ")";
        return result;
    }
    if (ics_text.substr(0, 3) == "\xEF\xBB\xBF") ics_text.remove_prefix(3);
    ics_text = ics_text.substr(0, ics_text.find('\0'));  // as far as libical would read a C string

    auto lock = lock_libical();
    ZoneResolver zones(default_tz);
    std::vector<std::string>& warnings = result.warnings;
    warnings = zones.setup_warnings();

    bool out_of_time = false;
    ComponentPtr root = parse(ics_text, limits.deadline, out_of_time);
    icalerror_clear_errno();
    if (out_of_time) {
        result = CalendarParseResult{};
        result.error = "calendar not read: parsing it ran past the time limit (a calendar this slow to read is "
                       "too large or malformed; check what the URL returns)";
        return result;
    }
    std::vector<Source> sources;
    if (!root || !collect_sources(root.get(), sources)) {
        result.error = "not an iCalendar document (no VCALENDAR)";
        return result;
    }

    std::map<std::string, Series> series;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        if (i >= limits.max_events) {
            result.skipped.push_back("calendar has more than " + std::to_string(limits.max_events) +
                                     " events; " + std::to_string(sources.size() - i) + " ignored");
            break;
        }
        ReadContext ctx{sources[i].vcalendar, sources[i].method_cancel, &zones, &warnings};
        std::string reason;
        std::optional<EventRecord> event = read_event(sources[i].vevent, i, ctx, reason);
        icalerror_clear_errno();
        if (!event) {
            result.skipped.push_back(reason);
            continue;
        }
        Series& s = series[event->uid];
        if (!event->recurrence_id) {
            keep_latest(s.master, std::move(*event), warnings);
            continue;
        }
        sys_seconds rid;
        if (!to_utc(*event->recurrence_id, rid)) {
            result.skipped.push_back(event->label + ": RECURRENCE-ID out of range");
            continue;
        }
        auto [slot, fresh] = s.overrides.try_emplace(rid.time_since_epoch().count(), std::move(*event));
        if (!fresh) {
            warnings.push_back(slot->second.label + ": occurrence overridden twice; the higher SEQUENCE is used");
            if (event->sequence >= slot->second.sequence) slot->second = std::move(*event);
        }
    }
    result.events = static_cast<int>(series.size());

    // A deque: it grows without moving what it holds (an Occurrence is a dozen strings).
    std::deque<Occurrence> found;
    bool full = false;
    auto emit = [&](Occurrence&& o) {
        if (found.size() >= limits.max_occurrences) {
            if (!full) {
                warnings.push_back("more than " + std::to_string(limits.max_occurrences) +
                                   " occurrences in the window; the rest ignored");
                if (result.limit.empty()) result.limit = warnings.back();
            }
            full = true;
            return;
        }
        found.push_back(std::move(o));
    };

    WorkBudget budget(limits.max_iterations, limits.deadline);
    for (auto& [uid, s] : series) {
        const EventRecord* master = s.master ? &*s.master : nullptr;
        if (master) {
            Exclusions replaced;
            for (const auto& [rid, o] : s.overrides)
                replaced.add(*o.recurrence_id, o.recurrence_id->is_date() && !master->start.is_date());
            for (const Instance& instance :
                 expand_instances(*master, replaced, window_start, window_end, limits, budget, warnings, result.limit))
                emit(make_occurrence(*master, nullptr, instance.start, instance.start, instance.end));
        }
        for (const auto& [rid, o] : s.overrides) {
            const Length& length = o.length_given || !master ? o.length : master->length;
            const sys_seconds end = instance_end(o.start, o.start_utc, length);
            if (overlaps(o.start_utc, end, window_start, window_end))
                emit(make_occurrence(o, master, sys_seconds(std::chrono::seconds(rid)), o.start_utc, end));
        }
        if (full) break;
    }

    // Sorted by position and then moved once: an Occurrence is a dozen strings, too heavy to be
    // swapped around by the sort itself.
    std::vector<std::size_t> order(found.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto& all = found;
    std::sort(order.begin(), order.end(), [&all](std::size_t x, std::size_t y) {
        const Occurrence& a = all[x];
        const Occurrence& b = all[y];
        return std::tie(a.start, a.uid, a.recurrence_id) < std::tie(b.start, b.uid, b.recurrence_id);
    });
    result.occurrences.reserve(order.size());
    for (std::size_t i : order) result.occurrences.push_back(std::move(found[i]));
    return result;
}

}  // namespace rapport::calendar

#pragma once
// Customer meetings: which calendar occurrences are meetings with customers that the user
// takes part in, and when each one ends. Pure: occurrences, the directory and "now" go in;
// the list of meetings and the endings to act on come out. The daemon persists what ended so
// each occurrence ends exactly once, across restarts.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/directory.hpp"
#include "rapport/time.hpp"

namespace rapport {

struct MeetingAttendee {
    std::string address;  // as written in the calendar
    std::string name;
    std::string partstat;  // upper case; empty when not given
};

struct CalendarOccurrence {
    std::string calendar;  // the settings' calendar id
    std::string uid;
    TimePoint occurrence;  // original start (RECURRENCE-ID): identity with uid
    TimePoint start, end;
    bool all_day = false;
    bool cancelled = false;
    std::string title;
    std::string description;  // untrusted, capped by the calendar reader
    std::string location;
    MeetingAttendee organizer;
    std::vector<MeetingAttendee> attendees;
};

struct Meeting {
    CalendarOccurrence occurrence;
    std::vector<const Account*> accounts;
    std::string state;  // upcoming | ended | cancelled
};

// The identity of an occurrence across re-reads: (calendar, uid, original start).
using OccurrenceKey = std::tuple<std::string, std::string, int64_t>;
OccurrenceKey key_of(const CalendarOccurrence& o);

// A customer meeting: not all-day, at least one attendee or the organizer at an account
// (contact or domain match), and the user takes part — as organizer, or as an attendee who
// did not decline. user_addresses are normalised.
std::optional<Meeting> as_customer_meeting(const CalendarOccurrence& o, const AccountDirectory& directory,
                                           const std::vector<std::string>& user_addresses, TimePoint now);

// The user's own addresses: the settings' address plus every address of the person in the
// rules who has it.
std::vector<std::string> user_addresses(const std::string& settings_address, const Rules& rules);

// How an ended occurrence was handled, kept apart in the store: fired ones were acted on (a
// summary draft follows), expired ones ended too long ago and are only remembered.
enum class MeetingOutcome { fired, expired };
std::string_view to_string(MeetingOutcome o);

struct EndingDecision {
    std::vector<Meeting> fire;    // ended now, or while the daemon was down within catch_up
    std::vector<Meeting> expire;  // ended too long ago: remember silently, never act
    std::optional<TimePoint> next_end;  // the earliest end still to come (for the timer)
};

// Which customer meetings have ended by `now` and were not handled yet. Cancelled ones never
// end; a moved one ends at its new end.
EndingDecision decide_endings(const std::vector<Meeting>& meetings, const std::set<OccurrenceKey>& already_ended,
                              Instant now, Seconds catch_up);

nlohmann::json meeting_json(const Meeting& m);

// ---- summary drafts after a customer call ----
struct SummaryDraftPlan {
    std::string key;       // the journal key: one draft per occurrence, ever
    std::string draft_id;  // the X-Rapport-Draft value, stable for the occurrence
    TimePoint not_before;  // the meeting's end plus the rules' delay
};

// Whether a meeting that fired (ended just now, or within catch_up while the daemon was down)
// gets a summary draft: summary drafts enabled and the meeting lasted min_duration. (Customer
// meetings are already ones the user takes part in.) skip_reason says why not, for the log.
std::optional<SummaryDraftPlan> plan_summary_draft(const Meeting& m, const RuleSettings::SummaryDrafts& rules,
                                                   std::string* skip_reason = nullptr);

// "d-" and 16 hex digits: FNV-1a of the occurrence's identity (calendar, UID, original start),
// so the executor finds a draft appended before a crash by its header.
std::string summary_draft_id(const CalendarOccurrence& o);

}  // namespace rapport

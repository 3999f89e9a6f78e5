#include "rapport/meetings.hpp"

#include <algorithm>

#include "rapport/address.hpp"

namespace rapport {

OccurrenceKey key_of(const CalendarOccurrence& o) {
    return {o.calendar, o.uid, o.occurrence.time_since_epoch().count()};
}

std::vector<std::string> user_addresses(const std::string& settings_address, const Rules& rules) {
    std::vector<std::string> out;
    if (auto a = normalize_address(settings_address)) out.push_back(*a);
    for (const auto& p : rules.people)
        if (std::find(p.addresses.begin(), p.addresses.end(), out.empty() ? "" : out.front()) != p.addresses.end())
            for (const auto& a : p.addresses)
                if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    return out;
}

std::optional<Meeting> as_customer_meeting(const CalendarOccurrence& o, const AccountDirectory& directory,
                                           const std::vector<std::string>& users, TimePoint now) {
    if (o.all_day) return std::nullopt;
    auto is_user = [&](const std::string& address) {
        auto n = normalize_address(address);
        return n && std::find(users.begin(), users.end(), *n) != users.end();
    };
    bool takes_part = is_user(o.organizer.address);
    Meeting m;
    auto consider = [&](const MeetingAttendee& a) {
        const Match match = directory.lookup(a.address);
        if (match.account && std::find(m.accounts.begin(), m.accounts.end(), match.account) == m.accounts.end())
            m.accounts.push_back(match.account);
    };
    consider(o.organizer);
    for (const auto& a : o.attendees) {
        if (is_user(a.address) && a.partstat != "DECLINED") takes_part = true;
        consider(a);
    }
    if (!takes_part || m.accounts.empty()) return std::nullopt;
    m.occurrence = o;
    m.state = o.cancelled ? "cancelled" : (o.end <= now ? "ended" : "upcoming");
    return m;
}

EndingDecision decide_endings(const std::vector<Meeting>& meetings, const std::set<OccurrenceKey>& already_ended,
                              Instant now, Seconds catch_up) {
    EndingDecision d;
    for (const auto& m : meetings) {
        const auto& o = m.occurrence;
        if (o.cancelled || already_ended.count(key_of(o))) continue;
        if (o.end > now) {
            if (!d.next_end || o.end < *d.next_end) d.next_end = o.end;
            continue;
        }
        (now - o.end <= catch_up ? d.fire : d.expire).push_back(m);
    }
    return d;
}

std::string summary_draft_id(const CalendarOccurrence& o) {
    uint64_t h = 14695981039346656037ull;
    const std::string identity = o.calendar + '\n' + o.uid + '\n' + std::to_string(o.occurrence.time_since_epoch().count());
    for (unsigned char c : identity) {
        h ^= c;
        h *= 1099511628211ull;
    }
    static const char* hex = "0123456789abcdef";
    std::string id = "d-";
    for (int shift = 60; shift >= 0; shift -= 4) id += hex[(h >> shift) & 0xf];
    return id;
}

std::optional<SummaryDraftPlan> plan_summary_draft(const Meeting& m, const RuleSettings::SummaryDrafts& rules,
                                                   std::string* skip_reason) {
    auto skip = [&](std::string why) -> std::optional<SummaryDraftPlan> {
        if (skip_reason) *skip_reason = std::move(why);
        return std::nullopt;
    };
    const auto& o = m.occurrence;
    if (!rules.enabled) return skip("summary drafts are off in the rules");
    if (o.cancelled) return skip("the meeting was cancelled");
    if (o.end - o.start < rules.min_duration)
        return skip("it lasted " + format_duration(o.end - o.start) + ", less than min_duration " +
                    format_duration(rules.min_duration));
    SummaryDraftPlan plan;
    plan.draft_id = summary_draft_id(o);
    plan.key = "summary:" + o.calendar + "/" + o.uid + "/" + std::to_string(o.occurrence.time_since_epoch().count());
    plan.not_before = o.end + rules.delay;
    return plan;
}

std::string_view to_string(MeetingOutcome o) { return o == MeetingOutcome::fired ? "fired" : "expired"; }

nlohmann::json meeting_json(const Meeting& m) {
    const auto& o = m.occurrence;
    nlohmann::json accounts = nlohmann::json::array(), attendees = nlohmann::json::array();
    for (const auto* a : m.accounts) accounts.push_back(a->id);
    for (const auto& a : o.attendees)
        attendees.push_back({{"address", a.address}, {"name", a.name}, {"partstat", a.partstat}});
    return {{"calendar", o.calendar}, {"uid", o.uid}, {"occurrence", format_datetime(o.occurrence)},
            {"title", o.title}, {"start", format_datetime(o.start)}, {"end", format_datetime(o.end)},
            {"accounts", accounts}, {"attendees", attendees}, {"state", m.state}};
}

}  // namespace rapport

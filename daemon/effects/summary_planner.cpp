#include "effects/summary_planner.hpp"

#include <algorithm>

#include "app/log.hpp"
#include "rapport/address.hpp"
#include "rapport/summary_draft.hpp"

namespace rapport {
namespace {

std::string local_when(const CalendarOccurrence& o) {
    std::string when = format_local(o.start, "%A %-d %B %Y, %H:%M");
    const bool same_day = format_local(o.start, "%F") == format_local(o.end, "%F");
    when += "–" + format_local(o.end, same_day ? "%H:%M" : "%A %-d %B %Y, %H:%M");
    return when + " (" + zone_label(o.start) + ")";
}

DraftAttendee attendee_of(const MeetingAttendee& a, const AccountDirectory& dir) {
    DraftAttendee d;
    d.name = a.name;
    d.address = a.address;
    d.partstat = a.partstat;
    const Match m = dir.lookup(a.address);
    if (m.account) {
        d.customer = true;
        d.company = m.account->name;
        if (m.contact) {
            d.champion = m.contact->champion;
            if (d.name.empty()) d.name = m.contact->name;
        }
    } else if (m.kind == MatchKind::internal) {
        d.company = dir.rules().organization.name;
        if (d.name.empty() && m.person) d.name = m.person->name;
    }
    return d;
}

}  // namespace

std::string drafts_mailbox_for(const Settings& settings, const std::string& calendar_id) {
    for (const auto& c : settings.calendars)
        if (c.id == calendar_id && !c.mailbox.empty()) return c.mailbox;
    return settings.mailboxes.empty() ? std::string() : settings.mailboxes.front().id;
}

std::optional<SummaryIntent> plan_summary_intent(const Meeting& meeting, DaemonState& state, TimePoint now) {
    const auto& o = meeting.occurrence;
    const auto& rules = state.directory->rules();
    std::string why;
    const auto plan = plan_summary_draft(meeting, rules.rules.summary_drafts, &why);
    if (!plan) {
        log::info("no summary draft for \"" + clean_line(o.title, 80) + "\": " + why);
        return std::nullopt;
    }
    const std::string mailbox = drafts_mailbox_for(*state.settings, o.calendar);
    if (mailbox.empty()) {
        log::warning("no summary draft for \"" + clean_line(o.title, 80) + "\": no mailbox in the settings to put it in");
        return std::nullopt;
    }
    const auto& dir = *state.directory;

    SummaryContext c;
    c.title = o.title;
    c.description = o.description;
    c.location = o.location;
    c.date = format_local(o.start, "%F");
    c.local_when = local_when(o);
    c.user = {state.settings->user_name, state.settings->user_address};
    if (!o.organizer.address.empty()) c.attendees.push_back(attendee_of(o.organizer, dir));
    for (const auto& a : o.attendees) {
        const bool repeat = std::any_of(c.attendees.begin(), c.attendees.end(), [&](const DraftAttendee& d) {
            return normalize_address(d.address) == normalize_address(a.address);
        });
        if (!repeat) c.attendees.push_back(attendee_of(a, dir));
    }
    std::vector<std::string> account_ids;
    for (const auto* a : meeting.accounts) {
        c.account_names.push_back(a->name);
        account_ids.push_back(a->id);
    }
    if (!meeting.accounts.empty())
        if (const Person* owner = dir.owner_of(*meeting.accounts.front())) {
            c.owner = DraftAddress{owner->name, owner->addresses.empty() ? "" : owner->addresses.front()};
            c.user_is_owner = std::find(owner->addresses.begin(), owner->addresses.end(), state.settings->user_address) !=
                              owner->addresses.end();
        }
    static_assert(ComposeLimits::max_list_items <= StateStore::kAccountMessagesKept,
                  "the store keeps too few of an account's messages for this list");
    // What the account's mail says: the last subjects of the last 30 days, and open nudges.
    std::vector<AccountMessage> recent;
    std::vector<Nudge> nudges;
    state.store->read([&](ReadTx& tx) {
        for (const auto& id : account_ids) {
            auto some = tx.account_messages(id, now - Seconds{30 * 86400}, ComposeLimits::max_list_items);
            recent.insert(recent.end(), some.begin(), some.end());
        }
        nudges = tx.nudges(NudgeFilter::open);
    });
    std::sort(recent.begin(), recent.end(), [](const AccountMessage& a, const AccountMessage& b) { return a.date > b.date; });
    for (const auto& m : recent) {
        if (c.recent.size() >= ComposeLimits::max_list_items) break;
        const Match who = dir.lookup(m.contact);
        const std::string contact = who.contact && !who.contact->name.empty() ? who.contact->name : m.contact;
        c.recent.push_back({format_date(date_of(m.date)), m.inbound, contact, m.subject});
    }
    for (const auto& n : nudges)
        if (std::find(account_ids.begin(), account_ids.end(), n.account) != account_ids.end())
            c.open_nudges.push_back(n.text);

    const ComposedDraft draft = compose_summary(c, rules.rules.summary_drafts.draft_template, rules.rules.summary_drafts.recipients);
    for (const auto& s : draft.skipped)
        log::warning("summary draft for \"" + clean_line(o.title, 80) + "\": left out " + s.given.address + " (" + s.reason + ")");

    std::string error;
    auto message = draft_bytes(draft, plan->draft_id, *state.settings, now, &error);
    if (!message) {
        log::error("no summary draft for \"" + clean_line(o.title, 80) + "\": " + error);
        return std::nullopt;
    }
    SummaryIntent intent;
    intent.kind = EffectKind::summary_draft;
    intent.key = plan->key;
    intent.not_before = plan->not_before;
    intent.payload = {{"mailbox", mailbox},
                      {"draft_id", plan->draft_id},
                      {"message", *message},
                      {"subject", draft.subject},
                      {"account", account_ids.empty() ? std::string() : account_ids.front()},
                      {"meeting", o.calendar + "/" + o.uid + "@" + format_datetime(o.occurrence)}};
    return intent;
}

}  // namespace rapport

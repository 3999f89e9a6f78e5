#include "rapport/nudges.hpp"

#include <algorithm>

namespace rapport {
namespace {

std::string champion_of(const Account& account) {
    for (const auto& c : account.contacts)
        if (c.champion) return c.name.empty() ? c.address : c.name;
    return {};
}

// "45 days", "6 hours", "3 seconds": how a person says how long ago the loss was.
std::string days(Seconds s) {
    const auto n = s.count();
    auto unit = [](int64_t count, const char* one) { return std::to_string(count) + " " + one + (count == 1 ? "" : "s"); };
    if (n % 86400 == 0) return unit(n / 86400, "day");
    if (n % 3600 == 0) return unit(n / 3600, "hour");
    if (n % 60 == 0) return unit(n / 60, "minute");
    return unit(n, "second");
}

}  // namespace

std::string_view to_string(NudgeState s) {
    switch (s) {
        case NudgeState::pending: return "pending";
        case NudgeState::snoozed: return "snoozed";
        case NudgeState::due: return "due";
        case NudgeState::done: return "done";
        case NudgeState::dismissed: return "dismissed";
        case NudgeState::cancelled: return "cancelled";
    }
    return "pending";
}

std::optional<NudgeState> parse_nudge_state(std::string_view text) {
    for (auto s : {NudgeState::pending, NudgeState::snoozed, NudgeState::due, NudgeState::done,
                   NudgeState::dismissed, NudgeState::cancelled})
        if (to_string(s) == text) return s;
    return std::nullopt;
}

bool is_open(NudgeState s) { return s == NudgeState::pending || s == NudgeState::snoozed || s == NudgeState::due; }
bool is_scheduled(NudgeState s) { return s == NudgeState::pending || s == NudgeState::snoozed; }

NudgeChange request_change(const Nudge& n, NudgeRequest request, Instant now, std::optional<TimePoint> until) {
    NudgeChange c;
    c.state = n.state;
    const std::string id = "nudge " + std::to_string(n.id);
    if (request == NudgeRequest::snooze) {
        if (!until || Instant(*until) <= now) {
            c.refusal = "the end of a snooze must be in the future";
            return c;
        }
        if (!is_open(n.state)) {
            c.refusal = id + " is " + std::string(to_string(n.state)) + "; only open nudges can be snoozed";
            return c;
        }
        c.allowed = c.changed = true;
        c.state = NudgeState::snoozed;
        c.due = *until;
        return c;
    }
    const NudgeState target = request == NudgeRequest::done ? NudgeState::done : NudgeState::dismissed;
    if (n.state == target) {  // a retried request succeeds and changes nothing
        c.allowed = true;
        return c;
    }
    if (!is_open(n.state)) {
        c.refusal = id + " is already " + std::string(to_string(n.state));
        return c;
    }
    c.allowed = c.changed = true;
    c.state = target;
    return c;
}

std::vector<Nudge> nudges_to_fire(const std::vector<Nudge>& nudges, Instant now) {
    std::vector<Nudge> out;
    for (const auto& n : nudges)
        if (is_scheduled(n.state) && Instant(n.due) <= now) out.push_back(n);
    std::stable_sort(out.begin(), out.end(), [](const Nudge& a, const Nudge& b) {
        return a.due < b.due || (a.due == b.due && a.id < b.id);
    });
    return out;
}

std::optional<Instant> next_nudge_wake(const std::vector<Nudge>& nudges, Instant now) {
    std::optional<Instant> next;
    for (const auto& n : nudges)
        if (is_scheduled(n.state) && Instant(n.due) > now && (!next || Instant(n.due) < *next)) next = Instant(n.due);
    return next;
}

std::vector<PlannedNudge> plan_loss_nudges(const Account& account, const LossReport& loss,
                                           const RuleSettings& rules, const Person* owner) {
    std::vector<PlannedNudge> out;
    const std::string champion = champion_of(account);
    const std::string ask = champion.empty() ? "ask them" : "ask " + champion;
    (void)owner;
    // "Initech went with Hooli 45 days ago — ask Jane Doe how the roll-out is going."
    for (const auto& offset : rules.loss.nudges) {
        PlannedNudge n;
        n.account = account.id;
        n.kind = "follow_up";
        n.due = loss.lost_at + offset;
        n.text = loss.competitor.empty()
                     ? account.name + " was lost " + days(offset) + " ago — " + ask + " how it is going without you."
                     : account.name + " went with " + loss.competitor + " " + days(offset) + " ago — " + ask +
                           " how the roll-out is going.";
        out.push_back(std::move(n));
    }
    if (loss.delivery) {
        const TimePoint due = start_of(*loss.delivery) + Seconds{9 * 3600};
        if (due > loss.lost_at) {
            PlannedNudge n;
            n.account = account.id;
            n.kind = "delivery";
            n.due = due;
            n.text = (loss.competitor.empty() ? std::string("The competitor") : loss.competitor) +
                     " was due to deliver to " + account.name + " today (" +
                     format_date(*loss.delivery) + ") — check in with " +
                     (champion.empty() ? account.name : champion) + ": is it live, and is it what they were promised?";
            out.push_back(std::move(n));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const PlannedNudge& a, const PlannedNudge& b) { return a.due < b.due; });
    return out;
}

}  // namespace rapport

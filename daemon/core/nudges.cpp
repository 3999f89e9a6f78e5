#include "rapport/nudges.hpp"

#include <algorithm>

namespace rapport {
namespace {

std::string champion_of(const Account& account) {
    for (const auto& c : account.contacts)
        if (c.champion) return c.name.empty() ? c.address : c.name;
    return {};
}

std::string days(Seconds s) {
    const auto d = s.count() / 86400;
    if (d * 86400 == s.count()) return std::to_string(d) + (d == 1 ? " day" : " days");
    return format_duration(s);
}

}  // namespace

std::vector<PlannedNudge> plan_loss_nudges(const Account& account, const LossReport& loss,
                                           const RuleSettings& rules, const Person* owner) {
    std::vector<PlannedNudge> out;
    const std::string to = loss.competitor.empty() ? "" : " to " + loss.competitor;
    const std::string champion = champion_of(account);
    const std::string who = champion.empty() ? account.name : champion + " at " + account.name;
    (void)owner;
    for (const auto& offset : rules.loss.nudges) {
        PlannedNudge n;
        n.account = account.id;
        n.kind = "follow_up";
        n.due = loss.lost_at + offset;
        n.text = "Follow up with " + who + ": " + days(offset) + " since the deal was lost" + to +
                 ". How is it going for them?";
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
                     format_date(*loss.delivery) + "). Check in with " +
                     (champion.empty() ? account.name : champion) + ".";
            out.push_back(std::move(n));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const PlannedNudge& a, const PlannedNudge& b) { return a.due < b.due; });
    return out;
}

}  // namespace rapport

#include "rapport/engagement.hpp"

#include <algorithm>

#include "rapport/address.hpp"

namespace rapport {
namespace {

void newest(std::optional<TimePoint>& into, const std::optional<TimePoint>& t) {
    if (t && (!into || *t > *into)) into = t;
}

}  // namespace

Engagement engagement_of(const Account& account, const std::vector<ContactSeen>& seen, TimePoint now) {
    Engagement e;
    const TimePoint window_start = now - kEngagementWindow;
    for (const auto& c : account.contacts) {
        ContactEngagement ce;
        ce.address = c.address;
        ce.name = c.name;
        ce.champion = c.champion;
        ce.listed = true;
        e.contacts.push_back(std::move(ce));
    }
    std::vector<ContactEngagement> others;
    for (const auto& s : seen) {
        const auto normalised = normalize_address(s.address);
        const std::string address = normalised ? *normalised : s.address;
        auto it = std::find_if(e.contacts.begin(), e.contacts.end(),
                               [&](const ContactEngagement& c) { return c.address == address; });
        ContactEngagement* target = nullptr;
        if (it != e.contacts.end()) {
            target = &*it;
        } else {
            auto o = std::find_if(others.begin(), others.end(), [&](const ContactEngagement& c) { return c.address == address; });
            if (o == others.end()) {
                others.push_back({});
                others.back().address = address;
                o = others.end() - 1;
            }
            target = &*o;
        }
        newest(target->last_in, s.last_in);
        newest(target->last_out, s.last_out);
    }
    std::sort(others.begin(), others.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    e.contacts.insert(e.contacts.end(), others.begin(), others.end());

    bool any_in = false, any_out = false;
    for (auto& c : e.contacts) {
        newest(e.last_contact, c.last_in);
        newest(e.last_contact, c.last_out);
        c.engaged = c.last_in && *c.last_in >= window_start;
        if (c.engaged) {
            ++e.engaged_contacts;
            if (c.champion) ++e.champions_engaged;
        }
        any_in |= c.engaged;
        any_out |= c.last_out && *c.last_out >= window_start;
    }
    e.two_way = any_in && any_out;
    e.single_threaded = e.two_way && e.engaged_contacts == 1;
    return e;
}

int64_t silent_days(const std::optional<TimePoint>& last_contact, TimePoint since, TimePoint now) {
    const TimePoint from = last_contact ? *last_contact : since;
    if (from >= now) return 0;
    return (now - from).count() / 86400;
}

}  // namespace rapport

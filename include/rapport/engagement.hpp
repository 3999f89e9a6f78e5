#pragma once
// How an account's people are engaged, from the mail the daemon has seen: who wrote in lately,
// whether everything runs through one person, how long the account has been silent. One
// definition shared by accounts.health (what the user is shown) and the account review (what
// it nudges about), so the two can never disagree.
#include <optional>
#include <string>
#include <vector>

#include "rapport/rules.hpp"
#include "rapport/time.hpp"

namespace rapport {

// The window for "engaged" and "single-threaded".
inline constexpr Seconds kEngagementWindow{90 * 86400};

// Per address at the account (listed contacts and others at its domains): the newest message
// from them (in) and to them (out). From the store's contact activity.
struct ContactSeen {
    std::string address;
    std::optional<TimePoint> last_in, last_out;
};

struct ContactEngagement {
    std::string address;
    std::string name;        // from the rules, else empty
    bool champion = false;   // a listed champion
    bool listed = false;     // in the account's contacts (not only at its domain)
    std::optional<TimePoint> last_in, last_out;
    bool engaged = false;    // wrote in within the window
};

struct Engagement {
    std::vector<ContactEngagement> contacts;  // listed contacts first (rules order), then others by address
    int engaged_contacts = 0;
    int champions_engaged = 0;
    bool two_way = false;          // mail both in and out within the window
    bool single_threaded = false;  // two-way mail, and exactly one person wrote in
    std::optional<TimePoint> last_contact;  // newest message either way
};

Engagement engagement_of(const Account& account, const std::vector<ContactSeen>& seen, TimePoint now);

// Whole days since the last message either way (since `since` when there was none); 0 when in
// the future.
int64_t silent_days(const std::optional<TimePoint>& last_contact, TimePoint since, TimePoint now);

}  // namespace rapport

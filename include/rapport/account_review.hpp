#pragma once
// The account review: what the rules and the account's mail say should happen to the nudges of
// the accounts the user owns, decided in one pure pass so that it can be tested with a fake
// clock and run as often as the daemon likes (at start, after a reload, after new mail, and at
// the next moment something falls due) with the same result.
//
// It decides four things, each at most once per cause, using what earlier reviews stored
// (AccountWatch) to know what was already acted on:
// - losses from the rules: an account the rules mark `lost` gets the loss nudges once per loss
//   (stage, `lost.on`, competitor and delivery); the rules moving it out of `lost` cancels them;
// - silence: no mail either way for rules.silence.after gives one `silence` nudge per silent
//   stretch; new mail closes it;
// - single-threaded: two-way mail that runs through one person gives one `single_threaded`
//   nudge, re-armed only after a second person wrote in;
// - owner changes: an account that was the user's and now has another owner is handed over
//   (a handoff draft, see fyi_draft.hpp) and the user's open nudges for it go with it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rapport/engagement.hpp"
#include "rapport/nudges.hpp"
#include "rapport/rules.hpp"
#include "rapport/time.hpp"

namespace rapport {

// What the reviews have acted on for one account (stored; one row per account ever reviewed).
struct AccountWatch {
    std::string account;
    std::string owner;         // the owner (person id) at the last review
    TimePoint first_seen;      // the first review: silence counts from here when no mail was seen
    std::string loss_applied;  // the rules' loss that has nudges (loss_signature), "" none
    std::optional<TimePoint> silence_told;  // the last contact a silence nudge was made for
    bool single_threaded_armed = true;      // false after a single_threaded nudge, until resolved
    int64_t handoffs = 0;      // owner changes handed over so far (keys each handoff's draft)
    bool operator==(const AccountWatch& o) const {
        return account == o.account && owner == o.owner && first_seen == o.first_seen &&
               loss_applied == o.loss_applied && silence_told == o.silence_told &&
               single_threaded_armed == o.single_threaded_armed && handoffs == o.handoffs;
    }
};

struct AccountSeen {
    std::string account;
    std::vector<ContactSeen> contacts;
};

struct ReviewInput {
    const Rules* rules = nullptr;
    std::string me;                        // the user's person id; "" when not in the rules
    std::vector<AccountWatch> watches;     // as stored
    std::vector<AccountSeen> seen;         // contact activity per account
    std::vector<Nudge> open_nudges;        // every open nudge
    // Every watched folder has read its history: until then an account looks silent or
    // single-threaded only because its mail is not read yet, so neither is decided.
    bool mail_history_complete = true;
};

struct Handoff {
    std::string account;
    std::string from, to;      // person ids: the user, the new owner
    int64_t sequence = 0;      // the watch's handoffs after this one
    std::vector<Nudge> nudges; // the user's open nudges for the account, which go with it
};

struct ReviewDecision {
    std::vector<AccountWatch> store;       // new or changed watches
    std::vector<PlannedNudge> add;
    std::vector<int64_t> cancel;           // open nudges to cancel (un-loss, loss replaced, handoff)
    std::vector<int64_t> close;            // open nudges resolved by mail (-> done)
    std::vector<LossReport> losses;        // losses from the rules, to record as deals
    std::vector<std::string> unlosses;     // accounts the rules moved out of lost
    std::vector<Handoff> handoffs;
    std::optional<Instant> next_review;    // the next moment a review would decide something new
    bool empty() const {
        return store.empty() && add.empty() && cancel.empty() && close.empty() && losses.empty() &&
               unlosses.empty() && handoffs.empty();
    }
};

// Who the user is in the rules: the person with the settings' user address, or "".
std::string person_of(const Rules& rules, const std::string& user_address);

// The identity of a loss the rules state: "" for an account that is not lost.
std::string loss_signature(const Account& account);

// When a loss dated lost_at is first seen at now: nudges already more than one step in the
// past are stale (a loss entered into the rules months later must not fire its whole history
// at once), so of the past ones only the newest is kept; it comes due at once.
std::vector<PlannedNudge> drop_stale(std::vector<PlannedNudge> planned, TimePoint now);

ReviewDecision review_accounts(const ReviewInput& in, Instant now);

// The nudge texts (exposed for tests and the docs).
std::string silence_text(const Account& account, const Engagement& e, int64_t days);
std::string single_threaded_text(const Account& account, const Engagement& e);

}  // namespace rapport

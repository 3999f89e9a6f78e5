#pragma once
// Follow-up nudges: "it's not over till it's over" — the competitor still has to deliver.
// Planning, the state machine and the schedule are pure; storing them and arming the one timer
// for the next due nudge are the daemon's.
//
//   pending ──(due time)──► due ──► done | dismissed
//      │  ▲                  │
//      ▼  │ (snooze ends)    │
//   snoozed ◄────────────────┘ (snooze)
//   any open state ──(deal reopened, loss replaced)──► cancelled
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapport/rules.hpp"
#include "rapport/time.hpp"

namespace rapport {

enum class NudgeState { pending, snoozed, due, done, dismissed, cancelled };
std::string_view to_string(NudgeState s);
std::optional<NudgeState> parse_nudge_state(std::string_view text);
// Open: still asks for attention (pending, snoozed or due).
bool is_open(NudgeState s);
// Waiting for its due time: pending, or snoozed until a later time.
bool is_scheduled(NudgeState s);

struct Nudge {
    int64_t id = 0;
    std::string account;
    std::string kind;   // follow_up | delivery
    TimePoint due;
    NudgeState state = NudgeState::pending;
    std::string text;
};

struct PlannedNudge {
    std::string account;
    std::string kind;
    TimePoint due;
    std::string text;
};

struct LossReport {
    std::string account;
    TimePoint lost_at;
    std::string competitor;         // may be empty
    std::optional<Date> delivery;   // the competitor's promised delivery
    std::string note;
};

// One follow-up per rules.loss.nudges offset after the loss, plus (when a delivery date is
// known) a check-in on the competitor's delivery day at 09:00 UTC, if that is in the future.
std::vector<PlannedNudge> plan_loss_nudges(const Account& account, const LossReport& loss,
                                           const RuleSettings& rules, const Person* owner);

// ---- the state machine: what a user's request does to a nudge ----
enum class NudgeRequest { snooze, done, dismiss };

struct NudgeChange {
    bool allowed = false;
    bool changed = false;           // false for a repeated done/dismiss (idempotent)
    NudgeState state = NudgeState::pending;
    std::optional<TimePoint> due;   // the new due time (snooze)
    std::string refusal;            // why not, when !allowed
};

// until: the end of a snooze (required for snooze; must be after now).
NudgeChange request_change(const Nudge& n, NudgeRequest request, Instant now,
                           std::optional<TimePoint> until = std::nullopt);

// ---- the schedule ----
// Of the scheduled nudges, those whose due time has come by now (due <= now), oldest first.
// Nudges that came due while the daemon was down are among them at start: none lost, and
// firing moves them to `due`, so none is fired twice.
std::vector<Nudge> nudges_to_fire(const std::vector<Nudge>& nudges, Instant now);

// When to look again: the earliest due time of a scheduled nudge still in the future, or
// nullopt when none is scheduled. The daemon keeps one timer for exactly this instant.
std::optional<Instant> next_nudge_wake(const std::vector<Nudge>& nudges, Instant now);

}  // namespace rapport

#pragma once
// Follow-up nudges after a lost deal: "it's not over till it's over" — the competitor still
// has to deliver. Planning is pure; storing and firing them is the daemon's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rapport/rules.hpp"
#include "rapport/time.hpp"

namespace rapport {

struct Nudge {
    int64_t id = 0;
    std::string account;
    std::string kind;   // follow_up | delivery
    TimePoint due;
    std::string state;  // pending | snoozed | due | done | dismissed | cancelled
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

}  // namespace rapport

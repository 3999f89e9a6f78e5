#pragma once
// Turns the two occasions for an FYI draft into intents for the effects journal (see
// rapport/fyi_draft.hpp): the account review's handoffs, and the Sent audit's owner_not_copied.
// Like the summary planner, everything is decided here, once, and the draft writer only
// appends the bytes.
#include <optional>
#include <string>

#include "app/daemon_state.hpp"
#include "effects/draft_intent.hpp"
#include "rapport/account_review.hpp"
#include "rapport/message.hpp"

namespace rapport {

// Reads the store (read transactions: call it outside write()). nullopt when there is no
// mailbox to put it in or the user's address is unusable (logged).
std::optional<DraftIntent> plan_handoff_intent(const Handoff& handoff, DaemonState& state, TimePoint now);

// No store access (it runs while a batch is decided). nullopt when the rules turn FYI drafts
// off, or the notification names no owner we know.
std::optional<DraftIntent> plan_not_copied_intent(const NotificationDraft& notification, const std::string& subject,
                                                  std::optional<TimePoint> sent, const std::string& mailbox,
                                                  const std::string& folder, const DaemonState& state, TimePoint now);

}  // namespace rapport

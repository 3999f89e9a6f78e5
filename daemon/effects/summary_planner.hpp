#pragma once
// Turns a customer meeting that just ended into a summary-draft intent for the effects journal:
// gathers what the draft should say (the directory's view of the attendees, the account's recent
// subjects and open nudges from the store, the meeting's local date and time), lets the core
// compose it, builds the finished RFC 5322 message, and returns the journal payload. Everything
// is decided here, once: the executor only puts these exact bytes into Drafts, so a retry after
// a crash appends the same message with the same X-Rapport-Draft id.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/daemon_state.hpp"
#include "effects/draft_intent.hpp"
#include "rapport/meetings.hpp"

namespace rapport {

using SummaryIntent = DraftIntent;

// The mailbox that gets the draft: the calendar's `mailbox`, else the first mailbox; empty when
// there is none.
std::string drafts_mailbox_for(const Settings& settings, const std::string& calendar_id);

// Reads the store (read transactions only: call it outside write()). nullopt when the rules
// say no draft (the reason is logged) or there is no mailbox to put it in.
std::optional<SummaryIntent> plan_summary_intent(const Meeting& meeting, DaemonState& state, TimePoint now);

}  // namespace rapport

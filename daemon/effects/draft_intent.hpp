#pragma once
// A draft decided and ready for the effects journal: the finished RFC 5322 message and what
// the draft writer and drafts.list need. Built once, when the decision is taken; the draft
// writer only puts these exact bytes into Drafts, so a retry after a crash appends the same
// message with the same X-Rapport-Draft id.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/config_loader.hpp"
#include "rapport/summary_draft.hpp"
#include "rapport/time.hpp"
#include "store/state_store.hpp"

namespace rapport {

struct DraftIntent {
    EffectKind kind = EffectKind::summary_draft;
    std::string key;         // the journal's unique key: the decision's identity
    nlohmann::json payload;  // mailbox, draft_id, message, subject, account, meeting, purpose
    TimePoint not_before;
};

// The user's local time ($TZ, else /etc/localtime), for texts people read.
std::string format_local(TimePoint t, const char* strftime_pattern);
std::string zone_label(TimePoint t);

// The message for `draft`, From the user, dated now, with X-Rapport-Draft: draft_id. nullopt
// (and *error) when the user's own values are unusable (e.g. a non-ASCII local part).
std::optional<std::string> draft_bytes(const ComposedDraft& draft, const std::string& draft_id,
                                       const Settings& settings, TimePoint now, std::string* error);

}  // namespace rapport

#pragma once
// What to do with one fetched message, decided without I/O: which contacts' activity it
// updates, which notifications it raises, whether its body is worth fetching. The mail watcher
// executes the decision (stores it in its next batch) and decides nothing itself.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rapport/message.hpp"

namespace rapport {

// Where a message sits and what the store already knows of it.
struct MessageContext {
    std::string mailbox;
    std::string folder;
    FolderRole role = FolderRole::other;
    std::string user_address;
    // It was in the folder when the folder was first examined (its UID is below the stored
    // boundary): history updates the contacts' activity and is never announced.
    bool history = false;
    // Its Message-ID is already recorded in this folder (e.g. before a UIDVALIDITY change):
    // whatever it earned was told then.
    bool already_seen = false;
    // The submission listener relayed it (its Message-ID is in DaemonState::relayed): the
    // owners compose.check named were added on the way out, so the Sent audit (which sees the
    // client's own copy, without that Cc) must not call it uncopied.
    bool relayed = false;
    TimePoint now;
    // Accounts lost through the API (deal.lost) and not reopened: they are as lost as those
    // whose stage is lost in the rules, so their contacts writing in is told too.
    const std::set<std::string>* lost_accounts = nullptr;
};

// Each account's recent messages (Message-ID, subject, contact) are kept for a draft's context
// (30 days back; the store keeps only the newest few, see StateStore::kAccountMessagesKept).
// The store prunes older ones every 6 hours; mail dated before this is not written to them
// at all: a first scan of a large folder is mostly years of history, whose rows would only
// be pruned (measured: they were a sixth of a 100,000-message scan).
inline constexpr Seconds kRecentMessagesKept{90 * 86400};

// A contact's newest mail in one direction (the store keeps the newest per direction).
struct ContactTouch {
    std::string account;
    std::string address;
    bool inbound = false;
    TimePoint when;
    // Dated within kRecentMessagesKept of now (or later): the message goes to the account's
    // recent messages as well as to the contact's activity.
    bool recent = true;
};

// Reasons to fetch a body (BODY.PEEK, size-capped; rapport/body_decision.hpp reads it):
//  - report: inbound mail that looks like a delivery report by its header fields (multipart/
//    report, X-Failed-Recipients, a MAILER-DAEMON or postmaster sender, a bounce subject) or an
//    auto-reply from an account's listed contact (Auto-Submitted, X-Autoreply,
//    X-Auto-Response-Suppress, Precedence, "Automatic reply:" and its translations), while
//    rules.contact_changes is enabled; history too, so that lookup knows who is gone.
//  - customer: new (not history) inbound mail a person at an account wrote, while
//    rules.loss.phrases has phrases.
// Nothing else is ever fetched: most mail costs its header fields only.
enum class BodyReason { none, report, customer };
const char* to_string(BodyReason r);
std::optional<BodyReason> parse_body_reason(const std::string& s);

struct MessageDecision {
    std::string message_id;  // the message's own, else a stable synthetic key
    std::string subject;     // kept with the contacts' activity: a draft's context
    std::vector<ContactTouch> contacts;
    std::vector<NotificationDraft> notifications;
    BodyReason fetch_body = BodyReason::none;
    bool history = false;  // the message is first-scan history (a body read then announces nothing)
};

MessageDecision decide_message(MessageSummary message, const AccountDirectory& directory,
                               const MessageContext& context);

// A message without a Message-ID still needs one identity across rescans and builds: a hash
// (FNV-1a, 64 bits) of its subject, first sender and date, never std::hash (which may change
// with the standard library and would make every such message new after an upgrade).
std::string synthetic_message_id(const MessageSummary& message);

}  // namespace rapport

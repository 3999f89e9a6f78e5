#pragma once
// FYI drafts: mail the daemon prepares in the user's Drafts for a colleague, for the user to
// read, edit and send. Two occasions, both through the effects journal (written in the same
// transaction as the decision, so a crash neither loses nor doubles one):
// - handoff: the account was the user's and the rules gave it to someone else — everything the
//   new owner needs to pick it up (contacts with their last mail, open follow-ups, upcoming
//   meetings, the last subjects exchanged);
// - not copied: the Sent audit found mail to an account that left without its owner — a note
//   to the owner with what was sent, so that "tell them" is one click.
// Pure: texts from mail and calendars are untrusted and cleaned here (clean_line); the MIME
// adapter (daemon/mime/draft_message.hpp) turns the result into the RFC 5322 message.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rapport/summary_draft.hpp"

namespace rapport {

struct HandoffContact {
    std::string name, address;
    bool champion = false;
    std::string state;                 // "" / "active", "bounced", "left"
    std::string last_in, last_out;     // YYYY-MM-DD or ""
};

struct HandoffItem {
    std::string when;  // a date or date-time as it should read
    std::string text;
};

struct HandoffContext {
    std::string account_name;
    std::string stage;                    // prospect | active | won | lost
    std::string lost_note;                // "went with Hooli on 2026-11-01" or ""
    DraftAddress user;                    // the old owner: From and signature
    DraftAddress new_owner;
    std::vector<HandoffContact> contacts; // listed contacts first
    std::vector<HandoffItem> nudges;      // open follow-ups, by due time
    std::vector<HandoffItem> meetings;    // upcoming customer meetings
    std::vector<RecentSubject> recent;    // newest first
};

ComposedDraft compose_handoff(const HandoffContext& c);

struct NotCopiedContext {
    std::string account_name;
    DraftAddress user, owner;
    std::string subject;                  // of the message that left (untrusted)
    std::string date;                     // "2026-12-01 10:30 (UTC)"
    std::vector<std::string> recipients;  // addresses it went to (untrusted)
    std::string folder;                   // where the original is ("Sent")
};

ComposedDraft compose_not_copied(const NotCopiedContext& c);

// "f-" and 16 hex digits of FNV-1a over the intent's key: stable across restarts, so the
// draft writer finds a draft it appended before a crash.
std::string fyi_draft_id(std::string_view key);

}  // namespace rapport

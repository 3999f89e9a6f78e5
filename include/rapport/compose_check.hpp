#pragma once
// The decision behind auto-cc: given a message about to be sent, which account owners (and,
// with rules.auto_cc.team, team members) must be copied, and what the sender should know. The
// same decision serves compose.check (the add-on), the submission listener and the Sent audit.
//
// Someone is added for an account reached by a recipient when: rules.auto_cc.enabled, the
// account's own auto_cc is not false, the sender's role is not in auto_cc.off_for_roles, the
// sender is not that person, and none of that person's addresses is already on the message
// (From, To, Cc or Bcc). Each person once, even for several accounts.
//
// Notices, each account once: lost (lost, with competitor and delivery date when known; to
// everyone), reference (a reference customer; not to its owner), prospect (a prospect its
// owner leads: talk to them first; not to the owner or team), domain (a recipient matched only
// by the account's domain, not a listed contact: check it; not to the owner), unknown_address,
// and, when `states` is given, left / bounced (a listed contact the mail said is gone: "Jane Doe
// left Acme Corp (auto-reply of 2026-11-20); it names raj@acme.example instead.").
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rapport/contact_state.hpp"
#include "rapport/directory.hpp"

namespace rapport {

struct ComposeInput {
    std::string from;
    std::vector<std::string> to, cc, bcc;
};

struct CcSuggestion {
    std::string address;
    std::string name;
    std::string account;
    std::string reason;
    std::string role = "owner";  // owner | team
};

struct ComposeNotice {
    std::string kind;  // reference | lost | prospect | domain | unknown_address | left | bounced
    std::string account;
    std::string text;
};

struct ComposeAdvice {
    std::vector<CcSuggestion> add_cc;
    std::vector<ComposeNotice> notices;
};

ComposeAdvice check_compose(const ComposeInput& input, const AccountDirectory& directory,
                            const ContactStates& states = nullptr);

// The states of many addresses in one call, answers in the same order (so a store reads them in
// one transaction).
using ContactStatesBatch =
    std::function<std::vector<std::optional<ContactStatus>>(const std::vector<std::string>& addresses)>;

// The same decision, asking `states` once for every listed contact written to.
ComposeAdvice check_compose_batched(const ComposeInput& input, const AccountDirectory& directory,
                                    const ContactStatesBatch& states);

}  // namespace rapport

#include "rapport/message_decision.hpp"

#include <algorithm>
#include <cstdio>

namespace rapport {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

uint64_t fnv1a(const std::string& text) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

std::string synthetic_message_id(const MessageSummary& m) {
    std::string key = m.subject;
    key += '\n';
    if (!m.from.empty()) key += m.from.front().address;
    key += '\n';
    if (m.date) key += std::to_string(m.date->time_since_epoch().count());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
    return std::string("no-message-id-") + hex;
}

MessageDecision decide_message(MessageSummary message, const AccountDirectory& directory,
                               const MessageContext& context) {
    MessageDecision d;
    if (message.message_id.empty()) message.message_id = synthetic_message_id(message);
    d.message_id = message.message_id;
    d.subject = message.subject.substr(0, 300);
    const Classification c = classify_message(message, directory, context.user_address, context.role);
    // A message without a Date is dated by when it was seen.
    const TimePoint when = message.date.value_or(context.now);
    for (const auto& inv : c.accounts) {
        if (c.direction == "in") {
            // Only a person writing counts as the contact being active: auto-replies and
            // delivery reports say nothing about the relationship.
            if (!c.automated && (contains(inv.contacts, c.sender) || contains(inv.others, c.sender)))
                d.contacts.push_back({inv.account->id, c.sender, true, when});
        } else {
            for (const auto* list : {&inv.contacts, &inv.others})
                for (const auto& a : *list) d.contacts.push_back({inv.account->id, a, false, when});
        }
    }
    if (!context.history && !context.already_seen) {
        d.notifications = message_notifications(message, c, directory, context.mailbox, context.folder, context.role);
        if (context.lost_accounts && c.direction == "in" && !c.automated)
            for (const auto& inv : c.accounts) {
                const Account& account = *inv.account;
                // Lost in the rules: message_notifications told it already.
                if (account.stage == Stage::lost || !context.lost_accounts->count(account.id)) continue;
                NotificationDraft lost;
                lost.kind = "lost_account_wrote";
                lost.account = account.id;
                const std::string from = message.from.empty() ? std::string()
                                         : message.from.front().name.empty() ? message.from.front().address
                                                                              : message.from.front().name + " <" +
                                                                                    message.from.front().address + ">";
                lost.text = account.name + " (marked lost) wrote: \"" +
                            (message.subject.empty() ? std::string("(no subject)") : message.subject) + "\" from " + from +
                            ". A chance to win them back?";
                lost.extra = {{"message_id", message.message_id}, {"from", from}};
                d.notifications.push_back(std::move(lost));
            }
        if (context.relayed)
            d.notifications.erase(std::remove_if(d.notifications.begin(), d.notifications.end(),
                                                 [](const NotificationDraft& n) { return n.kind == "owner_not_copied"; }),
                                  d.notifications.end());
    }
    return d;
}

}  // namespace rapport

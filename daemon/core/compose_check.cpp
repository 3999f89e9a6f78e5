#include "rapport/compose_check.hpp"

#include <algorithm>
#include <unordered_set>

namespace rapport {

ComposeAdvice check_compose(const ComposeInput& input, const AccountDirectory& directory) {
    ComposeAdvice advice;
    const auto& rules = directory.rules();
    const Match sender = directory.lookup(input.from);

    std::unordered_set<std::string> present;  // everyone already on the message
    if (!sender.address.empty()) present.insert(sender.address);
    std::vector<std::pair<Match, std::string>> customer_matches;  // match, field
    for (const auto* list : {&input.to, &input.cc, &input.bcc}) {
        for (const auto& raw : *list) {
            Match m = directory.lookup(raw);
            if (m.address.empty()) {
                advice.notices.push_back({"unknown_address", "", "\"" + raw + "\" is not a mail address."});
                continue;
            }
            present.insert(m.address);
            if (m.account) customer_matches.emplace_back(std::move(m), "");
        }
    }

    std::vector<std::string> seen_accounts;
    for (const auto& [m, field] : customer_matches) {
        const Account& account = *m.account;
        if (std::find(seen_accounts.begin(), seen_accounts.end(), account.id) != seen_accounts.end())
            continue;
        seen_accounts.push_back(account.id);
        const Person* owner = directory.owner_of(account);
        const bool sender_is_owner =
            owner && std::find(owner->addresses.begin(), owner->addresses.end(), sender.address) !=
                         owner->addresses.end();
        if (rules.rules.auto_cc.enabled && owner && !sender_is_owner && !owner->addresses.empty()) {
            const bool owner_present = std::any_of(owner->addresses.begin(), owner->addresses.end(),
                                                   [&](const std::string& a) { return present.count(a) > 0; });
            if (!owner_present) {
                advice.add_cc.push_back({owner->addresses.front(), owner->name, account.id,
                                         owner->name + " owns " + account.name + " (" + m.reason + ")"});
                present.insert(owner->addresses.front());
            }
        }
        if (account.reference && !sender_is_owner)
            advice.notices.push_back({"reference", account.id,
                                      account.name + " is a reference customer owned by " +
                                          (owner ? owner->name : account.owner) +
                                          "; coordinate reference requests with them."});
        if (account.stage == Stage::lost) {
            std::string text = account.name + " is a lost account";
            if (account.lost) {
                if (!account.lost->competitor.empty()) text += " (went with " + account.lost->competitor + ")";
                if (account.lost->delivery)
                    text += "; the competitor's delivery is due " + format_date(*account.lost->delivery);
            }
            advice.notices.push_back({"lost", account.id, text + "."});
        }
    }
    return advice;
}

}  // namespace rapport

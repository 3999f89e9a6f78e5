#include "rapport/compose_check.hpp"
#include "rapport/concat.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

namespace rapport {
namespace {

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// A set of addresses held as views (into the matches and the rules, which outlive it): a
// message names a few, searched in order without allocating per address; past a few dozen,
// a hash set, so a long recipient list does not turn quadratic.
class AddressSet {
public:
    explicit AddressSet(std::size_t expected) { small_.reserve(std::min(expected, kSmall)); }
    bool contains(std::string_view a) const {
        return large_.empty() ? std::find(small_.begin(), small_.end(), a) != small_.end() : large_.count(a) > 0;
    }
    // False when a was there already.
    bool insert(std::string_view a) {
        if (!large_.empty()) return large_.insert(a).second;
        if (std::find(small_.begin(), small_.end(), a) != small_.end()) return false;
        if (small_.size() < kSmall) {
            small_.push_back(a);
            return true;
        }
        large_.insert(small_.begin(), small_.end());
        small_.clear();
        return large_.insert(a).second;
    }

private:
    static constexpr std::size_t kSmall = 32;
    std::vector<std::string_view> small_;
    std::unordered_set<std::string_view> large_;
};

}  // namespace

ComposeAdvice check_compose(const ComposeInput& input, const AccountDirectory& directory, const ContactStates& states) {
    if (!states) return check_compose_batched(input, directory, nullptr);
    return check_compose_batched(input, directory, [&states](const std::vector<std::string>& addresses) {
        std::vector<std::optional<ContactStatus>> out;
        out.reserve(addresses.size());
        for (const auto& a : addresses) out.push_back(states(a));
        return out;
    });
}

ComposeAdvice check_compose_batched(const ComposeInput& input, const AccountDirectory& directory,
                                    const ContactStatesBatch& states) {
    ComposeAdvice advice;
    const auto& rules = directory.rules();
    const auto& auto_cc = rules.rules.auto_cc;
    // match(), not lookup(): a reason is shown only for the additions, built below for those.
    const Match sender = directory.match(input.from);
    const Person* sender_person = sender.person;
    // Auto-cc is off for some senders by role (e.g. support's routine mail).
    const bool sender_role_off = sender_person && has(auto_cc.off_for_roles, sender_person->role);

    // Every recipient's match, in a vector that never reallocates: the sets below hold views
    // of their addresses.
    std::vector<Match> matches;
    matches.reserve(input.to.size() + input.cc.size() + input.bcc.size());
    // Everyone already on the message: the sender, the recipients and a few added to Cc.
    AddressSet present(matches.capacity() + 4);
    if (!sender.address.empty()) present.insert(sender.address);
    std::vector<const Match*> customer_matches;
    customer_matches.reserve(matches.capacity());
    for (const auto* list : {&input.to, &input.cc, &input.bcc}) {
        for (const auto& raw : *list) {
            Match m = directory.match(raw);
            if (m.address.empty()) {
                advice.notices.push_back({"unknown_address", "", "\"" + raw + "\" is not a mail address."});
                continue;
            }
            matches.push_back(std::move(m));
            present.insert(matches.back().address);
            if (matches.back().account) customer_matches.push_back(&matches.back());
        }
    }
    auto is_present = [&](const Person& p) {
        return std::any_of(p.addresses.begin(), p.addresses.end(), [&](const std::string& a) { return present.contains(a); });
    };
    auto is_sender = [&](const Person& p) { return has(p.addresses, sender.address); };

    // What the mail told about the contacts being written to: each once.
    if (states) {
        AddressSet told(customer_matches.size());
        std::vector<const Match*> contacts;
        std::vector<std::string> addresses;
        contacts.reserve(customer_matches.size());
        addresses.reserve(customer_matches.size());
        for (const Match* match : customer_matches) {
            const Match& m = *match;
            if (m.kind != MatchKind::contact || !told.insert(m.address)) continue;
            contacts.push_back(&m);
            addresses.push_back(m.address);
        }
        const auto statuses = addresses.empty() ? std::vector<std::optional<ContactStatus>>{} : states(addresses);
        if (statuses.size() != contacts.size())
            throw std::logic_error("the contact states source answered " + std::to_string(statuses.size()) +
                                   " states for " + std::to_string(contacts.size()) + " addresses; it must answer each");
        for (std::size_t i = 0; i < contacts.size(); ++i) {
            const Match& m = *contacts[i];
            const auto& status = statuses[i];
            if (!status || status->state == ContactState::active) continue;
            const std::string name = m.contact && !m.contact->name.empty() ? m.contact->name : m.address;
            advice.notices.push_back({to_string(status->state), m.account->id,
                                      contact_status_text(name, m.account->name, *status)});
        }
    }

    std::vector<const Account*> seen_accounts;
    seen_accounts.reserve(customer_matches.size());
    AddressSet domain_told(customer_matches.size());
    for (const Match* match : customer_matches) {
        const Match& m = *match;
        const Account& account = *m.account;
        const Person* owner = directory.owner_of(account);
        const bool sender_is_owner = owner && is_sender(*owner);
        // Not to the owner: writing to new people at their own accounts is their job.
        if (m.kind == MatchKind::domain && !sender_is_owner && domain_told.insert(m.address))
            advice.notices.push_back({"domain", account.id,
                                      concat({m.address, " is not a listed contact of ", account.name,
                                              "; it matches the account only by its domain. Check the recipient."})});
        if (std::find(seen_accounts.begin(), seen_accounts.end(), &account) != seen_accounts.end()) continue;
        seen_accounts.push_back(&account);
        const bool sender_in_team =
            std::any_of(account.team.begin(), account.team.end(), [&](const std::string& id) {
                const Person* p = directory.person(id);
                return p && is_sender(*p);
            });
        if (auto_cc.enabled && account.auto_cc && !sender_role_off) {
            std::string match_reason;  // why m matched, composed only once someone is added for it
            // why: "<name><relation><account name><after> (<match reason>)"
            auto add = [&](const Person& p, const char* role, const char* relation, const char* after) {
                if (p.addresses.empty() || is_sender(p) || is_present(p)) return;
                if (match_reason.empty()) match_reason = directory.explain(m);
                advice.add_cc.push_back({p.addresses.front(), p.name, account.id,
                                         concat({p.name, relation, account.name, after, " (", match_reason, ")"}), role});
                present.insert(p.addresses.front());
            };
            if (owner) add(*owner, "owner", " owns ", "");
            if (auto_cc.team)
                for (const auto& id : account.team)
                    if (const Person* p = directory.person(id)) add(*p, "team", " is on ", "'s team");
        }
        // Told to the owner too: the competitor's delivery date is what their follow-up hangs on.
        if (account.stage == Stage::lost) {
            std::string text = account.name + " is a lost account";
            if (account.lost) {
                if (!account.lost->competitor.empty()) text += " (went with " + account.lost->competitor + ")";
                if (account.lost->delivery)
                    text += "; the competitor's delivery is due " + format_date(*account.lost->delivery);
            }
            advice.notices.push_back({"lost", account.id, text + "."});
        }
        if (sender_is_owner) continue;  // the owner needs no reminder of whose account it is
        const std::string& owner_name = owner ? owner->name : account.owner;
        if (account.reference)
            advice.notices.push_back({"reference", account.id,
                                      account.name + " is a reference customer owned by " + owner_name +
                                          "; coordinate reference requests with them."});
        if (account.stage == Stage::prospect && !sender_in_team)
            advice.notices.push_back({"prospect", account.id,
                                      account.name + " is a new prospect of " + owner_name + "; talk to " +
                                          owner_name + " before writing."});
    }
    return advice;
}

}  // namespace rapport

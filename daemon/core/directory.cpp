#include "rapport/directory.hpp"
#include "rapport/concat.hpp"

#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "rapport/address.hpp"

namespace rapport {

const char* to_string(MatchKind k) {
    switch (k) {
        case MatchKind::contact: return "contact";
        case MatchKind::domain: return "domain";
        case MatchKind::internal: return "internal";
        case MatchKind::none: return "none";
    }
    return "none";
}

const std::vector<std::string>& PublicDomains::builtin() {
    // Free mail providers: anyone can have an address there, so a domain match would attach
    // strangers to an account. Patterns ending in ".*" cover the provider's country domains.
    static const std::vector<std::string> list = {
        "gmail.com", "googlemail.com", "outlook.*", "hotmail.*", "live.*", "msn.com",
        "yahoo.*", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com", "aol.*",
        "aim.com", "gmx.*", "web.de", "t-online.de", "freenet.de", "posteo.de", "mailbox.org",
        "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com", "tutanota.de",
        "tuta.io", "tuta.com", "fastmail.com", "fastmail.fm", "hey.com", "zoho.com", "zohomail.com",
        "mail.com", "email.com", "inbox.com", "yandex.*", "ya.ru", "mail.ru", "rambler.ru",
        "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "naver.com", "daum.net",
        "hanmail.net", "rediffmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
        "sfr.fr", "libero.it", "virgilio.it", "tiscali.it", "seznam.cz", "wp.pl", "o2.pl",
        "onet.pl", "interia.pl", "bluewin.ch", "btinternet.com", "sky.com", "comcast.net",
        "verizon.net", "att.net", "sbcglobal.net", "cox.net", "charter.net", "earthlink.net",
        "bigpond.com", "optusnet.com.au", "shaw.ca", "rogers.com", "sympatico.ca", "uol.com.br",
        "bol.com.br", "terra.com.br"};
    return list;
}

PublicDomains::PublicDomains() {
    for (const auto& p : builtin()) add(p);
}

void PublicDomains::add(std::string_view pattern) {
    if (pattern.size() > 2 && pattern.substr(pattern.size() - 2) == ".*")
        prefixes_.emplace_back(pattern.substr(0, pattern.size() - 1));  // keep the dot
    else
        exact_.insert(*patterns_.emplace(pattern).first);
}

bool PublicDomains::contains(std::string_view domain) const {
    if (exact_.count(domain)) return true;
    for (const auto& prefix : prefixes_)
        if (domain.size() > prefix.size() && domain.substr(0, prefix.size()) == prefix) return true;
    return false;
}

namespace {

// FlatIndex values: 7 bits of the key's hash, then the account's index and the contact's or
// domain's (28 bits each). A probe compares the hash bits first and reads the key only when
// they agree: reading a key is a chain of cache misses into the rules (account, its contacts,
// the address's text), and most slots a probe passes hold other keys.
constexpr unsigned kIndexBits = 28;
constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;
constexpr unsigned kTagShift = 2 * kIndexBits;

std::uint64_t tag_of(std::string_view key) {
    // The top bits: FlatIndex picks the slot with the low ones.
    return static_cast<std::uint64_t>(std::hash<std::string_view>{}(key)) >> 57;
}
std::uint64_t pack(std::string_view key, std::size_t account, std::size_t item) {
    if (account > kIndexMask || item > kIndexMask)
        throw std::length_error("the rules hold more accounts, contacts or domains than the directory can index (" +
                                std::to_string(kIndexMask + 1) + " each); split them into several rules files");
    return tag_of(key) << kTagShift | static_cast<std::uint64_t>(account) << kIndexBits | item;
}
std::size_t account_of(std::uint64_t v) { return static_cast<std::size_t>(v >> kIndexBits & kIndexMask); }
std::size_t item_of(std::uint64_t v) { return static_cast<std::size_t>(v & kIndexMask); }
bool same_tag(std::uint64_t v, std::uint64_t tag) { return v >> kTagShift == tag; }

}  // namespace

AccountDirectory::AccountDirectory(std::shared_ptr<const Rules> rules) : rules_(std::move(rules)) {
    for (const auto& p : rules_->public_domains) public_.add(p);
    const auto& accounts = rules_->accounts;
    std::size_t contacts = 0, domains = 0;
    for (const auto& a : accounts) contacts += a.contacts.size(), domains += a.domains.size();
    contacts_.reserve(contacts);
    account_domains_.reserve(domains);
    const auto contact_key = [&accounts](std::uint64_t v) {
        return accounts[account_of(v)].contacts[item_of(v)].address.view();
    };
    const auto domain_key = [&accounts](std::uint64_t v) {
        return std::string_view(accounts[account_of(v)].domains[item_of(v)]);
    };
    // parse_rules refuses duplicates, so the first claim is the only one.
    for (std::size_t a = 0; a < accounts.size(); ++a) {
        for (std::size_t c = 0; c < accounts[a].contacts.size(); ++c)
            contacts_.insert(accounts[a].contacts[c].address, pack(accounts[a].contacts[c].address.view(), a, c),
                             contact_key);
        for (std::size_t d = 0; d < accounts[a].domains.size(); ++d)
            account_domains_.insert(accounts[a].domains[d], pack(accounts[a].domains[d], a, d), domain_key);
    }
    for (std::size_t p = 0; p < rules_->people.size(); ++p)
        for (const auto& address : rules_->people[p].addresses) people_.emplace(address, p);
    for (const auto& d : rules_->organization.domains) own_domains_.insert(d);
    // The first of equal ids, as Rules::person's scan answers (parse_rules refuses duplicates).
    for (const auto& p : rules_->people) people_by_id_.emplace(p.id, &p);
    owners_.reserve(accounts.size());
    for (const auto& a : accounts) owners_.push_back(person(a.owner));
}

const Person* AccountDirectory::person(std::string_view id) const {
    const auto it = people_by_id_.find(id);
    return it == people_by_id_.end() ? nullptr : it->second;
}

const Person* AccountDirectory::owner_of(const Account& account) const {
    // An account of these rules is found by its place; any other one by its owner's id.
    const auto& accounts = rules_->accounts;
    const std::less<const Account*> before;
    if (!accounts.empty() && !before(&account, accounts.data()) && before(&account, accounts.data() + accounts.size()))
        return owners_[static_cast<std::size_t>(&account - accounts.data())];
    return person(account.owner);
}

Match AccountDirectory::lookup(std::string_view raw) const {
    Match m = resolve(raw);
    m.reason = explain(m);
    return m;
}

Match AccountDirectory::match(std::string_view raw) const { return resolve(raw); }

Match AccountDirectory::resolve(std::string_view raw) const {
    Match m;
    if (is_normalized_address(raw)) {
        m.address = std::string(raw);
    } else if (auto parsed = parse_address(raw)) {
        m.address = parsed->normalized();
    } else {
        return m;
    }
    const auto& accounts = rules_->accounts;
    // A slot whose hash bits differ answers an empty key, which equals no address.
    if (auto found = contacts_.find(m.address, [&accounts, tag = tag_of(m.address)](std::uint64_t v) {
            return same_tag(v, tag) ? accounts[account_of(v)].contacts[item_of(v)].address.view() : std::string_view();
        })) {
        const Account& account = accounts[account_of(*found)];
        m.kind = MatchKind::contact;
        m.account = &account;
        m.contact = &account.contacts[item_of(*found)];
        return m;
    }
    if (auto it = people_.find(m.address); it != people_.end()) {
        m.kind = MatchKind::internal;
        m.person = &rules_->people[it->second];
        return m;
    }
    // normalized() is local@domain and a normalised domain has no '@'.
    const std::string_view domain = std::string_view(m.address).substr(m.address.rfind('@') + 1);
    if (public_.contains(domain)) return m;
    // Walk from the full domain to its parents: the most specific claim wins, so a subsidiary
    // listed as its own account beats its parent company.
    std::string_view suffix = domain;
    while (!suffix.empty()) {
        if (auto own = own_domains_.find(suffix); own != own_domains_.end()) {
            m.kind = MatchKind::internal;
            m.claimed_domain = *own;
            return m;
        }
        if (auto found = account_domains_.find(suffix, [&accounts, tag = tag_of(suffix)](std::uint64_t v) {
                return same_tag(v, tag) ? std::string_view(accounts[account_of(v)].domains[item_of(v)]) : std::string_view();
            })) {
            const Account& account = accounts[account_of(*found)];
            m.kind = MatchKind::domain;
            m.account = &account;
            m.claimed_domain = account.domains[item_of(*found)];
            return m;
        }
        const auto dot = suffix.find('.');
        if (dot == std::string_view::npos) break;
        suffix.remove_prefix(dot + 1);
    }
    return m;
}

std::string AccountDirectory::explain(const Match& m) const {
    if (m.address.empty()) return "not a mail address";
    // normalized() is local@domain and a normalised domain has no '@'.
    const std::string_view domain = std::string_view(m.address).substr(m.address.rfind('@') + 1);
    const std::string_view organization = rules_->organization.name;
    switch (m.kind) {
        case MatchKind::contact:
            return concat({m.address, " is listed as a contact of ", m.account->name, " (", m.account->id, ")"});
        case MatchKind::internal:
            if (m.person)
                return concat({m.address, " is an address of ", m.person->name, " (", m.person->id,
                               "), one of your organisation's people"});
            return m.claimed_domain == domain
                       ? concat({domain, " is one of ", organization, "'s own domains"})
                       : concat({domain, " is a subdomain of ", m.claimed_domain, ", one of ", organization, "'s own domains"});
        case MatchKind::domain:
            return m.claimed_domain == domain
                       ? concat({domain, " is a domain of ", m.account->name, " (", m.account->id, ")"})
                       : concat({domain, " is a subdomain of ", m.claimed_domain, ", a domain of ", m.account->name, " (",
                                 m.account->id, ")"});
        case MatchKind::none: break;
    }
    if (public_.contains(domain))
        return concat({domain, " is a public mail domain; addresses there match only when listed as contacts"});
    return concat({domain, " belongs to no account and is not one of your organisation's domains"});
}

}  // namespace rapport

#pragma once
// The account directory: who an address belongs to, and why. Built once per rules load and
// then only read, so lookups need no locking and cost one or a few hash probes. The contact
// and account-domain tables are flat (FlatIndex): they hold indices into the Rules, no copies
// of the strings.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rapport/flat_index.hpp"
#include "rapport/rules.hpp"

namespace rapport {

enum class MatchKind { contact, domain, internal, none };
const char* to_string(MatchKind k);

struct Match {
    MatchKind kind = MatchKind::none;
    std::string address;               // normalised; empty if the input was not an address
    const Account* account = nullptr;  // contact or domain matches
    const Contact* contact = nullptr;  // contact matches
    const Person* person = nullptr;    // internal matches that name a person
    // The organisation's or the account's domain that claimed the address (a parent of its
    // domain for subdomains); empty for contact, person and unmatched answers. A view into the
    // directory's rules.
    std::string_view claimed_domain;
    std::string reason;                // one sentence: why this answer (lookup() only)
};

class PublicDomains {
public:
    PublicDomains();  // the built-in list
    void add(std::string_view pattern);  // "example.com" or "gmx.*"
    bool contains(std::string_view domain) const;
    static const std::vector<std::string>& builtin();

private:
    std::unordered_set<std::string> patterns_;       // owns the exact patterns' text
    std::unordered_set<std::string_view> exact_;     // views into patterns_ (nodes do not move)
    std::vector<std::string> prefixes_;  // "gmx." for "gmx.*"
};

class AccountDirectory {
public:
    explicit AccountDirectory(std::shared_ptr<const Rules> rules);

    Match lookup(std::string_view address) const;
    // lookup() without the reason sentence (left empty): the same kind, address and pointers.
    // For the scan's hot path, which looks up every address of every message and never shows
    // why; composing the sentence was most of a lookup's cost.
    Match match(std::string_view address) const;
    // The reason sentence lookup() gives, for an answer of match(): for callers that show why
    // only for some of the addresses they look up (compose.check: those that add someone).
    std::string explain(const Match& m) const;
    const Rules& rules() const { return *rules_; }
    const std::shared_ptr<const Rules>& rules_ptr() const { return rules_; }
    // Both without a scan of the people: indexed when the directory is built.
    const Person* owner_of(const Account& account) const;
    const Person* person(std::string_view id) const;
    const PublicDomains& public_domains() const { return public_; }

private:
    Match resolve(std::string_view address) const;

    std::shared_ptr<const Rules> rules_;
    PublicDomains public_;
    FlatIndex contacts_;         // address -> account << 32 | contact
    FlatIndex account_domains_;  // domain -> account << 32 | domain
    // Keys are views into *rules_ (kept alive by rules_), so a lookup probes them with a
    // string_view and allocates no key.
    std::unordered_map<std::string_view, std::size_t> people_;  // address -> person index
    std::unordered_map<std::string_view, const Person*> people_by_id_;
    std::vector<const Person*> owners_;  // by account index
    std::unordered_set<std::string_view> own_domains_;
};

}  // namespace rapport

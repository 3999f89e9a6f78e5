#include "rapport/rules.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "json_reader.hpp"
#include "rules_stream.hpp"
#include "rapport/flat_index.hpp"
#include "rapport/address.hpp"
#include "rapport/directory.hpp"
#include "rapport/json_text.hpp"

namespace rapport {

const char* to_string(Stage s) {
    switch (s) {
        case Stage::prospect: return "prospect";
        case Stage::active: return "active";
        case Stage::won: return "won";
        case Stage::lost: return "lost";
    }
    return "active";
}

const char* to_string(DraftRecipients r) {
    switch (r) {
        case DraftRecipients::attendees: return "attendees";
        case DraftRecipients::owner: return "owner";
        case DraftRecipients::self: return "self";
    }
    return "attendees";
}

const Person* Rules::person(std::string_view id) const {
    for (const auto& p : people)
        if (p.id == id) return &p;
    return nullptr;
}

const Account* Rules::account(std::string_view id) const {
    for (const auto& a : accounts)
        if (a.id == id) return &a;
    return nullptr;
}

namespace {

using detail::json;
using detail::JsonReader;

bool valid_id(const std::string& id) { return detail::valid_rules_id(id); }

std::string q(const std::string& s) { return "\"" + s + "\""; }

class RulesParser {
public:
    RulesParser(const std::string& file, Diagnostics& out) : r_(file, out), file_(file), diagnostics_(out) {}

    std::shared_ptr<Rules> parse(const json& root) {
        auto rules = std::make_shared<Rules>();
        rules->text = arena_;
        if (!r_.object(root, "$", {"$schema", "organization", "people", "accounts", "rules",
                                   "public_domains"},
                       {"organization", "people"}))
            return rules;
        if (auto extra = r_.strings(root, "$", "public_domains")) {
            for (std::size_t i = 0; i < extra->size(); ++i) {
                std::string pattern = (*extra)[i];
                const bool wildcard = pattern.size() > 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0;
                auto d = normalize_domain(wildcard ? pattern.substr(0, pattern.size() - 2) : pattern);
                if (!d) {
                    r_.error(JsonReader::index_path("$.public_domains", i),
                             q(pattern) + " is not a domain name or a pattern such as \"gmx.*\"");
                    continue;
                }
                rules->public_domains.push_back(wildcard ? *d + ".*" : *d);
                public_.add(rules->public_domains.back());
            }
        }
        if (const json* org = r_.find(root, "$", "organization")) organization(*org, *rules);
        if (const json* people_json = r_.array(root, "$", "people"))
            people(*people_json, *rules);
        if (const json* accounts_json = r_.array(root, "$", "accounts"))
            accounts(*accounts_json, *rules);
        if (const json* rules_json = r_.find(root, "$", "rules"))
            settings(*rules_json, rules->rules);
        return rules;
    }

    // The fast path: the small sections as usual, then the streamed accounts checked against
    // them. Null when anything is wrong: the caller then takes the DOM path for the messages.
    std::shared_ptr<Rules> parse_streamed(detail::StreamedRules& s) {
        auto rules = parse(s.rest);
        if (!diagnostics_.empty() || !streamed_accounts_valid(s)) return nullptr;
        rules->accounts = std::move(s.accounts);
        rules->text = s.arena;
        return rules;
    }

private:
    bool streamed_accounts_valid(detail::StreamedRules& s) const {
        auto& accounts = s.accounts;
        std::size_t contact_count = 0, domain_count = 0;
        for (const auto& a : accounts) contact_count += a.contacts.size(), domain_count += a.domains.size();
        FlatIndex ids, domains, contacts;
        ids.reserve(accounts.size());
        domains.reserve(domain_count);
        contacts.reserve(contact_count);
        // Index values: the account's index in the high half, the domain's or contact's in the low.
        const auto pack = [](std::size_t a, std::size_t k) { return std::uint64_t{a} << 32 | k; };
        const auto id_of = [&](std::uint64_t v) { return std::string_view(accounts[v].id); };
        const auto domain_of = [&](std::uint64_t v) {
            return std::string_view(accounts[v >> 32].domains[v & 0xFFFFFFFFu]);
        };
        const auto contact_of = [&](std::uint64_t v) {
            return accounts[v >> 32].contacts[v & 0xFFFFFFFFu].address.view();
        };
        std::unordered_set<std::string_view> person_addresses;
        for (const auto& [a, path] : person_addresses_) person_addresses.insert(a);
        for (std::size_t i = 0; i < accounts.size(); ++i) {
            const Account& a = accounts[i];
            if (ids.insert(a.id, i, id_of) || !person_ids_.count(a.owner)) return false;
            for (const auto& t : a.team)
                if (!person_ids_.count(t)) return false;
            for (std::size_t k = 0; k < a.domains.size(); ++k) {
                const std::string& d = a.domains[k];
                if (public_.contains(d) || own_domain(d) || domains.insert(d, pack(i, k), domain_of)) return false;
            }
            for (std::size_t k = 0; k < a.contacts.size(); ++k) {
                const std::string_view address = a.contacts[k].address;
                if (own_domain(address.substr(address.rfind('@') + 1)) || person_addresses.count(address) ||
                    contacts.insert(address, pack(i, k), contact_of))
                    return false;
            }
        }
        for (auto& [index, lost] : s.lost) {
            Account& account = accounts[index];
            if (account.stage != Stage::lost) return false;
            Diagnostics problems;
            JsonReader reader(file_, problems);
            if (!reader.object(lost, "$", {"on", "competitor", "delivery"})) return false;
            LostDeal deal;
            deal.on = reader.date(lost, "$", "on");
            if (auto competitor = reader.string(lost, "$", "competitor", false)) deal.competitor = *competitor;
            deal.delivery = reader.date(lost, "$", "delivery");
            if (!problems.empty()) return false;
            account.lost = deal;
        }
        return true;
    }

    bool own_domain(std::string_view domain) const {
        for (const auto& d : own_domains_)
            if (domain == d || (domain.size() > d.size() &&
                                domain.compare(domain.size() - d.size(), d.size(), d) == 0 &&
                                domain[domain.size() - d.size() - 1] == '.'))
                return true;
        return false;
    }

    std::optional<std::string> domain(const json& v, const std::string& path) {
        if (!v.is_string()) {
            r_.error(path, std::string("expected a string, got ") + JsonReader::type_name(v));
            return std::nullopt;
        }
        const std::string text = v.get<std::string>();
        auto d = normalize_domain(text);
        if (!d || d->find('.') == std::string::npos || d->front() == '[') {
            r_.error(path, q(text) + " is not a domain name (expected something like \"acme.example\")");
            return std::nullopt;
        }
        return d;
    }

    std::optional<std::string> address(const json& v, const std::string& path) {
        if (!v.is_string()) {
            r_.error(path, std::string("expected a string, got ") + JsonReader::type_name(v));
            return std::nullopt;
        }
        const std::string text = v.get<std::string>();
        auto a = parse_address(text);
        if (!a || !a->display_name.empty() || a->domain.find('.') == std::string::npos) {
            r_.error(path, q(text) + " is not a mail address (expected something like \"jane@acme.example\")");
            return std::nullopt;
        }
        return a->normalized();
    }

    void organization(const json& v, Rules& rules) {
        const std::string path = "$.organization";
        if (!r_.object(v, path, {"name", "domains"}, {"name", "domains"})) return;
        if (auto name = r_.string(v, path, "name")) rules.organization.name = *name;
        if (const json* domains = r_.array(v, path, "domains")) {
            if (domains->empty()) r_.error(path + ".domains", "list at least one domain of your organisation");
            for (std::size_t i = 0; i < domains->size(); ++i) {
                const std::string p = JsonReader::index_path(path + ".domains", i);
                auto d = domain((*domains)[i], p);
                if (!d) continue;
                if (public_.contains(*d)) {
                    r_.error(p, q(*d) + " is a public mail domain; it cannot be the organisation's own domain");
                    continue;
                }
                rules.organization.domains.push_back(*d);
            }
        }
        own_domains_ = rules.organization.domains;
    }

    void people(const json& list, Rules& rules) {
        std::unordered_map<std::string, std::string> ids, addresses;  // value -> path
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string path = JsonReader::index_path("$.people", i);
            const json& v = list[i];
            if (!r_.object(v, path, {"id", "name", "addresses", "role"}, {"id", "name", "addresses"}))
                continue;
            Person person;
            if (auto id = r_.string(v, path, "id")) {
                if (!valid_id(*id)) {
                    r_.error(path + ".id", q(*id) + " is not a valid id (use 1-64 letters, digits, '.', '_' or '-')");
                } else if (auto [it, fresh] = ids.emplace(*id, path + ".id"); !fresh) {
                    r_.error(path + ".id", "id " + q(*id) + " is already used by " + it->second);
                }
                person.id = *id;
            }
            if (auto name = r_.string(v, path, "name")) person.name = *name;
            if (const json* list_json = r_.array(v, path, "addresses")) {
                if (list_json->empty()) r_.error(path + ".addresses", "list at least one address");
                for (std::size_t k = 0; k < list_json->size(); ++k) {
                    const std::string p = JsonReader::index_path(path + ".addresses", k);
                    auto a = address((*list_json)[k], p);
                    if (!a) continue;
                    if (auto [it, fresh] = addresses.emplace(*a, p); !fresh) {
                        r_.error(p, "address " + q(*a) + " is already listed at " + it->second);
                        continue;
                    }
                    person.addresses.push_back(*a);
                }
            }
            if (auto role = r_.string(v, path, "role")) {
                static const char* roles[] = {"rep", "marketing", "manager", "support", "other"};
                if (std::none_of(std::begin(roles), std::end(roles), [&](const char* r) { return *role == r; }))
                    r_.error(path + ".role", q(*role) + " is not a role; use rep, marketing, manager, support or other");
                person.role = *role;
            } else {
                person.role = "rep";
            }
            rules.people.push_back(std::move(person));
        }
        person_addresses_ = std::move(addresses);
        for (const auto& [id, path] : ids) person_ids_.insert(id);
    }

    void accounts(const json& list, Rules& rules) {
        std::unordered_map<std::string, std::string> ids;
        // value -> (account id, path) so a conflict names both places
        std::unordered_map<std::string, std::pair<std::string, std::string>> domains, contacts;
        rules.accounts.reserve(list.size());
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string path = JsonReader::index_path("$.accounts", i);
            const json& v = list[i];
            if (!r_.object(v, path, {"id", "name", "domains", "owner", "team", "reference",
                                     "contacts", "stage", "lost", "auto_cc"},
                           {"id", "name", "owner"}))
                continue;
            Account account;
            if (auto id = r_.string(v, path, "id")) {
                if (!valid_id(*id)) {
                    r_.error(path + ".id", q(*id) + " is not a valid id (use 1-64 letters, digits, '.', '_' or '-')");
                } else if (auto [it, fresh] = ids.emplace(*id, path + ".id"); !fresh) {
                    r_.error(path + ".id", "id " + q(*id) + " is already used by " + it->second);
                }
                account.id = *id;
            }
            if (auto name = r_.string(v, path, "name")) account.name = *name;
            if (auto owner = r_.string(v, path, "owner")) {
                if (!person_ids_.count(*owner))
                    r_.error(path + ".owner", q(*owner) + " names no person in $.people");
                account.owner = *owner;
            }
            if (auto team = r_.strings(v, path, "team")) {
                for (std::size_t k = 0; k < team->size(); ++k)
                    if (!person_ids_.count((*team)[k]))
                        r_.error(JsonReader::index_path(path + ".team", k),
                                 q((*team)[k]) + " names no person in $.people");
                account.team = *team;
            }
            if (auto reference = r_.boolean(v, path, "reference")) account.reference = *reference;
            if (auto auto_cc = r_.boolean(v, path, "auto_cc")) account.auto_cc = *auto_cc;
            if (const json* list_json = r_.array(v, path, "domains")) {
                for (std::size_t k = 0; k < list_json->size(); ++k) {
                    const std::string p = JsonReader::index_path(path + ".domains", k);
                    auto d = domain((*list_json)[k], p);
                    if (!d) continue;
                    if (public_.contains(*d)) {
                        r_.error(p, q(*d) + " is a public mail domain and cannot identify an account; "
                                    "list the account's addresses there as contacts instead");
                        continue;
                    }
                    if (own_domain(*d)) {
                        r_.error(p, q(*d) + " is one of the organisation's own domains ($.organization.domains)");
                        continue;
                    }
                    if (auto [it, fresh] = domains.emplace(*d, std::make_pair(account.id, p)); !fresh) {
                        r_.error(p, "domain " + q(*d) + " is already claimed by account " +
                                        q(it->second.first) + " (" + it->second.second + ")");
                        continue;
                    }
                    account.domains.push_back(*d);
                }
            }
            if (const json* list_json = r_.array(v, path, "contacts")) {
                account.contacts.reserve(list_json->size());
                for (std::size_t k = 0; k < list_json->size(); ++k) {
                    const std::string p = JsonReader::index_path(path + ".contacts", k);
                    const json& c = (*list_json)[k];
                    if (!r_.object(c, p, {"address", "name", "champion"}, {"address"})) continue;
                    Contact contact;
                    if (const json* a = r_.find(c, p, "address")) {
                        auto addr = address(*a, p + ".address");
                        if (!addr) continue;
                        const std::string domain_part = addr->substr(addr->rfind('@') + 1);
                        if (own_domain(domain_part) || person_addresses_.count(*addr)) {
                            r_.error(p + ".address", q(*addr) + " belongs to your own organisation, not to a customer");
                            continue;
                        }
                        if (auto [it, fresh] = contacts.emplace(*addr, std::make_pair(account.id, p + ".address"));
                            !fresh) {
                            r_.error(p + ".address", "address " + q(*addr) + " is already a contact of account " +
                                                         q(it->second.first) + " (" + it->second.second + ")");
                            continue;
                        }
                        contact.address = arena_->add(*addr);
                    }
                    if (auto name = r_.string(c, p, "name", false)) contact.name = arena_->add(*name);
                    if (auto champion = r_.boolean(c, p, "champion")) contact.champion = *champion;
                    account.contacts.push_back(std::move(contact));
                }
            }
            if (auto stage = r_.string(v, path, "stage")) {
                static const std::pair<const char*, Stage> stages[] = {
                    {"prospect", Stage::prospect}, {"active", Stage::active},
                    {"won", Stage::won}, {"lost", Stage::lost}};
                auto it = std::find_if(std::begin(stages), std::end(stages),
                                       [&](const auto& s) { return *stage == s.first; });
                if (it == std::end(stages))
                    r_.error(path + ".stage", q(*stage) + " is not a stage; use prospect, active, won or lost");
                else
                    account.stage = it->second;
            }
            if (const json* lost = r_.find(v, path, "lost")) {
                const std::string p = path + ".lost";
                if (account.stage != Stage::lost) {
                    r_.error(p, "only an account whose stage is \"lost\" can carry \"lost\"");
                } else if (r_.object(*lost, p, {"on", "competitor", "delivery"})) {
                    LostDeal deal;
                    deal.on = r_.date(*lost, p, "on");
                    if (auto competitor = r_.string(*lost, p, "competitor", false)) deal.competitor = *competitor;
                    deal.delivery = r_.date(*lost, p, "delivery");
                    account.lost = deal;
                }
            }
            rules.accounts.push_back(std::move(account));
        }
    }

    void settings(const json& v, RuleSettings& s) {
        const std::string path = "$.rules";
        if (!r_.object(v, path, {"auto_cc", "summary_drafts", "loss", "contact_changes", "silence"}))
            return;
        if (const json* o = r_.find(v, path, "auto_cc")) {
            const std::string p = path + ".auto_cc";
            if (r_.object(*o, p, {"enabled", "off_for_roles", "team", "fyi_drafts"})) {
                if (auto b = r_.boolean(*o, p, "enabled")) s.auto_cc.enabled = *b;
                if (auto b = r_.boolean(*o, p, "fyi_drafts")) s.auto_cc.fyi_drafts = *b;
                if (auto b = r_.boolean(*o, p, "team")) s.auto_cc.team = *b;
                if (auto roles = r_.strings(*o, p, "off_for_roles")) {
                    static const char* known[] = {"rep", "marketing", "manager", "support", "other"};
                    for (std::size_t k = 0; k < roles->size(); ++k)
                        if (std::none_of(std::begin(known), std::end(known), [&](const char* r) { return (*roles)[k] == r; }))
                            r_.error(JsonReader::index_path(p + ".off_for_roles", k),
                                     q((*roles)[k]) + " is not a role; use rep, marketing, manager, support or other");
                    s.auto_cc.off_for_roles = *roles;
                }
            }
        }
        if (const json* o = r_.find(v, path, "summary_drafts")) {
            const std::string p = path + ".summary_drafts";
            if (r_.object(*o, p, {"enabled", "delay", "min_duration", "recipients", "catch_up", "subject",
                                  "template"})) {
                if (auto b = r_.boolean(*o, p, "enabled")) s.summary_drafts.enabled = *b;
                if (auto d = r_.duration(*o, p, "delay")) s.summary_drafts.delay = *d;
                if (auto d = r_.duration(*o, p, "min_duration")) s.summary_drafts.min_duration = *d;
                if (auto d = r_.duration(*o, p, "catch_up")) s.summary_drafts.catch_up = *d;
                if (auto r = r_.string(*o, p, "recipients")) {
                    if (*r == "attendees") s.summary_drafts.recipients = DraftRecipients::attendees;
                    else if (*r == "owner") s.summary_drafts.recipients = DraftRecipients::owner;
                    else if (*r == "self") s.summary_drafts.recipients = DraftRecipients::self;
                    else r_.error(p + ".recipients", q(*r) + " is not one of attendees, owner, self");
                }
                if (auto subject = r_.string(*o, p, "subject")) {
                    auto problems = check_template(*subject, TemplatePart::subject, file_, p + ".subject");
                    if (problems.empty()) s.summary_drafts.draft_template.subject = *subject;
                    diagnostics_.insert(diagnostics_.end(), problems.begin(), problems.end());
                }
                if (auto file = r_.string(*o, p, "template")) {
                    if (file->find('\0') != std::string::npos)
                        r_.error(p + ".template", "a file name cannot hold a NUL character");
                    else
                        s.summary_drafts.template_file = *file;
                }
            }
        }
        if (const json* o = r_.find(v, path, "loss")) {
            const std::string p = path + ".loss";
            if (r_.object(*o, p, {"nudges", "phrases"})) {
                if (const json* nudges = r_.array(*o, p, "nudges")) {
                    std::vector<Seconds> list;
                    for (std::size_t k = 0; k < nudges->size(); ++k) {
                        const std::string ep = JsonReader::index_path(p + ".nudges", k);
                        const json& e = (*nudges)[k];
                        auto d = e.is_string() ? parse_duration(e.get<std::string>()) : std::nullopt;
                        if (!d || d->count() == 0) {
                            r_.error(ep, (e.is_string() ? q(e.get<std::string>()) : std::string(JsonReader::type_name(e))) +
                                             " is not a positive ISO 8601 duration such as \"P14D\"");
                            continue;
                        }
                        if (*d > Seconds{3650LL * 86400}) {
                            r_.error(ep, format_duration(*d) + " is too far away; a follow-up nudge comes at most "
                                         "ten years (P3650D) after the loss");
                            continue;
                        }
                        if (!list.empty() && *d <= list.back()) {
                            r_.error(ep, "nudges must be in increasing order (" + format_duration(*d) +
                                             " comes after " + format_duration(list.back()) + ")");
                            continue;
                        }
                        list.push_back(*d);
                    }
                    if (nudges->size() > 20) r_.error(p + ".nudges", "at most 20 nudges per lost deal");
                    s.loss.nudges = list;
                }
                if (auto phrases = r_.strings(*o, p, "phrases")) {
                    std::vector<std::string> lowered;
                    for (std::size_t k = 0; k < phrases->size(); ++k) {
                        std::string ph = (*phrases)[k];
                        if (ph.find_first_not_of(' ') == std::string::npos) {
                            r_.error(JsonReader::index_path(p + ".phrases", k), "a phrase must not be empty");
                            continue;
                        }
                        for (auto& c : ph) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                        lowered.push_back(ph);
                    }
                    s.loss.phrases = lowered;
                }
            }
        }
        if (const json* o = r_.find(v, path, "contact_changes")) {
            const std::string p = path + ".contact_changes";
            if (r_.object(*o, p, {"enabled"}))
                if (auto b = r_.boolean(*o, p, "enabled")) s.contact_changes.enabled = *b;
        }
        if (const json* o = r_.find(v, path, "silence")) {
            const std::string p = path + ".silence";
            if (r_.object(*o, p, {"enabled", "after"})) {
                if (auto b = r_.boolean(*o, p, "enabled")) s.silence.enabled = *b;
                if (auto d = r_.duration(*o, p, "after")) {
                    if (*d < Seconds{86400}) r_.error(p + ".after", "silence must be at least one day (\"P1D\")");
                    else s.silence.after = *d;
                }
            }
        }
    }

    JsonReader r_;
    std::shared_ptr<StringArena> arena_ = std::make_shared<StringArena>();
    std::string file_;
    Diagnostics& diagnostics_;  // the same list r_ writes to, for checks outside JsonReader
    PublicDomains public_;
    std::vector<std::string> own_domains_;
    std::unordered_set<std::string> person_ids_;
    std::unordered_map<std::string, std::string> person_addresses_;
};

}  // namespace

RulesResult detail::parse_rules_with_dom(std::string_view text, const std::string& file_name) {
    RulesResult result;
    JsonDocument doc = parse_json_text(text, file_name, JsonLimits{kMaxRulesBytes, JsonLimits{}.max_depth});
    if (!doc.value) {
        result.diagnostics = std::move(doc.diagnostics);
        return result;
    }
    RulesParser parser(file_name, result.diagnostics);
    auto rules = parser.parse(*doc.value);
    if (result.diagnostics.empty()) result.rules = std::move(rules);
    return result;
}

// A valid file, the common case and the large one, is read in one streaming pass into its final
// form; anything else is read again by the DOM walk, whose messages (and their order) are what
// --check-config prints. A broken file pays twice; a good one pays neither the JSON document
// nor the copies out of it.
RulesResult parse_rules(std::string_view text, const std::string& file_name) {
    const JsonLimits limits{kMaxRulesBytes, JsonLimits{}.max_depth};
    if (text.size() <= limits.max_bytes && text.find('\0') == std::string_view::npos) {
        if (auto streamed = detail::stream_rules(text, limits.max_depth)) {
            RulesResult result;
            RulesParser parser(file_name, result.diagnostics);
            if (auto rules = parser.parse_streamed(*streamed); rules && result.diagnostics.empty()) {
                result.rules = std::move(rules);
                return result;
            }
        }
    }
    return detail::parse_rules_with_dom(text, file_name);
}

}  // namespace rapport

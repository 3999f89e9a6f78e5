#pragma once
// The admin's rules file as immutable values. Built only by parse_rules(), which validates
// everything, so code that holds a Rules can trust it (ids resolve, durations are sane).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rapport/diagnostic.hpp"
#include "rapport/summary_draft.hpp"  // DraftRecipients, SummaryTemplate
#include "rapport/time.hpp"

namespace rapport {

enum class Stage { prospect, active, won, lost };
const char* to_string(Stage s);

struct Person {
    std::string id;
    std::string name;
    std::vector<std::string> addresses;  // normalised (see address.hpp)
    std::string role;                    // rep | marketing | manager | support | other
};

struct Contact {
    std::string address;  // normalised
    std::string name;
    bool champion = false;
};

struct LostDeal {
    std::optional<Date> on;
    std::string competitor;
    std::optional<Date> delivery;
};

struct Account {
    std::string id;
    std::string name;
    std::vector<std::string> domains;  // normalised, ASCII (IDN in punycode)
    std::string owner;                 // a Person id
    std::vector<std::string> team;     // Person ids
    bool reference = false;
    std::vector<Contact> contacts;
    Stage stage = Stage::active;
    std::optional<LostDeal> lost;
    bool auto_cc = true;  // false: nobody is added to mail to this account (its notices stay)
};

struct RuleSettings {
    struct AutoCc {
        bool enabled = true;
        // Senders with these roles add nobody (e.g. "support", whose mail is routine).
        std::vector<std::string> off_for_roles;
        // Also copy the account's team members (not only the owner).
        bool team = false;
        // When the Sent audit finds mail that left without the owner: an FYI draft to the
        // owner in Drafts (fyi_draft.hpp), besides the owner_not_copied notification.
        bool fyi_drafts = true;
    } auto_cc;
    struct SummaryDrafts {
        bool enabled = true;
        Seconds delay{5 * 60};
        Seconds min_duration{10 * 60};
        DraftRecipients recipients = DraftRecipients::attendees;
        Seconds catch_up{24 * 3600};
        // `subject` is checked by parse_rules. `template` names a file, so parse_rules (pure)
        // only keeps its name: load_rules (daemon/app/config_loader) reads and checks it and
        // fills draft_template.body. Empty body: the built-in template.
        SummaryTemplate draft_template;
        std::string template_file;  // $.rules.summary_drafts.template as written; "" = built-in
    } summary_drafts;
    struct Loss {
        std::vector<Seconds> nudges{Seconds{14 * 86400}, Seconds{45 * 86400}, Seconds{90 * 86400}};
        std::vector<std::string> phrases{"decided to go with", "went with another",
                                         "chose another vendor", "selected another vendor"};
    } loss;
    struct ContactChanges {
        bool enabled = true;
    } contact_changes;
    struct Silence {
        bool enabled = true;
        Seconds after{45 * 86400};
    } silence;
};

struct Organization {
    std::string name;
    std::vector<std::string> domains;  // normalised
};

struct Rules {
    Organization organization;
    std::vector<Person> people;
    std::vector<Account> accounts;
    RuleSettings rules;
    std::vector<std::string> public_domains;  // extra public mail domains ("gmx.*" allowed)

    const Person* person(std::string_view id) const;
    const Account* account(std::string_view id) const;
};

struct RulesResult {
    std::shared_ptr<const Rules> rules;  // null when diagnostics is not empty
    Diagnostics diagnostics;
};

// file_name is used only in diagnostics. The text is checked against the size and depth limits
// of json_text.hpp first.
RulesResult parse_rules(std::string_view text, const std::string& file_name);

}  // namespace rapport

#pragma once
// The admin's rules file as immutable values. Built only by parse_rules(), which validates
// everything, so code that holds a Rules can trust it (ids resolve, durations are sane).
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// A string kept in a Rules' StringArena: NUL-terminated, valid as long as any copy of the
// Rules that holds the arena. Reads like a const std::string (c_str, ==, converts to
// std::string and std::string_view), so code that reads contacts need not know.
class ArenaString {
public:
    ArenaString() = default;
    ArenaString(const char* data, std::size_t size) : data_(data), size_(size) {}

    const char* c_str() const { return data_; }
    const char* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::string_view view() const { return {data_, size_}; }
    operator std::string_view() const { return view(); }
    operator std::string() const { return std::string(data_, size_); }

    friend bool operator==(const ArenaString& a, const ArenaString& b) { return a.view() == b.view(); }
    friend bool operator==(const ArenaString& a, std::string_view b) { return a.view() == b; }
    friend bool operator==(std::string_view a, const ArenaString& b) { return a == b.view(); }
    friend bool operator!=(const ArenaString& a, const ArenaString& b) { return !(a == b); }
    friend bool operator!=(const ArenaString& a, std::string_view b) { return !(a == b); }
    friend bool operator!=(std::string_view a, const ArenaString& b) { return !(a == b); }
    friend std::string operator+(const std::string& a, const ArenaString& b) { return a + std::string(b); }
    friend std::string operator+(const ArenaString& a, const std::string& b) { return std::string(a) + b; }
    friend std::string operator+(const char* a, const ArenaString& b) { return a + std::string(b); }
    friend std::string operator+(const ArenaString& a, const char* b) { return std::string(a) + b; }

private:
    const char* data_ = "";
    std::size_t size_ = 0;
};

// Append-only storage for the many small strings of a large directory (a million contacts'
// addresses and names): one allocation per block instead of one per string, and no 32-byte
// std::string per field. Strings never move, so ArenaStrings stay valid.
class StringArena {
public:
    ArenaString add(std::string_view s) {
        if (s.size() + 1 > room_) {
            const std::size_t size = std::max(kBlock, s.size() + 1);
            blocks_.push_back(std::make_unique<char[]>(size));
            next_ = blocks_.back().get();
            room_ = size;
        }
        char* at = next_;
        if (!s.empty()) std::memcpy(at, s.data(), s.size());
        at[s.size()] = '\0';
        next_ += s.size() + 1;
        room_ -= s.size() + 1;
        return ArenaString(at, s.size());
    }

private:
    static constexpr std::size_t kBlock = 1u << 20;
    std::vector<std::unique_ptr<char[]>> blocks_;
    char* next_ = nullptr;
    std::size_t room_ = 0;
};

struct Contact {
    ArenaString address;  // normalised
    ArenaString name;
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
    std::shared_ptr<const StringArena> text;  // holds every Contact's strings; shared by copies

    const Person* person(std::string_view id) const;
    const Account* account(std::string_view id) const;
};

struct RulesResult {
    std::shared_ptr<const Rules> rules;  // null when diagnostics is not empty
    Diagnostics diagnostics;
};

// The largest rules file read (a local file, a rules URL's answer): 100,000 accounts with
// 1,000,000 contacts take about 72 MB, so this leaves room for longer names and addresses.
inline constexpr std::size_t kMaxRulesBytes = 128u << 20;

// file_name is used only in diagnostics. The text is checked against kMaxRulesBytes and the
// depth limit of json_text.hpp first.
RulesResult parse_rules(std::string_view text, const std::string& file_name);

namespace detail {
// parse_rules without its streaming fast path: always the DOM walk that writes the
// diagnostics. For tests that check both paths build the same Rules.
RulesResult parse_rules_with_dom(std::string_view text, const std::string& file_name);
}  // namespace detail

}  // namespace rapport

#include "rapport/message_decision.hpp"
#include "rapport/ascii.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>

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

bool has_any(std::string_view lowered, std::initializer_list<const char*> cues) {
    for (const char* cue : cues)
        if (lowered.find(cue) != std::string::npos) return true;
    return false;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
        return ascii_lower_char(x) == ascii_lower_char(y);
    });
}

bool icontains(std::string_view text, std::string_view cue) {
    return std::search(text.begin(), text.end(), cue.begin(), cue.end(), [](char x, char y) {
               return ascii_lower_char(x) == ascii_lower_char(y);
           }) != text.end();
}

// The subject's cues, lower-cased once per message and only when a cue is looked for, on the
// stack when the subject is short: a scan asks for every message, and a lowered copy per
// question was a visible share of its allocations.
class SubjectCues {
public:
    explicit SubjectCues(const std::string& subject) : subject_(subject) {}
    bool any(std::initializer_list<const char*> cues) {
        if (!lowered_) lower();
        return has_any(*lowered_, cues);
    }

private:
    void lower() {
        if (subject_.size() <= sizeof short_) {
            std::transform(subject_.begin(), subject_.end(), short_, ascii_lower_char);
            lowered_ = std::string_view(short_, subject_.size());
        } else {
            long_ = ascii_lower(subject_);
            lowered_ = long_;
        }
    }
    const std::string& subject_;
    char short_[160];
    std::string long_;
    std::optional<std::string_view> lowered_;
};

// A delivery report by its header fields alone (few messages, so generous).
bool looks_like_report(const MessageSummary& m, SubjectCues& subject) {
    if (m.content_type == "multipart/report" && m.report_type == "delivery-status") return true;
    if (m.failed_recipients) return true;
    if (m.from.size() != 1) return false;
    const std::string_view from = m.from.front().address;
    const std::string_view local = from.substr(0, from.find('@'));
    const bool daemon = iequals(local, "mailer-daemon") || iequals(local, "postmaster") || iequals(local, "mail-daemon") ||
                        iequals(local.substr(0, 17), "microsoftexchange") ||
                        icontains(m.from.front().name, "mail delivery");
    return daemon && (subject.any({"undeliver", "delivery", "failure", "returned mail", "unzustellbar", "non remis",
                                   "no se puede entregar", "onbestelbaar", "failed", "not delivered", "delayed",
                                   "non recapitabile", "undelivered"}) ||
                      !m.auto_submitted.empty());
}

// An auto-reply by its header fields: RFC 3834 and the vendor forms.
bool looks_like_auto_reply(const MessageSummary& m, SubjectCues& subject) {
    if (!m.auto_submitted.empty() && m.auto_submitted != "no") return true;
    if (m.autoreply_field || m.auto_response_suppress) return true;
    if (m.precedence == "auto_reply" || m.precedence == "bulk" || m.precedence == "junk") return true;
    return subject.any({"automatic reply", "auto:", "autoreply", "auto-reply", "out of office", "out of the office",
                        "abwesenheit", "automatische antwort", "automatisch antwoord", "afwezig", "fuera de la oficina",
                        "absence", "respuesta autom", "ponse automatique"});
}

BodyReason body_reason(const MessageSummary& m, const Classification& c, const AccountDirectory& directory,
                       const MessageContext& context) {
    if (context.already_seen || context.role == FolderRole::sent) return BodyReason::none;
    const auto& rules = directory.rules().rules;
    SubjectCues subject(m.subject);
    // A report often comes from the organisation's own server (MAILER-DAEMON@vendor.example),
    // which makes it "outbound" by its sender: direction says nothing about reports.
    if (rules.contact_changes.enabled && looks_like_report(m, subject)) return BodyReason::report;
    if (c.direction != "in") return BodyReason::none;
    if (rules.contact_changes.enabled) {
        if (looks_like_auto_reply(m, subject))
            for (const auto& inv : c.accounts)
                if (contains(inv.contacts, c.sender)) return BodyReason::report;
    }
    if (context.history || c.automated || rules.loss.phrases.empty() || looks_like_auto_reply(m, subject)) return BodyReason::none;
    for (const auto& inv : c.accounts)
        if (contains(inv.contacts, c.sender) || contains(inv.others, c.sender)) return BodyReason::customer;
    return BodyReason::none;
}

}  // namespace

const char* to_string(BodyReason r) {
    switch (r) {
        case BodyReason::none: return "none";
        case BodyReason::report: return "report";
        case BodyReason::customer: return "customer";
    }
    return "none";
}

std::optional<BodyReason> parse_body_reason(const std::string& s) {
    if (s == "none") return BodyReason::none;
    if (s == "report") return BodyReason::report;
    if (s == "customer") return BodyReason::customer;
    return std::nullopt;
}

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
    const Classification c = classify_message(message, directory, context.user_address, context.role);
    // A message without a Date is dated by when it was seen.
    const TimePoint when = message.date.value_or(context.now);
    const bool recent = when >= context.now - kRecentMessagesKept;
    for (const auto& inv : c.accounts) {
        if (c.direction == "in") {
            // Only a person writing counts as the contact being active: auto-replies and
            // delivery reports say nothing about the relationship.
            if (!c.automated && (contains(inv.contacts, c.sender) || contains(inv.others, c.sender)))
                d.contacts.push_back({inv.account->id, c.sender, true, when, recent});
        } else {
            for (const auto* list : {&inv.contacts, &inv.others})
                for (const auto& a : *list) d.contacts.push_back({inv.account->id, a, false, when, recent});
        }
    }
    d.fetch_body = body_reason(message, c, directory, context);
    d.history = context.history;
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
    // Moved, not copied, now that nothing above reads them.
    d.message_id = std::move(message.message_id);
    d.subject = std::move(message.subject);
    if (d.subject.size() > 300) d.subject.resize(300);
    return d;
}

}  // namespace rapport

#pragma once
// A message as the watchers see it (header fields only) and what the core makes of it: which
// accounts and contacts are involved, in which direction, and which notifications it earns.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/directory.hpp"
#include "rapport/mail_address.hpp"
#include "rapport/time.hpp"

namespace rapport {

struct MessageSummary {
    std::vector<MailAddress> from, to, cc, bcc;
    std::optional<TimePoint> date;
    std::string subject;
    std::string message_id;
    std::string auto_submitted;  // "", "no", "auto-replied", …
    std::string content_type;
    std::string report_type;
    // The automation fields vendors use besides Auto-Submitted (X-Autoreply, X-Autorespond,
    // X-Auto-Response-Suppress, Precedence, X-Failed-Recipients): only what decides whether a
    // body is worth reading.
    bool autoreply_field = false;         // X-Autoreply / X-Autorespond present
    bool auto_response_suppress = false;  // X-Auto-Response-Suppress present (Exchange automata)
    std::string precedence;               // lower case: "bulk", "junk", "list", "auto_reply"
    bool failed_recipients = false;       // X-Failed-Recipients present (Exim bounces)
};

enum class FolderRole { inbox, sent, other };

struct AccountInvolvement {
    const Account* account = nullptr;
    std::vector<std::string> contacts;  // normalised addresses of listed contacts on the message
    std::vector<std::string> others;    // other addresses at the account's domains
};

struct Classification {
    std::string direction;  // "in" | "out"
    bool automated = false;  // Auto-Submitted other than "no", or a delivery report
    std::string sender;      // normalised From
    std::vector<AccountInvolvement> accounts;
    std::vector<std::string> internal;  // normalised internal addresses on the message
};

// user_addresses: the settings' user address; any of the organisation's people also count as
// "us" for direction.
Classification classify_message(const MessageSummary& message, const AccountDirectory& directory,
                                const std::string& user_address, FolderRole role);

struct NotificationDraft {
    std::string kind;
    std::string account;
    std::string text;
    nlohmann::json extra = nlohmann::json::object();
};

// The notifications a newly seen message earns (never called for the first scan's history):
// customer_mail per account involved; owner_not_copied for mail in Sent that reached a
// customer without its owner; lost_account_wrote for inbound mail from a lost account.
std::vector<NotificationDraft> message_notifications(const MessageSummary& message,
                                                     const Classification& c,
                                                     const AccountDirectory& directory,
                                                     const std::string& mailbox,
                                                     const std::string& folder, FolderRole role);

}  // namespace rapport

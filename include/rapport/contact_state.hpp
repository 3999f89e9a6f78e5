#pragma once
// What rapportd learned about a contact from the mail: still there, bounced (a permanent
// delivery failure for a message the user sent them), or left (an auto-reply saying so). Kept in
// the store per address; shown by lookup, compose.check and accounts.health.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rapport/time.hpp"

namespace rapport {

enum class ContactState { active, bounced, left };

const char* to_string(ContactState s);
std::optional<ContactState> parse_contact_state(std::string_view s);

struct ContactStatus {
    ContactState state = ContactState::active;
    std::string reason;      // "bounce" | "left" (the notification's reason); "" for active
    std::string message_id;  // the bounce or auto-reply that told
    std::string detail;      // the address a departure names instead, or the bounce's status
    TimePoint changed;
};

// The state of an address (normalised), when one is known.
using ContactStates = std::function<std::optional<ContactStatus>(const std::string& address)>;

// "Jane Doe left Acme Corp (auto-reply of 2026-11-20); it names raj@acme.example." or
// "Mail to Jane Doe at Acme Corp bounced on 2026-11-20 (5.1.1): the address is gone."
std::string contact_status_text(const std::string& contact, const std::string& account_name, const ContactStatus& s);

}  // namespace rapport

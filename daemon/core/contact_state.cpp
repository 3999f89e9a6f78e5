#include "rapport/contact_state.hpp"

#include "rapport/time.hpp"

namespace rapport {

const char* to_string(ContactState s) {
    switch (s) {
        case ContactState::active: return "active";
        case ContactState::bounced: return "bounced";
        case ContactState::left: return "left";
    }
    return "active";
}

std::optional<ContactState> parse_contact_state(std::string_view s) {
    if (s == "active") return ContactState::active;
    if (s == "bounced") return ContactState::bounced;
    if (s == "left") return ContactState::left;
    return std::nullopt;
}

std::string contact_status_text(const std::string& contact, const std::string& account_name, const ContactStatus& s) {
    const std::string on = format_date(date_of(s.changed));
    if (s.state == ContactState::left)
        return contact + " left " + account_name + " (auto-reply of " + on + ")" +
               (s.detail.empty() ? std::string(".") : "; it names " + s.detail + " instead.");
    if (s.state == ContactState::bounced)
        return "Mail to " + contact + " at " + account_name + " bounced on " + on +
               (s.detail.empty() ? std::string() : " (" + s.detail + ")") + ": the address no longer exists.";
    return contact + " is active.";
}

}  // namespace rapport

#pragma once
// What a fetched body means for the store, decided without I/O: which contacts are gone
// (bounced, left) and which loss phrase was seen. The folder watcher fetched the body because
// decide_message asked for it (MessageDecision::fetch_body); it executes this decision in one
// transaction and then forgets the body.
//
// A bounce marks a recipient only when it is an account's listed contact, the failure is
// permanent, and the user really wrote to that contact (the returned message is recorded as
// sent to the account, or the user's newest mail to the contact is): a report about somebody
// else's message, or a forged one, marks nobody. A departure marks the sender of the
// auto-reply when that is a listed contact. Loss phrases are read in inbound mail from an
// account that no automaton wrote.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rapport/contact_state.hpp"
#include "rapport/directory.hpp"
#include "rapport/mail_reading.hpp"
#include "rapport/message.hpp"
#include "rapport/message_decision.hpp"

namespace rapport {

struct BodyRequestInfo {
    BodyReason reason = BodyReason::none;
    std::string message_id;  // the message whose body this is
    bool history = false;    // first-scan history: states are recorded, nothing is announced
};

struct BodyContext {
    std::vector<std::string> own_addresses;  // the user's (normalised)
    // True when the user wrote to this contact of this account, or sent the bounced message
    // (original_id: its Message-ID from the report, may be empty).
    std::function<bool(const std::string& account, const std::string& address, const std::string& original_id)> sent_to;
    TimePoint now;
};

struct ContactChange {
    std::string account;
    std::string address;  // normalised
    ContactState state = ContactState::active;
    std::string reason;   // "bounce" | "left"
    std::string detail;   // the replacement address, or the failure's status
    // contact_changed, raised only when the store says the state changed, and never for history.
    std::optional<NotificationDraft> notification;
};

struct BodyDecision {
    std::vector<ContactChange> changes;
    std::optional<NotificationDraft> loss;  // loss_signal, raised once per Message-ID
    std::string why;                        // for the log
};

BodyDecision decide_body(const MailBody& body, const BodyRequestInfo& request, const AccountDirectory& directory,
                         const BodyContext& context);

}  // namespace rapport

#pragma once
// The API's methods (CONTRACT.md) as a pure function of (method, params, state): parameter
// checking, decisions and result shapes live here; the state they read and write is behind
// RpcBackend, so the dispatcher is tested without a socket or a database. Framing, hello and
// subscribe belong to the transport (daemon/api) and the app.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/contact_state.hpp"
#include "rapport/directory.hpp"
#include "rapport/engagement.hpp"
#include "rapport/nudges.hpp"
#include "rapport/rpc_error.hpp"
#include "rapport/time.hpp"

namespace rapport::rpc {

// One address to read from the store: its last contact at `account` (when asked) and what the
// mail told about it (when asked).
struct AddressQuery {
    std::string account;
    std::string address;
    bool last_contact = false;
    bool state = false;
};

struct AddressFacts {
    std::optional<TimePoint> last_contact;
    std::optional<ContactStatus> state;  // nullopt: nothing known (active)
};

class RpcBackend {
public:
    virtual ~RpcBackend() = default;
    virtual const AccountDirectory& directory() const = 0;
    virtual TimePoint now() const = 0;
    virtual nlohmann::json status() = 0;
    virtual std::optional<TimePoint> last_contact(const std::string& account,
                                                  const std::string& address) = 0;
    // What the mail told about a contact (bounced, left); nullopt: nothing (active).
    virtual std::optional<ContactStatus> contact_state(const std::string& /*address*/) { return std::nullopt; }
    // Every query of one request at once, answers in the same order: a store-backed backend
    // reads them in ONE transaction instead of one per address. By default, one call each.
    virtual std::vector<AddressFacts> address_facts(const std::vector<AddressQuery>& queries) {
        std::vector<AddressFacts> out(queries.size());
        for (std::size_t i = 0; i < queries.size(); ++i) {
            if (queries[i].last_contact) out[i].last_contact = last_contact(queries[i].account, queries[i].address);
            if (queries[i].state) out[i].state = contact_state(queries[i].address);
        }
        return out;
    }
    // filter: pending (pending+snoozed) | due | all | open (pending+snoozed+due)
    virtual std::vector<Nudge> nudges(const std::string& filter) = 0;
    virtual std::optional<Nudge> nudge(int64_t id) = 0;
    // Records the loss and replaces the account's open nudges with these, atomically.
    virtual std::vector<Nudge> record_loss(const LossReport& loss,
                                           const std::vector<PlannedNudge>& nudges) = 0;
    virtual std::size_t reopen(const std::string& account) = 0;
    // Stores a change that the core's nudge state machine allowed.
    virtual bool set_nudge(int64_t id, NudgeState state, std::optional<TimePoint> due) = 0;
    virtual nlohmann::json meetings(std::optional<TimePoint> from, std::optional<TimePoint> to) = 0;
    virtual nlohmann::json drafts() = 0;
    virtual bool ack_notification(int64_t id) = 0;
    // For accounts.health: the mail seen with the account's people.
    virtual std::vector<ContactSeen> contacts_seen(const std::string& account) = 0;
};

nlohmann::json nudge_json(const Nudge& n);

// Every method but hello and subscribe. Throws Failure.
nlohmann::json dispatch(const std::string& method, const nlohmann::json& params, RpcBackend& backend);

// The methods dispatch() knows, for "unknown method" hints and docs.
const std::vector<std::string>& method_names();

// Parameters of subscribe, checked here so the transport stays generic: returns `after`.
int64_t subscribe_after(const nlohmann::json& params);

}  // namespace rapport::rpc

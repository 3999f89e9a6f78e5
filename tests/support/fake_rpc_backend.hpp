#pragma once
// An in-memory RpcBackend for tests and the dispatcher's fuzz target: fixed rules (Acme, a
// reference customer; Initech, lost to Hooli), a settable clock, nudges in a map.
#include <map>
#include <set>
#include <stdexcept>

#include "rapport/rpc_methods.hpp"

namespace rapport::test {

using nlohmann::json;

struct FakeBackend : rpc::RpcBackend {
    std::shared_ptr<AccountDirectory> dir;
    TimePoint clock = *parse_datetime("2026-11-25T10:00:00Z");
    std::map<int64_t, Nudge> store;
    int64_t next = 1;
    std::vector<LossReport> losses;
    std::set<int64_t> notifications{1, 2, 3};

    FakeBackend() {
        auto r = parse_rules(R"json({
          "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
          "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
                     {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
          "accounts": [
            {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob", "reference": true,
             "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true}]},
            {"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob", "stage": "lost",
             "lost": {"competitor": "Hooli", "delivery": "2027-01-31"}}],
          "rules": {"loss": {"nudges": ["P14D", "P45D"]}}
        })json", "rules.json");
        if (!r.rules) throw std::runtime_error("fake backend rules invalid");
        dir = std::make_shared<AccountDirectory>(r.rules);
    }
    const AccountDirectory& directory() const override { return *dir; }
    TimePoint now() const override { return clock; }
    json status() override { return {{"mailboxes", json::array()}}; }
    std::optional<TimePoint> last_contact(const std::string& account, const std::string& address) override {
        if (account == "acme" && address == "jane@acme.example") return *parse_datetime("2026-11-20T08:00:00Z");
        return std::nullopt;
    }
    std::vector<Nudge> nudges(const std::string& filter) override {
        std::vector<Nudge> out;
        for (auto& [id, n] : store) {
            if (filter == "all" || (filter == "open" && is_open(n.state)) || (filter == "due" && n.state == NudgeState::due) ||
                (filter == "pending" && is_scheduled(n.state)))
                out.push_back(n);
        }
        return out;
    }
    std::optional<Nudge> nudge(int64_t id) override {
        auto it = store.find(id);
        if (it == store.end()) return std::nullopt;
        return it->second;
    }
    std::vector<Nudge> record_loss(const LossReport& loss, const std::vector<PlannedNudge>& planned) override {
        losses.push_back(loss);
        reopen(loss.account);
        std::vector<Nudge> out;
        for (const auto& p : planned) {
            Nudge n{next++, p.account, p.kind, p.due, NudgeState::pending, p.text};
            store[n.id] = n;
            out.push_back(n);
        }
        return out;
    }
    std::size_t reopen(const std::string& account) override {
        std::size_t n = 0;
        for (auto& [id, nudge] : store)
            if (nudge.account == account && is_open(nudge.state)) nudge.state = NudgeState::cancelled, ++n;
        return n;
    }
    bool set_nudge(int64_t id, NudgeState state, std::optional<TimePoint> due) override {
        auto it = store.find(id);
        if (it == store.end()) return false;
        it->second.state = state;
        if (due) it->second.due = *due;
        return true;
    }
    json meetings(std::optional<TimePoint>, std::optional<TimePoint>) override { return json::array(); }
    json drafts() override { return json::array(); }
    bool ack_notification(int64_t id) override { return notifications.count(id) > 0; }
    std::vector<ContactSeen> contacts_seen(const std::string& account) override { return seen[account]; }
    std::optional<ContactStatus> contact_state(const std::string& address) override {
        auto it = contact_states.find(address);
        if (it == contact_states.end()) return std::nullopt;
        ContactStatus s;
        s.state = parse_contact_state(it->second).value_or(ContactState::active);
        return s;
    }
    // Counts the batched reads (one per request, where a store opens one transaction).
    std::vector<rpc::AddressFacts> address_facts(const std::vector<rpc::AddressQuery>& queries) override {
        ++address_reads;
        return RpcBackend::address_facts(queries);
    }
    std::map<std::string, std::vector<ContactSeen>> seen;
    std::map<std::string, std::string> contact_states;
    int address_reads = 0;
};


}  // namespace rapport::test

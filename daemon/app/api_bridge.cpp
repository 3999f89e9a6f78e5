#include "app/api_bridge.hpp"

#include "app/log.hpp"

namespace rapport {
namespace {

api::Notification to_wire(const StoredNotification& n) {
    return api::Notification{static_cast<std::uint64_t>(n.id), n.to_json()};
}

NudgeFilter filter_of(const std::string& name) {
    if (name == "pending") return NudgeFilter::scheduled;
    if (name == "due") return NudgeFilter::due;
    if (name == "all") return NudgeFilter::all;
    return NudgeFilter::open;
}

}  // namespace

nlohmann::json ApiBridge::hello(const nlohmann::json&, api::SessionInfo& session) {
    log::debug("API client \"" + session.client + "\" " + session.client_version + " connected");
    const auto& s = *state_.settings;
    return {{"user", {{"name", s.user_name}, {"address", s.user_address}}}};
}

nlohmann::json ApiBridge::handle(const std::string& method, const nlohmann::json& params,
                                 api::SessionInfo&) {
    try {
        return rpc::dispatch(method, params, *this);  // rpc::Failure is the server's RpcError
    } catch (const StoreError& e) {
        log::error(std::string("API ") + method + ": " + e.what());
        // The store's message names the file and what to do; the client may retry.
        throw api::RpcError(rpc::code::storage_error, std::string(e.what()));
    }
}

void ApiBridge::subscribe(const nlohmann::json& params, api::SessionInfo&, api::SubscribeDone done) {
    api::SubscribeResult result;
    try {
        const int64_t after = rpc::subscribe_after(params);
        // One snapshot: the newest id and the replay agree. Anything committed later is
        // broadcast live and filtered by the session against the replay, so nothing falls
        // between the two.
        int64_t newest = 0;
        std::vector<StoredNotification> stored;
        state_.store->read([&](ReadTx& tx) {
            newest = tx.last_notification_id();
            stored = tx.notifications_after(after, kMaxReplay + 1);
        });
        const bool truncated = stored.size() > kMaxReplay;
        if (truncated) stored.resize(kMaxReplay);
        for (const auto& n : stored)
            if (n.id <= newest) result.replay.push_back(to_wire(n));
        result.live_after = static_cast<std::uint64_t>(truncated ? stored.back().id : newest);
        result.result = {{"replayed", result.replay.size()}, {"truncated", truncated}};
        if (truncated) result.result["next_after"] = stored.back().id;
    } catch (const rpc::Failure& f) {
        result.error = f;
    } catch (const StoreError& e) {
        log::error(std::string("API subscribe: ") + e.what());
        result.error = api::RpcError(rpc::code::storage_error, std::string(e.what()));
    }
    done(std::move(result));
}

std::optional<TimePoint> ApiBridge::last_contact(const std::string& account, const std::string& address) {
    return state_.store->read([&](ReadTx& tx) { return tx.last_contact(account, address); });
}

std::optional<ContactStatus> ApiBridge::contact_state(const std::string& address) {
    return state_.store->contact_state(address);
}

std::vector<rpc::AddressFacts> ApiBridge::address_facts(const std::vector<rpc::AddressQuery>& queries) {
    std::vector<rpc::AddressFacts> out(queries.size());
    bool dates = false;
    for (std::size_t i = 0; i < queries.size(); ++i) {
        if (queries[i].state) out[i].state = state_.store->contact_state(queries[i].address);
        dates = dates || queries[i].last_contact;
    }
    // States come from the store's memory, so compose.check opens no transaction; the dates
    // of lookup take one read for the whole request: BEGIN and COMMIT once, not per address.
    if (dates)
        state_.store->read([&](ReadTx& tx) {
            for (std::size_t i = 0; i < queries.size(); ++i)
                if (queries[i].last_contact) out[i].last_contact = tx.last_contact(queries[i].account, queries[i].address);
        });
    return out;
}

std::vector<Nudge> ApiBridge::nudges(const std::string& filter) {
    return state_.store->read([&](ReadTx& tx) { return tx.nudges(filter_of(filter)); });
}

std::optional<Nudge> ApiBridge::nudge(int64_t id) {
    return state_.store->read([&](ReadTx& tx) { return tx.nudge(id); });
}

std::vector<Nudge> ApiBridge::record_loss(const LossReport& loss, const std::vector<PlannedNudge>& planned) {
    // The loss replaces whatever the account had open: one transaction, so a client that is
    // told "done" finds all of it after a restart, or none of it was done.
    auto stored = state_.store->write([&](WriteTx& tx) {
        tx.cancel_open_nudges(loss.account);
        tx.set_deal(DealRecord::lost(loss, loss.note, loss.lost_at));
        std::vector<Nudge> out;
        for (const auto& p : planned) out.push_back(tx.add_nudge(p, loss.lost_at));
        return out;
    });
    log::info("deal lost: " + loss.account + (loss.competitor.empty() ? "" : " to " + loss.competitor) + "; " +
              std::to_string(stored.size()) + " follow-up nudges scheduled");
    state_.lost_accounts.insert(loss.account);
    if (state_.nudges_changed) state_.nudges_changed();
    return stored;
}

std::size_t ApiBridge::reopen(const std::string& account) {
    const TimePoint at = now();
    const auto n = state_.store->write([&](WriteTx& tx) {
        const std::size_t cancelled = tx.cancel_open_nudges(account);
        if (auto deal = tx.deal(account)) {
            deal->state = DealState::reopened;
            deal->updated = at;
            tx.set_deal(*deal);
        }
        return cancelled;
    });
    state_.lost_accounts.erase(account);
    log::info("deal reopened: " + account + "; " + std::to_string(n) + " open nudges cancelled");
    if (state_.nudges_changed) state_.nudges_changed();
    return n;
}

bool ApiBridge::set_nudge(int64_t id, NudgeState st, std::optional<TimePoint> due) {
    const bool changed = state_.store->write([&](WriteTx& tx) { return tx.set_nudge(id, st, due); });
    if (state_.nudges_changed) state_.nudges_changed();
    return changed;
}

nlohmann::json ApiBridge::meetings(std::optional<TimePoint> from, std::optional<TimePoint> to) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : state_.meetings) {
        auto start = parse_datetime(m.value("start", ""));
        auto end = parse_datetime(m.value("end", ""));
        if (from && end && *end < *from) continue;
        if (to && start && *start > *to) continue;
        out.push_back(m);
    }
    return out;
}

nlohmann::json ApiBridge::drafts() {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : state_.store->read([](ReadTx& tx) { return tx.drafts(); })) out.push_back(d.to_json());
    return out;
}

std::vector<ContactSeen> ApiBridge::contacts_seen(const std::string& account) {
    return state_.store->read([&](ReadTx& tx) { return tx.contacts_seen(account); });
}

bool ApiBridge::ack_notification(int64_t id) {
    const TimePoint at = now();
    return state_.store->write([&](WriteTx& tx) { return tx.ack_notification(id, at); });
}

nlohmann::json DaemonState::status_json() const {
    auto source = [](const SourceStatus& s, bool mailbox) {
        nlohmann::json j = {{"id", s.id}, {"state", s.state},
                            {"last_sync", s.last_sync ? nlohmann::json(format_datetime(*s.last_sync)) : nlohmann::json(nullptr)},
                            {"last_error", s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)}};
        if (mailbox) {
            j["messages_seen"] = s.messages_seen;
            if (s.scan) j["scan"] = {{"done", s.scan->first}, {"total", s.scan->second}};
            j["drafts"] = {{"pending", s.drafts_pending},
                           {"last_error", s.drafts_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.drafts_error)}};
        } else {
            j["events"] = s.events;
            j["customer_meetings"] = s.customer_meetings;
        }
        return j;
    };
    nlohmann::json mailboxes_json = nlohmann::json::array(), calendars_json = nlohmann::json::array();
    for (const auto& m : mailboxes) mailboxes_json.push_back(source(m, true));
    for (const auto& c : calendars) calendars_json.push_back(source(c, false));
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& d : reload_errors) errors.push_back(d.to_string());
    const auto& rules = directory->rules();
    std::size_t contacts = 0;
    for (const auto& a : rules.accounts) contacts += a.contacts.size();
    return {{"mailboxes", mailboxes_json},
            {"calendars", calendars_json},
            {"rules", {{"loaded_at", format_datetime(rules_loaded_at)},
                       {"file", settings->rules_file},
                       {"errors", errors},
                       {"people", rules.people.size()},
                       {"accounts", rules.accounts.size()},
                       {"contacts", contacts}}}};
}

}  // namespace rapport

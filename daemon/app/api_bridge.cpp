#include "app/api_bridge.hpp"

#include "app/log.hpp"

namespace rapport {
namespace {

Nudge from_stored(const StoredNudge& s) { return Nudge{s.id, s.account, s.kind, s.due, s.state, s.text}; }

api::Notification to_wire(const StoredNotification& n) {
    return api::Notification{static_cast<std::uint64_t>(n.id), n.to_json()};
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
        throw api::RpcError(rpc::code::storage_error, "the state database is unavailable; try again");
    }
}

void ApiBridge::subscribe(const nlohmann::json& params, api::SessionInfo&, api::SubscribeDone done) {
    api::SubscribeResult result;
    try {
        const int64_t after = rpc::subscribe_after(params);
        // Read the newest id first: anything stored later is broadcast live and filtered by the
        // session against the replay, so nothing falls between the two.
        const int64_t newest = state_.store->last_notification_id();
        auto stored = state_.store->notifications_after(after, kMaxReplay + 1);
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
        result.error = api::RpcError(rpc::code::storage_error, "the state database is unavailable; try again");
    }
    done(std::move(result));
}

std::optional<TimePoint> ApiBridge::last_contact(const std::string& account, const std::string& address) {
    return state_.store->last_contact(account, address);
}

std::vector<Nudge> ApiBridge::nudges(const std::string& filter) {
    std::vector<Nudge> out;
    for (const auto& n : state_.store->nudges(filter)) out.push_back(from_stored(n));
    return out;
}

std::optional<Nudge> ApiBridge::nudge(int64_t id) {
    auto n = state_.store->nudge(id);
    if (!n) return std::nullopt;
    return from_stored(*n);
}

std::vector<Nudge> ApiBridge::record_loss(const LossReport& loss, const std::vector<PlannedNudge>& planned) {
    std::vector<StateStore::PlannedNudgeRow> rows;
    for (const auto& p : planned) rows.push_back({p.kind, p.due, p.text});
    auto stored = state_.store->record_loss(loss.account, loss.lost_at, loss.competitor,
                                            loss.delivery ? format_date(*loss.delivery) : "", loss.note, rows);
    log::info("deal lost: " + loss.account + (loss.competitor.empty() ? "" : " to " + loss.competitor) + "; " +
              std::to_string(stored.size()) + " follow-up nudges scheduled");
    std::vector<Nudge> out;
    for (const auto& n : stored) out.push_back(from_stored(n));
    return out;
}

std::size_t ApiBridge::reopen(const std::string& account) {
    const auto n = state_.store->reopen_deal(account, now());
    log::info("deal reopened: " + account + "; " + std::to_string(n) + " pending nudges cancelled");
    return n;
}

bool ApiBridge::set_nudge(int64_t id, const std::string& st, std::optional<TimePoint> due) {
    return state_.store->update_nudge(id, st, due);
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
    for (const auto& d : state_.store->drafts()) out.push_back(d.to_json());
    return out;
}

bool ApiBridge::ack_notification(int64_t id) { return state_.store->ack_notification(id); }

nlohmann::json DaemonState::status_json() const {
    auto source = [](const SourceStatus& s, bool mailbox) {
        nlohmann::json j = {{"id", s.id}, {"state", s.state},
                            {"last_sync", s.last_sync ? nlohmann::json(format_datetime(*s.last_sync)) : nlohmann::json(nullptr)},
                            {"last_error", s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)}};
        if (mailbox) {
            j["messages_seen"] = s.messages_seen;
            if (s.scan) j["scan"] = {{"done", s.scan->first}, {"total", s.scan->second}};
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

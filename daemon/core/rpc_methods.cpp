#include "rapport/rpc_methods.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "rapport/compose_check.hpp"

namespace rapport::rpc {
namespace {

using nlohmann::json;

[[noreturn]] void bad_params(const std::string& message) { throw Failure(code::invalid_params, message); }

// Parameters are an object (by-name); positional arrays are refused with a clear message.
const json& object_params(const json& params) {
    if (!params.is_object()) bad_params("params must be an object with named members");
    return params;
}

void only_keys(const json& params, std::initializer_list<const char*> allowed) {
    for (auto it = params.begin(); it != params.end(); ++it)
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; }))
            bad_params("unknown parameter \"" + it.key() + "\"");
}

std::string required_string(const json& params, const char* key, std::size_t max = 1024) {
    auto it = params.find(key);
    if (it == params.end()) bad_params(std::string("missing parameter \"") + key + "\"");
    if (!it->is_string()) bad_params(std::string("\"") + key + "\" must be a string");
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > max) bad_params(std::string("\"") + key + "\" must be 1 to " + std::to_string(max) + " characters");
    return s;
}

std::optional<std::string> optional_string(const json& params, const char* key, std::size_t max = 1024) {
    if (!params.contains(key) || params[key].is_null()) return std::nullopt;
    return required_string(params, key, max);
}

std::vector<std::string> string_list(const json& params, const char* key, bool required, std::size_t max_items = 1000) {
    auto it = params.find(key);
    if (it == params.end() || it->is_null()) {
        if (required) bad_params(std::string("missing parameter \"") + key + "\"");
        return {};
    }
    if (!it->is_array()) bad_params(std::string("\"") + key + "\" must be an array of strings");
    if (it->size() > max_items) bad_params(std::string("\"") + key + "\" has more than " + std::to_string(max_items) + " items");
    std::vector<std::string> out;
    out.reserve(it->size());
    for (const auto& v : *it) {
        if (!v.is_string()) bad_params(std::string("\"") + key + "\" must be an array of strings");
        out.push_back(v.get_ref<const std::string&>());
    }
    return out;
}

int64_t required_id(const json& params, const char* key = "id") {
    auto it = params.find(key);
    if (it == params.end()) bad_params(std::string("missing parameter \"") + key + "\"");
    if (!it->is_number_integer() && !it->is_number_unsigned()) bad_params(std::string("\"") + key + "\" must be an integer");
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        bad_params(std::string("\"") + key + "\" is out of range");
    return it->get<int64_t>();
}

std::optional<TimePoint> optional_datetime(const json& params, const char* key) {
    auto s = optional_string(params, key, 64);
    if (!s) return std::nullopt;
    auto t = parse_datetime(*s);
    if (!t) bad_params(std::string("\"") + key + "\" must be an ISO 8601 date-time with a zone, e.g. 2026-12-01T09:00:00Z");
    return t;
}

const Account& account_param(const json& params, RpcBackend& backend) {
    const std::string id = required_string(params, "account", 64);
    const Account* account = backend.directory().rules().account(id);
    if (!account) throw Failure(code::unknown_account, "no account \"" + id + "\" in the rules", {{"account", id}});
    return *account;
}

// Adds a member to an object at the end of its (sorted) map: with keys given in order, the map
// places each without a search. Out of order it is still right, only slower.
void append_member(json& object, const char* key, json value) {
    auto& members = object.get_ref<json::object_t&>();
    members.emplace_hint(members.end(), key, std::move(value));
}

json person_json(const Person* p) {
    if (!p) return nullptr;
    return {{"id", p->id}, {"name", p->name}, {"addresses", p->addresses}};
}

json lookup(const json& params, RpcBackend& backend) {
    only_keys(params, {"addresses"});
    const auto addresses = string_list(params, "addresses", true);
    const auto& dir = backend.directory();
    std::vector<Match> matches;
    matches.reserve(addresses.size());
    std::vector<AddressQuery> queries;
    queries.reserve(addresses.size());
    for (const auto& address : addresses) {
        matches.push_back(dir.lookup(address));
        const Match& m = matches.back();
        queries.push_back({m.account ? m.account->id : std::string(), m.address, m.account != nullptr, m.contact != nullptr});
    }
    // One store read for the whole request, not one per address.
    const auto facts = backend.address_facts(queries);
    if (facts.size() != queries.size()) throw std::logic_error("RpcBackend::address_facts must answer every query");
    json results = json::array();
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        const Match& m = matches[i];
        json r = {{"address", m.address.empty() ? addresses[i] : m.address},
                  {"match", to_string(m.kind)},
                  {"reason", m.reason},
                  {"account", nullptr},
                  {"contact", nullptr},
                  {"last_contact", nullptr}};
        if (m.account) {
            r["account"] = {{"id", m.account->id},
                            {"name", m.account->name},
                            {"stage", to_string(m.account->stage)},
                            {"reference", m.account->reference},
                            {"owner", person_json(dir.owner_of(*m.account))}};
            if (const auto& last = facts[i].last_contact) r["last_contact"] = format_date(date_of(*last));
        }
        if (m.contact) {
            r["contact"] = {{"name", m.contact->name}, {"champion", m.contact->champion}, {"state", "active"}};
            if (const auto& status = facts[i].state; status && status->state != ContactState::active) {
                r["contact"]["state"] = to_string(status->state);
                r["contact"]["state_since"] = format_date(date_of(status->changed));
                r["contact"]["state_note"] = contact_status_text(m.contact->name.empty() ? m.address : m.contact->name,
                                                                 m.account ? m.account->name : "", *status);
            }
        }
        if (m.person) r["person"] = person_json(m.person);
        results.push_back(std::move(r));
    }
    // Moved, not copied: an initializer list copies named values deeply.
    return {{"results", std::move(results)}};
}

json compose(const json& params, RpcBackend& backend) {
    only_keys(params, {"from", "to", "cc", "bcc"});
    ComposeInput input;
    input.from = required_string(params, "from");
    input.to = string_list(params, "to", false);
    input.cc = string_list(params, "cc", false);
    input.bcc = string_list(params, "bcc", false);
    // One store read for every contact written to, not one per address.
    auto advice = check_compose_batched(input, backend.directory(), [&backend](const std::vector<std::string>& addresses) {
        std::vector<AddressQuery> queries;
        queries.reserve(addresses.size());
        for (const auto& a : addresses) queries.push_back({std::string(), a, false, true});
        std::vector<std::optional<ContactStatus>> out;
        out.reserve(addresses.size());
        for (auto& f : backend.address_facts(queries)) out.push_back(std::move(f.state));
        return out;
    });
    // The advice's strings are moved into the reply, not copied, and the members are written in
    // key order: fewer allocations and no searching of the maps per request.
    json add = json::array(), notices = json::array();
    add.get_ref<json::array_t&>().reserve(advice.add_cc.size());
    notices.get_ref<json::array_t&>().reserve(advice.notices.size());
    for (auto& c : advice.add_cc) {
        json o = json::object();
        append_member(o, "account", std::move(c.account));
        append_member(o, "address", std::move(c.address));
        append_member(o, "name", std::move(c.name));
        append_member(o, "reason", std::move(c.reason));
        append_member(o, "role", std::move(c.role));
        add.push_back(std::move(o));
    }
    for (auto& n : advice.notices) {
        json o = json::object();
        append_member(o, "account", n.account.empty() ? json(nullptr) : json(std::move(n.account)));
        append_member(o, "kind", std::move(n.kind));
        append_member(o, "text", std::move(n.text));
        notices.push_back(std::move(o));
    }
    json result = json::object();
    append_member(result, "add_cc", std::move(add));
    append_member(result, "notices", std::move(notices));
    return result;
}

json nudge_list(const std::vector<Nudge>& nudges) {
    json out = json::array();
    for (const auto& n : nudges) out.push_back(nudge_json(n));
    return out;
}

json deal_lost(const json& params, RpcBackend& backend) {
    only_keys(params, {"account", "competitor", "delivery", "note"});
    const Account& account = account_param(params, backend);
    LossReport loss;
    loss.account = account.id;
    loss.lost_at = backend.now();
    loss.competitor = optional_string(params, "competitor", 200).value_or("");
    loss.note = optional_string(params, "note", 4000).value_or("");
    if (auto delivery = optional_string(params, "delivery", 32)) {
        loss.delivery = parse_date(*delivery);
        if (!loss.delivery) bad_params("\"delivery\" must be a date such as 2027-01-31");
    }
    const auto& dir = backend.directory();
    const auto planned = plan_loss_nudges(account, loss, dir.rules().rules, dir.owner_of(account));
    json result = {{"nudges", nudge_list(backend.record_loss(loss, planned))}};
    // A delivery date already past gets no nudge of its own: say so rather than drop it silently.
    if (loss.delivery && start_of(*loss.delivery) + Seconds{9 * 3600} <= loss.lost_at)
        result["warnings"] = {"the delivery date " + format_date(*loss.delivery) +
                              " has passed, so there is no delivery check-in; the follow-ups are planned"};
    return result;
}

json optional_date(const std::optional<TimePoint>& t) { return t ? json(format_datetime(*t)) : json(nullptr); }

std::string contact_state_name(const std::optional<ContactStatus>& s) { return s ? to_string(s->state) : "active"; }

json accounts_health(const json& params, RpcBackend& backend) {
    only_keys(params, {"account"});
    const Account& account = account_param(params, backend);
    const TimePoint now = backend.now();
    const Engagement e = engagement_of(account, backend.contacts_seen(account.id), now);
    json contacts = json::array();
    for (const auto& c : e.contacts)
        contacts.push_back({{"address", c.address}, {"name", c.name}, {"champion", c.champion}, {"listed", c.listed},
                            {"state", contact_state_name(backend.contact_state(c.address))}, {"last_in", optional_date(c.last_in)},
                            {"last_out", optional_date(c.last_out)}, {"engaged", c.engaged}});
    return {{"account", account.id},
            {"contacts", contacts},
            {"engaged_contacts", e.engaged_contacts},
            {"champions_engaged", e.champions_engaged},
            {"single_threaded", e.single_threaded},
            {"last_contact", optional_date(e.last_contact)},
            {"silent_days", e.last_contact ? json(silent_days(e.last_contact, now, now)) : json(nullptr)}};
}

json deal_reopen(const json& params, RpcBackend& backend) {
    only_keys(params, {"account"});
    const Account& account = account_param(params, backend);
    backend.reopen(account.id);
    return json::object();
}

Nudge existing_nudge(const json& params, RpcBackend& backend) {
    const int64_t id = required_id(params);
    auto n = backend.nudge(id);
    if (!n) throw Failure(code::unknown_nudge, "no nudge " + std::to_string(id), {{"id", id}});
    return *n;
}

json apply_request(const Nudge& n, NudgeRequest request, std::optional<TimePoint> until, RpcBackend& backend) {
    const NudgeChange change = request_change(n, request, backend.now(), until);
    if (!change.allowed) {
        throw Failure(code::invalid_state, change.refusal, {{"state", std::string(to_string(n.state))}});
    }
    if (!change.changed) return nudge_json(n);
    backend.set_nudge(n.id, change.state, change.due);
    return nudge_json(*backend.nudge(n.id));
}

json nudges_snooze(const json& params, RpcBackend& backend) {
    only_keys(params, {"id", "until", "for"});
    Nudge n = existing_nudge(params, backend);
    const bool has_until = params.contains("until"), has_for = params.contains("for");
    if (has_until == has_for) bad_params("give exactly one of \"until\" (a date-time) or \"for\" (a duration)");
    TimePoint until;
    if (has_until) {
        until = *optional_datetime(params, "until");
    } else {
        const auto d = parse_duration(required_string(params, "for", 32));
        if (!d || d->count() <= 0) bad_params("\"for\" must be an ISO 8601 duration such as PT2H or P3D");
        until = backend.now() + *d;
    }
    if (until <= backend.now()) bad_params("\"until\" must be in the future");
    return apply_request(n, NudgeRequest::snooze, until, backend);
}

json nudges_close(const json& params, RpcBackend& backend, NudgeRequest request) {
    only_keys(params, {"id"});
    return apply_request(existing_nudge(params, backend), request, std::nullopt, backend);
}

json nudges_list(const json& params, RpcBackend& backend) {
    only_keys(params, {"state"});
    std::string filter = optional_string(params, "state", 16).value_or("open");
    if (filter != "pending" && filter != "due" && filter != "all" && filter != "open")
        bad_params("\"state\" must be pending, due or all");
    return {{"nudges", nudge_list(backend.nudges(filter))}};
}

json meetings_list(const json& params, RpcBackend& backend) {
    only_keys(params, {"from", "to"});
    auto from = optional_datetime(params, "from");
    auto to = optional_datetime(params, "to");
    if (from && to && *to < *from) bad_params("\"to\" is before \"from\"");
    return {{"meetings", backend.meetings(from, to)}};
}

json ack(const json& params, RpcBackend& backend) {
    only_keys(params, {"id"});
    const int64_t id = required_id(params);
    if (!backend.ack_notification(id))
        throw Failure(code::unknown_notification, "no notification " + std::to_string(id), {{"id", id}});
    return json::object();
}

}  // namespace

json nudge_json(const Nudge& n) {
    return {{"id", n.id}, {"account", n.account}, {"kind", n.kind}, {"due", format_datetime(n.due)},
            {"state", std::string(to_string(n.state))}, {"text", n.text}};
}

const std::vector<std::string>& method_names() {
    static const std::vector<std::string> names = {
        "hello", "status", "lookup", "compose.check", "deal.lost", "deal.reopen", "nudges.list",
        "nudges.snooze", "nudges.done", "nudges.dismiss", "meetings.list", "drafts.list",
        "accounts.health", "subscribe", "notifications.ack"};
    return names;
}

int64_t subscribe_after(const nlohmann::json& params) {
    if (!params.is_object()) bad_params("params must be an object with named members");
    only_keys(params, {"after"});
    if (!params.contains("after") || params["after"].is_null()) return 0;
    const int64_t after = required_id(params, "after");
    if (after < 0) bad_params("\"after\" must be 0 or a notification id");
    return after;
}

json dispatch(const std::string& method, const json& raw_params, RpcBackend& backend) {
    const json& params = object_params(raw_params);
    if (method == "status") {
        only_keys(params, {});
        return backend.status();
    }
    if (method == "lookup") return lookup(params, backend);
    if (method == "compose.check") return compose(params, backend);
    if (method == "deal.lost") return deal_lost(params, backend);
    if (method == "deal.reopen") return deal_reopen(params, backend);
    if (method == "nudges.list") return nudges_list(params, backend);
    if (method == "nudges.snooze") return nudges_snooze(params, backend);
    if (method == "nudges.done") return nudges_close(params, backend, NudgeRequest::done);
    if (method == "nudges.dismiss") return nudges_close(params, backend, NudgeRequest::dismiss);
    if (method == "meetings.list") return meetings_list(params, backend);
    if (method == "drafts.list") {
        only_keys(params, {});
        return {{"drafts", backend.drafts()}};
    }
    if (method == "accounts.health") return accounts_health(params, backend);
    if (method == "notifications.ack") return ack(params, backend);
    throw Failure(code::method_not_found, "unknown method \"" + method + "\"", {{"methods", method_names()}});
}

}  // namespace rapport::rpc

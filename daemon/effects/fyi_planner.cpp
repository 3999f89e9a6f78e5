#include "effects/fyi_planner.hpp"

#include <algorithm>

#include "app/log.hpp"
#include "rapport/fyi_draft.hpp"

namespace rapport {
namespace {

DraftAddress address_of(const Person* p) {
    if (!p) return {};
    return {p->name, p->addresses.empty() ? std::string() : p->addresses.front()};
}

std::string date_text(const std::optional<TimePoint>& t) { return t ? format_date(date_of(*t)) : std::string(); }

std::string first_mailbox(const Settings& s) { return s.mailboxes.empty() ? std::string() : s.mailboxes.front().id; }

std::optional<DraftIntent> finish(const ComposedDraft& draft, const std::string& key, const std::string& mailbox,
                                  const std::string& account, const char* purpose, const Settings& settings, TimePoint now) {
    const std::string id = fyi_draft_id(key);
    std::string error;
    auto message = draft_bytes(draft, id, settings, now, &error);
    if (!message) {
        log::error("no FYI draft \"" + draft.subject + "\": " + error);
        return std::nullopt;
    }
    DraftIntent intent;
    intent.kind = EffectKind::fyi_draft;
    intent.key = key;
    intent.not_before = now;
    intent.payload = {{"mailbox", mailbox}, {"draft_id", id},        {"message", *message}, {"subject", draft.subject},
                      {"account", account}, {"meeting", ""},         {"purpose", purpose},
                      {"to", draft.to.empty() ? std::string() : draft.to.front().address}};
    return intent;
}

}  // namespace

std::optional<DraftIntent> plan_handoff_intent(const Handoff& h, DaemonState& state, TimePoint now) {
    const auto& rules = state.directory->rules();
    const Account* account = rules.account(h.account);
    const std::string mailbox = first_mailbox(*state.settings);
    if (!account || mailbox.empty()) {
        log::warning("no handoff draft for " + h.account + ": " + (account ? "no mailbox in the settings" : "unknown account"));
        return std::nullopt;
    }
    HandoffContext c;
    c.account_name = account->name;
    c.stage = to_string(account->stage);
    if (account->lost) {
        std::string note;
        if (!account->lost->competitor.empty()) note = "went with " + account->lost->competitor;
        if (account->lost->on) note += (note.empty() ? "lost on " : " on ") + format_date(*account->lost->on);
        if (account->lost->delivery) note += (note.empty() ? "" : "; ") + std::string("their delivery is due ") +
                                             format_date(*account->lost->delivery);
        c.lost_note = note;
    }
    c.user = {state.settings->user_name, state.settings->user_address};
    c.new_owner = address_of(rules.person(h.to));

    static_assert(ComposeLimits::max_list_items <= StateStore::kAccountMessagesKept,
                  "the store keeps too few of an account's messages for this list");
    std::vector<ContactSeen> seen;
    std::vector<AccountMessage> recent;
    state.store->read([&](ReadTx& tx) {
        seen = tx.contacts_seen(h.account);
        recent = tx.account_messages(h.account, now - kEngagementWindow, ComposeLimits::max_list_items);
    });
    const Engagement e = engagement_of(*account, seen, now);
    for (const auto& p : e.contacts) {
        HandoffContact hc;
        hc.name = p.name;
        hc.address = p.address;
        hc.champion = p.champion;
        hc.last_in = date_text(p.last_in);
        hc.last_out = date_text(p.last_out);
        c.contacts.push_back(std::move(hc));
    }
    for (const auto& n : h.nudges) c.nudges.push_back({"due " + format_date(date_of(n.due)), n.text});
    for (const auto& m : state.meetings) {
        if (m.value("state", "") != "upcoming") continue;
        const auto& accounts = m.value("accounts", nlohmann::json::array());
        if (std::find(accounts.begin(), accounts.end(), h.account) == accounts.end()) continue;
        const auto start = parse_datetime(m.value("start", ""));
        c.meetings.push_back({start ? format_local(*start, "%F %H:%M") + " (" + zone_label(*start) + ")" : "",
                              m.value("title", "")});
    }
    const auto& dir = *state.directory;
    for (const auto& m : recent) {
        const Match who = dir.lookup(m.contact);
        c.recent.push_back({format_date(date_of(m.date)), m.inbound,
                            who.contact && !who.contact->name.empty() ? who.contact->name : m.contact, m.subject});
    }
    const std::string key = "handoff:" + h.account + ":" + h.to + ":" + std::to_string(h.sequence);
    return finish(compose_handoff(c), key, mailbox, h.account, "handoff", *state.settings, now);
}

std::optional<DraftIntent> plan_not_copied_intent(const NotificationDraft& n, const std::string& subject,
                                                  std::optional<TimePoint> sent, const std::string& mailbox,
                                                  const std::string& folder, const DaemonState& state, TimePoint now) {
    const auto& rules = state.directory->rules();
    if (!rules.rules.auto_cc.fyi_drafts || n.kind != "owner_not_copied") return std::nullopt;
    const Account* account = rules.account(n.account);
    if (!account) return std::nullopt;
    const std::string owner_address = n.extra.value("owner", "");
    const Person* owner = rules.person(account->owner);
    NotCopiedContext c;
    c.account_name = account->name;
    c.user = {state.settings->user_name, state.settings->user_address};
    c.owner = {owner ? owner->name : std::string(), owner_address};
    c.subject = subject;
    if (sent) c.date = format_local(*sent, "%F %H:%M") + " (" + zone_label(*sent) + ")";
    for (const auto& r : n.extra.value("recipients", nlohmann::json::array()))
        if (r.is_string()) c.recipients.push_back(r.get<std::string>());
    c.folder = folder;
    const std::string key = "not_copied:" + mailbox + ":" + n.extra.value("message_id", "") + ":" + owner_address;
    return finish(compose_not_copied(c), key, mailbox, n.account, "not_copied", *state.settings, now);
}

}  // namespace rapport

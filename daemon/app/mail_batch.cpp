#include "app/mail_batch.hpp"

#include <map>
#include <string_view>
#include <tuple>

namespace rapport {

void MailBatch::add(uint32_t uid, MessageDecision decision, std::vector<DraftIntent> drafts) {
    entries_.push_back({uid, std::move(decision), std::move(drafts)});
    ids_.insert(entries_.back().decision.message_id);
}

void MailBatch::clear() {
    entries_.clear();
    ids_.clear();
}

std::vector<StoredNotification> MailBatch::write(WriteTx& tx, const SyncMark& mark, TimePoint now,
                                                 bool* drafts_added, int64_t* new_messages) const {
    std::vector<StoredNotification> stored;
    // A contact's activity keeps only its latest message per direction (the first of equals:
    // record_contact replaces only on a strictly later time), so the batch writes each
    // (account, address, direction) once, with the touch that writing them in order would
    // have left. A scan's batch mostly repeats a few correspondents: one upsert, not hundreds.
    struct Latest {
        const ContactTouch* touch;
        const std::string* message_id;
    };
    std::map<std::tuple<std::string_view, std::string_view, bool>, Latest> latest;
    // Written together after the loop: several rows per statement.
    std::vector<std::string_view> seen;
    seen.reserve(entries_.size());
    std::vector<AccountMessageRow> recent;
    for (const auto& e : entries_) {
        const auto& d = e.decision;
        for (const auto& c : d.contacts) {
            auto [it, added] = latest.try_emplace({c.account, c.address, c.inbound}, Latest{&c, &d.message_id});
            if (!added && c.when > it->second.touch->when) it->second = {&c, &d.message_id};
            if (c.recent) recent.push_back({c.account, d.message_id, c.when, c.inbound, c.address, d.subject});
        }
        for (const auto& n : d.notifications) stored.push_back(tx.add_notification(n.kind, now, n.account, n.text, n.extra));
        for (const auto& draft : e.drafts) {
            const bool added = tx.add_effect(draft.kind, draft.key, draft.payload, draft.not_before, now).has_value();
            if (drafts_added) *drafts_added |= added;
        }
        seen.push_back(d.message_id);
        // The body is read later (FolderWatch::read_bodies); the intent is stored with the mark.
        if (d.fetch_body != BodyReason::none)
            tx.add_body_read({mailbox_, folder_, mark.uidvalidity, e.uid, d.message_id, to_string(d.fetch_body),
                              {{"history", d.history}}, 0, now});
    }
    tx.record_account_messages(recent);
    const std::size_t added = tx.record_messages(mailbox_, folder_, seen, now);
    if (new_messages) *new_messages += static_cast<int64_t>(added);
    for (const auto& [key, l] : latest)
        tx.record_contact(l.touch->account, l.touch->address, l.touch->inbound, l.touch->when, *l.message_id);
    tx.set_folder_mark(mailbox_, folder_, mark);
    return stored;
}

}  // namespace rapport

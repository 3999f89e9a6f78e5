#pragma once
// What a folder's fetch decided, held in memory until it is written in one transaction with
// the folder's new mark: the messages seen, the contacts' activity, the notifications. Nothing
// here is in the store until write() commits; a failed write leaves the store as it was and the
// folder fetches again from its last committed mark.
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "effects/draft_intent.hpp"
#include "rapport/message_decision.hpp"
#include "store/state_store.hpp"

namespace rapport {

class MailBatch {
public:
    MailBatch(std::string mailbox, std::string folder) : mailbox_(std::move(mailbox)), folder_(std::move(folder)) {}
    // Moved, never copied: ids_ views the Message-IDs inside entries_, which a copy would not.
    MailBatch(MailBatch&&) = default;
    MailBatch& operator=(MailBatch&&) = default;
    MailBatch(const MailBatch&) = delete;
    MailBatch& operator=(const MailBatch&) = delete;

    // drafts: the FYI drafts the decision asks for, journaled with it.
    void add(uint32_t uid, MessageDecision decision, std::vector<DraftIntent> drafts = {});
    // The same Message-ID earlier in this batch (not yet in the store).
    bool contains(std::string_view message_id) const { return ids_.count(message_id) > 0; }
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    void clear();

    // Writes everything and the mark; returns the notifications as stored (with their ids),
    // to broadcast once the transaction has committed. *drafts_added: a draft intent is new.
    // *new_messages: how many messages were new to the folder's seen list.
    std::vector<StoredNotification> write(WriteTx& tx, const SyncMark& mark, TimePoint now,
                                          bool* drafts_added = nullptr, int64_t* new_messages = nullptr) const;

private:
    struct Entry {
        uint32_t uid;
        MessageDecision decision;
        std::vector<DraftIntent> drafts;
    };
    std::string mailbox_, folder_;
    // A deque: an entry never moves once added (a vector's growth would move the strings ids_
    // views; a short Message-ID lives inside its string). Moving the batch keeps them in place.
    std::deque<Entry> entries_;
    std::unordered_set<std::string_view> ids_;
};

}  // namespace rapport

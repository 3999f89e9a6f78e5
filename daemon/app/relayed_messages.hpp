#pragma once
// The Message-IDs the submission listener relayed with the owners copied, so that the Sent
// audit does not report the client's own Sent copy (which lacks the added Cc) as uncopied.
// In memory only and bounded: the copy reaches Sent seconds after the relay (the client
// uploads it right after the 250), well inside the window of the last kMax messages; after a
// restart the folder marks already keep the audit from looking at it again.
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_set>

namespace rapport {

class RelayedMessages {
public:
    static constexpr std::size_t kMax = 10000;
    void add(const std::string& message_id) {
        if (message_id.empty() || !ids_.insert(message_id).second) return;
        order_.push_back(message_id);
        if (order_.size() > kMax) {
            ids_.erase(order_.front());
            order_.pop_front();
        }
    }
    bool contains(const std::string& message_id) const { return ids_.count(message_id) > 0; }
    std::size_t size() const { return ids_.size(); }

private:
    std::unordered_set<std::string> ids_;
    std::deque<std::string> order_;
};

}  // namespace rapport

#include "app/nudge_timer.hpp"

#include "app/log.hpp"
#include "rapport/rpc_methods.hpp"

namespace rapport {

void NudgeTimer::rearm() {
    timer_.cancel();
    const Instant now = state_.clock->instant();
    std::optional<Instant> next;
    try {
        auto scheduled = state_.store->read([](ReadTx& tx) { return tx.nudges(NudgeFilter::scheduled); });
        const auto fire = nudges_to_fire(scheduled, now);
        if (!fire.empty()) {
            const TimePoint stamp = state_.clock->now();
            auto stored = state_.store->write([&](WriteTx& tx) {
                std::vector<StoredNotification> out;
                for (auto n : fire) {
                    tx.set_nudge(n.id, NudgeState::due, std::nullopt);
                    n.state = NudgeState::due;
                    out.push_back(tx.add_notification("nudge_due", stamp, n.account, n.text, {{"nudge", rpc::nudge_json(n)}}));
                }
                return out;
            });
            log::info(std::to_string(fire.size()) + " nudge(s) came due");
            for (const auto& n : stored)
                if (state_.broadcast) state_.broadcast(n);
            for (auto& n : scheduled)
                for (const auto& f : fire)
                    if (n.id == f.id) n.state = NudgeState::due;
        }
        next = next_nudge_wake(scheduled, now);
    } catch (const StoreError& e) {
        // Nothing was fired (the write is whole or nothing): look again shortly.
        log::error(std::string("firing due nudges: ") + e.what());
        next = now + Millis{5000};
    }
    if (!next) return;
    timer_.expires_at(std::chrono::system_clock::time_point(*next));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) rearm();
    });
}

}  // namespace rapport

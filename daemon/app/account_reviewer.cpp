#include "app/account_reviewer.hpp"

#include <algorithm>

#include "app/log.hpp"
#include "effects/fyi_planner.hpp"
#include "rapport/account_review.hpp"

namespace rapport {
namespace {

// A review reads every account's activity: after new mail, wait for the burst to settle.
constexpr std::chrono::seconds kAfterMail{5};
constexpr std::chrono::hours kAtLeastEvery{1};

// Silence and single-threadedness need the mailboxes' history: until every mailbox has
// finished one sync, an account only looks quiet.
bool history_complete(const DaemonState& state) {
    return std::all_of(state.mailboxes.begin(), state.mailboxes.end(),
                       [](const SourceStatus& s) { return s.last_sync.has_value(); });
}

}  // namespace

void AccountReviewer::stop() {
    due_timer_.cancel();
    soon_timer_.cancel();
    soon_pending_ = false;
}

void AccountReviewer::soon() {
    if (soon_pending_) return;
    soon_pending_ = true;
    soon_timer_.expires_after(kAfterMail);
    soon_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        soon_pending_ = false;
        review();
    });
}

void AccountReviewer::arm(std::optional<Instant> next) {
    const Instant hourly = state_.clock->instant() + kAtLeastEvery;
    const Instant when = next ? std::min(*next, hourly) : hourly;
    due_timer_.expires_at(std::chrono::system_clock::time_point(when));
    due_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) review();
    });
}

void AccountReviewer::review() {
    const auto rules = state_.directory->rules_ptr();
    const Instant now_ms = state_.clock->instant();
    const TimePoint now = state_.clock->now();
    ReviewDecision d;
    std::vector<DraftIntent> drafts;
    try {
        ReviewInput in;
        in.rules = rules.get();
        in.me = person_of(*rules, state_.settings->user_address);
        in.mail_history_complete = history_complete(state_);
        state_.store->read([&](ReadTx& tx) {
            in.watches = tx.account_watches();
            in.seen = tx.contacts_seen();
            in.open_nudges = tx.nudges(NudgeFilter::open);
        });
        d = review_accounts(in, now_ms);
        // Composed before the write: composing reads the store.
        for (const auto& h : d.handoffs)
            if (auto intent = plan_handoff_intent(h, state_, now)) drafts.push_back(std::move(*intent));
        if (!d.empty()) {
            bool drafts_added = false;
            state_.store->write([&](WriteTx& tx) {
                drafts_added = false;
                for (const auto& w : d.store) tx.set_account_watch(w);
                for (auto id : d.cancel) tx.set_nudge(id, NudgeState::cancelled, std::nullopt);
                for (auto id : d.close) tx.set_nudge(id, NudgeState::done, std::nullopt);
                for (const auto& p : d.add) tx.add_nudge(p, now);
                for (const auto& loss : d.losses) tx.set_deal(DealRecord::lost(loss, "from the rules", now));
                for (const auto& account : d.unlosses)
                    if (auto deal = tx.deal(account)) {
                        deal->state = DealState::reopened;
                        deal->updated = now;
                        tx.set_deal(*deal);
                    }
                for (const auto& intent : drafts)
                    drafts_added |= tx.add_effect(intent.kind, intent.key, intent.payload, intent.not_before, now).has_value();
            });
            for (const auto& loss : d.losses) {
                log::info("lost in the rules: " + loss.account + (loss.competitor.empty() ? "" : " to " + loss.competitor));
                state_.lost_accounts.insert(loss.account);
            }
            for (const auto& account : d.unlosses) {
                log::info("no longer lost in the rules: " + account + "; its open follow-ups are cancelled");
                state_.lost_accounts.erase(account);
            }
            for (const auto& h : d.handoffs)
                log::info("account " + h.account + " moved from " + h.from + " to " + h.to + "; handoff draft planned, " +
                          std::to_string(h.nudges.size()) + " open nudges go with it");
            for (const auto& p : d.add)
                if (p.kind == "silence" || p.kind == "single_threaded") log::info(p.kind + " nudge for " + p.account);
            if (state_.nudges_changed) state_.nudges_changed();
            if (drafts_added && state_.drafts_added) state_.drafts_added();
        }
    } catch (const StoreError& e) {
        // Nothing was changed: the next review (new mail, the hourly one) tries again.
        log::error(std::string("account review: ") + e.what());
    }
    arm(d.next_review);
}

}  // namespace rapport

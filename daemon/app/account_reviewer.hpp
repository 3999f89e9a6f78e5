#pragma once
// Runs the account review (rapport/account_review.hpp) and carries out what it decides in one
// transaction: the watches, the nudges it adds, cancels and closes, the losses from the rules
// as deals, and the handoff drafts as journal intents. Runs at start, after every reload, a few
// seconds after new mail was recorded (coalesced: a first scan commits hundreds of batches), at
// the next moment the review said something falls due, and at least hourly.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include "app/daemon_state.hpp"

namespace rapport {

class AccountReviewer {
public:
    AccountReviewer(boost::asio::io_context& io, DaemonState& state) : state_(state), due_timer_(io), soon_timer_(io) {}

    void review();  // now
    void soon();    // after new mail: one review a few seconds later, however many calls
    void stop();

private:
    void arm(std::optional<Instant> next);

    DaemonState& state_;
    boost::asio::system_timer due_timer_;   // wall clock: silence is measured in calendar days
    boost::asio::steady_timer soon_timer_;
    bool soon_pending_ = false;
};

}  // namespace rapport

#pragma once
// The one timer for the next due nudge. The core decides which nudges are due and when to look
// next (rapport/nudges.hpp); this arms a wall-clock timer for exactly that instant, fires the
// due ones (each nudge's state change and its nudge_due notification in one transaction) and
// broadcasts after the commit. Nudges that came due while the daemon was down fire at start.
// Re-armed after every change to the nudges (deal.lost, snooze, …) through rearm().
#include <boost/asio/io_context.hpp>
#include <boost/asio/system_timer.hpp>

#include "app/daemon_state.hpp"

namespace rapport {

class NudgeTimer {
public:
    NudgeTimer(boost::asio::io_context& io, DaemonState& state) : state_(state), timer_(io) {}
    // Fires what is due now and arms the timer for the next.
    void rearm();
    void stop() { timer_.cancel(); }

private:
    DaemonState& state_;
    // Wall clock: nudges are due at calendar times, which a suspended laptop must honour.
    boost::asio::system_timer timer_;
};

}  // namespace rapport

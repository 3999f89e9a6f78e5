#pragma once
// Follows one configured calendar: every poll_interval it has the worker pool fetch it (files,
// feeds and CalDAV all block) and expand it over the window (7 days back, 30 ahead), and hands
// the occurrences to the daemon's thread, which decides the customer meetings.
//
// The schedule lives on the io_context (one timer); only the fetch and the expansion run on a
// worker, one job at a time per watcher. What a job needs (the open source, which keeps ETags
// between fetches, the password, the last documents) lives in a shared Context the job holds,
// so stop() and the destructor never wait for a worker: a job still running when the watcher
// goes keeps its Context alive on its own and its result is dropped.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/daemon_state.hpp"
#include "app/worker_pool.hpp"
#include "rapport/meetings.hpp"

namespace rapport {

class CalendarWatcher {
public:
    using Update = std::function<void(std::size_t index, std::vector<CalendarOccurrence> occurrences)>;

    // `pool` must outlive the watcher. on_update is called on the io thread after every
    // successful read.
    CalendarWatcher(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state, CalendarSource calendar,
                    std::size_t index, std::string settings_dir, Update on_update);
    ~CalendarWatcher();  // = stop()
    CalendarWatcher(const CalendarWatcher&) = delete;
    CalendarWatcher& operator=(const CalendarWatcher&) = delete;

    void start();  // the first read starts now
    void stop();   // never blocks; final (a stopped watcher does not start again)

    static constexpr Seconds kWindowBack{7 * 86400};
    static constexpr Seconds kWindowAhead{30 * 86400};
    // A failed password_command, open or fetch is retried after 5 s, 10 s, 20 s… up to this.
    static constexpr Seconds kFirstRetry{5};
    static constexpr Seconds kMaxRetry{600};
    // Parsing and expanding one calendar (all its documents) stops here; see ExpandLimits.
    static constexpr std::chrono::milliseconds kExpandTimeLimit{2000};

private:
    struct Context;  // what a job works on (calendar_watcher.cpp)
    struct Outcome;  // what a job hands back
    static Outcome read(Context& context);  // the job, on a worker
    void poll();
    void finished(Outcome outcome);
    void wait(Seconds delay);
    Seconds backoff() const;
    void set_status(const std::string& state, const std::string& error);

    WorkerPool& pool_;
    DaemonState& state_;
    CalendarSource calendar_;
    std::size_t index_;
    Update on_update_;
    boost::asio::steady_timer timer_;
    std::shared_ptr<Context> context_;
    // The pool delivers results, and the timer acts, only while this lives: reset by stop().
    std::shared_ptr<const void> alive_;
    int failures_ = 0;  // in a row, for the backoff
    bool started_ = false;
};

// The zone floating times and all-day dates are read in: $TZ, else /etc/localtime, else UTC.
std::string local_zone_name();

}  // namespace rapport

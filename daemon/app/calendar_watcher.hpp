#pragma once
// Follows one configured calendar: fetches it on a worker thread every poll_interval (files,
// feeds and CalDAV all block), expands it over the window (7 days back, 30 ahead), and hands
// the occurrences to the daemon's thread, which decides the customer meetings.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "app/daemon_state.hpp"
#include "rapport/meetings.hpp"

namespace rapport {

class CalendarWatcher {
public:
    using Update = std::function<void(std::size_t index, std::vector<CalendarOccurrence> occurrences)>;

    CalendarWatcher(boost::asio::io_context& io, DaemonState& state, CalendarSource calendar, std::size_t index,
                    std::string settings_dir, Update on_update);
    ~CalendarWatcher();
    void start();
    void stop();

    static constexpr Seconds kWindowBack{7 * 86400};
    static constexpr Seconds kWindowAhead{30 * 86400};

private:
    void run();
    boost::asio::io_context& io_;
    DaemonState& state_;
    CalendarSource calendar_;
    std::size_t index_;
    std::string settings_dir_;
    Update on_update_;
    std::thread worker_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::shared_ptr<bool> alive_;
};

// The zone floating times and all-day dates are read in: $TZ, else /etc/localtime, else UTC.
std::string local_zone_name();

}  // namespace rapport

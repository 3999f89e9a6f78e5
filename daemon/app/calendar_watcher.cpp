#include "app/calendar_watcher.hpp"

#include <boost/asio/post.hpp>

#include <cstdlib>
#include <filesystem>

#include "app/log.hpp"
#include "app/secret_command.hpp"
#include "calendar/calendar_source.hpp"

namespace rapport {

std::string local_zone_name() {
    if (const char* tz = std::getenv("TZ"); tz && *tz) return tz[0] == ':' ? tz + 1 : tz;
    std::error_code ec;
    const auto target = std::filesystem::read_symlink("/etc/localtime", ec).string();
    const auto pos = target.find("zoneinfo/");
    if (!ec && pos != std::string::npos) return target.substr(pos + 9);
    return "UTC";
}

CalendarWatcher::CalendarWatcher(boost::asio::io_context& io, DaemonState& state, CalendarSource calendar,
                                 std::size_t index, std::string settings_dir, Update on_update)
    : io_(io), state_(state), calendar_(std::move(calendar)), index_(index), settings_dir_(std::move(settings_dir)),
      on_update_(std::move(on_update)), alive_(std::make_shared<bool>(true)) {}

CalendarWatcher::~CalendarWatcher() { stop(); }

void CalendarWatcher::start() { worker_ = std::thread([this] { run(); }); }

void CalendarWatcher::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        *alive_ = false;
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

// The worker: everything that blocks or burns CPU (password_command, HTTP, libical) happens
// here; results are posted to the daemon's thread, which alone touches DaemonState.
void CalendarWatcher::run() {
    const std::string id = calendar_.id;
    auto post = [this](std::function<void(DaemonState&)> f) {
        std::weak_ptr<bool> alive = alive_;
        boost::asio::post(io_, [this, alive, f = std::move(f)]() {
            auto a = alive.lock();
            if (a && *a) f(state_);
        });
    };
    auto set_status = [&](std::string st, std::string error) {
        post([this, st, error](DaemonState& s) {
            auto& status = s.calendars[index_];
            const bool was_error = !status.last_error.empty();
            status.state = st;
            status.last_error = error;
            if (!error.empty() && !was_error) {
                log::warning("calendar " + calendar_.id + ": " + error);
                try {
                    s.notify("sync_error", "", "Calendar " + calendar_.id + " cannot be read: " + error + ". Retrying.",
                             {{"source", calendar_.id}, {"error", error}, {"recovered", false}});
                } catch (const StoreError&) {
                }
            } else if (error.empty() && was_error) {
                log::info("calendar " + calendar_.id + " is readable again");
                try {
                    s.notify("sync_error", "", "Calendar " + calendar_.id + " is readable again.",
                             {{"source", calendar_.id}, {"error", ""}, {"recovered", true}});
                } catch (const StoreError&) {
                }
            }
        });
    };

    std::string password = calendar_.password.value;
    if (!calendar_.password.command.empty()) {
        std::string error;
        auto p = run_password_command(calendar_.password.command, std::chrono::seconds(30), error);
        if (!p) {
            set_status("error", error);
            return;
        }
        password = *p;
    }
    calendar::SourceSettings settings;
    settings.url = calendar_.url;
    settings.username = calendar_.username;
    settings.password = password;
    settings.base_dir = settings_dir_;
    std::string error;
    auto source = calendar::open_calendar_source(settings, error);
    if (!source) {
        set_status("error", error);
        return;
    }
    const std::string zone = local_zone_name();
    std::vector<calendar::CalendarDocument> documents;
    auto failures = 0;
    while (true) {
        const auto now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
        const auto from = now - kWindowBack, to = now + kWindowAhead;
        auto fetched = source->fetch(from, to);
        if (fetched.state == calendar::FetchResult::State::failed) {
            ++failures;
            set_status("error", fetched.error);
        } else {
            failures = 0;
            if (fetched.state == calendar::FetchResult::State::changed) documents = std::move(fetched.documents);
            // Expanded on every poll, changed or not: the window moves with the clock.
            auto result = calendar::expand_documents(documents, from, to, {}, zone);
            for (const auto& skipped : result.skipped) log::warning("calendar " + id + ": skipped " + skipped);
            std::vector<CalendarOccurrence> occurrences;
            occurrences.reserve(result.occurrences.size());
            for (const auto& o : result.occurrences) {
                CalendarOccurrence c;
                c.calendar = id;
                c.uid = o.uid;
                c.occurrence = o.recurrence_id;
                c.start = o.start;
                c.end = o.end;
                c.all_day = o.all_day;
                c.cancelled = o.cancelled;
                c.title = o.summary;
                c.organizer = {o.organizer.address, o.organizer.name, o.organizer.partstat};
                for (const auto& a : o.attendees) c.attendees.push_back({a.address, a.name, a.partstat});
                occurrences.push_back(std::move(c));
            }
            const int events = result.events;
            post([this, occurrences = std::move(occurrences), events](DaemonState& s) mutable {
                auto& status = s.calendars[index_];
                status.events = events;
                status.last_sync = s.clock->now();
                on_update_(index_, std::move(occurrences));
            });
            // Nothing usable at all (an HTML login page, a truncated file) is an error the user
            // must see; one bad event among good ones is only logged.
            if (result.events == 0 && !result.skipped.empty()) set_status("error", result.skipped.front());
            else set_status("idle", "");
        }
        // Failures back off up to 10 minutes; success waits one poll interval.
        auto wait = failures == 0 ? calendar_.poll_interval
                                  : std::min<Seconds>(Seconds{600}, Seconds{std::min(failures, 9) * std::min(failures, 9) * 5});
        std::unique_lock<std::mutex> lock(mutex_);
        if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
}

}  // namespace rapport

#include "app/calendar_watcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
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

struct CalendarWatcher::Context {
    // Filled by the constructor, before any job exists; read-only afterwards.
    std::string id;
    calendar::SourceSettings settings;  // the password is filled in by the first job that gets it
    std::vector<std::string> password_command;
    std::string zone;
    // Touched by jobs only, and never by two at once: the watcher submits the next job only
    // after the previous one's result came back (a dropped result ends the watcher).
    bool have_password = false;
    std::unique_ptr<calendar::CalendarSource> source;  // keeps ETags and sync state
    std::vector<calendar::CalendarDocument> documents;  // as last fetched: `unchanged` reuses them
};

struct CalendarWatcher::Outcome {
    bool read = false;  // fetched and expanded; if not, `error` says why
    std::string error;  // when read: set if nothing usable was found
    int events = 0;
    std::vector<CalendarOccurrence> occurrences;
};

CalendarWatcher::CalendarWatcher(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state,
                                 CalendarSource calendar, std::size_t index, std::string settings_dir,
                                 Update on_update)
    : pool_(pool), state_(state), calendar_(std::move(calendar)), index_(index),
      on_update_(std::move(on_update)), timer_(io), context_(std::make_shared<Context>()),
      alive_(std::make_shared<char>(0)) {
    auto& c = *context_;
    c.id = calendar_.id;
    c.settings.url = calendar_.url;
    c.settings.username = calendar_.username;
    c.settings.password = calendar_.password.value;
    c.settings.base_dir = std::move(settings_dir);
    c.password_command = calendar_.password.command;
    c.zone = local_zone_name();
}

CalendarWatcher::~CalendarWatcher() { stop(); }

void CalendarWatcher::start() {
    if (started_ || !alive_) return;
    started_ = true;
    poll();
}

void CalendarWatcher::stop() {
    // No join, no wait: a job in flight finishes on its worker with its own Context, and the
    // pool drops its result because alive_ is gone.
    alive_.reset();
    timer_.cancel();
}

void CalendarWatcher::poll() {
    auto context = context_;
    pool_.submit<Outcome>(
        alive_, [context] { return read(*context); },
        // `this` is safe: the pool calls this only while alive_, which stop() resets, exists.
        [this](Outcome outcome) { finished(std::move(outcome)); });
}

// On a worker: everything that blocks or burns CPU (password_command, HTTP, libical). It
// touches nothing but its Context, and always returns, so the watcher always hears back.
CalendarWatcher::Outcome CalendarWatcher::read(Context& c) {
    Outcome out;
    try {
        if (!c.source) {
            if (!c.have_password) {
                if (!c.password_command.empty()) {
                    std::string error;
                    auto password = run_password_command(c.password_command, std::chrono::seconds(30), error);
                    if (!password) {
                        out.error = error;
                        return out;
                    }
                    c.settings.password = *password;
                }
                c.have_password = true;
            }
            std::string error;
            c.source = calendar::open_calendar_source(c.settings, error);
            if (!c.source) {
                out.error = error;
                return out;
            }
        }
        const auto now = std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
        const auto from = now - kWindowBack, to = now + kWindowAhead;
        auto fetched = c.source->fetch(from, to);
        if (fetched.state == calendar::FetchResult::State::failed) {
            out.error = fetched.error;
            return out;
        }
        if (fetched.state == calendar::FetchResult::State::changed) c.documents = std::move(fetched.documents);
        // Expanded on every poll, changed or not: the window moves with the clock. The time
        // limit keeps a runaway calendar from holding libical (one lock for all calendars).
        calendar::ExpandLimits limits;
        limits.deadline = std::chrono::steady_clock::now() + kExpandTimeLimit;
        auto result = calendar::expand_documents(c.documents, from, to, limits, c.zone);
        for (const auto& skipped : result.skipped) log::warning("calendar " + c.id + ": skipped " + skipped);
        out.occurrences.reserve(result.occurrences.size());
        for (const auto& o : result.occurrences) {
            CalendarOccurrence occurrence;
            occurrence.calendar = c.id;
            occurrence.uid = o.uid;
            occurrence.occurrence = o.recurrence_id;
            occurrence.start = o.start;
            occurrence.end = o.end;
            occurrence.all_day = o.all_day;
            occurrence.cancelled = o.cancelled;
            occurrence.title = o.summary;
            occurrence.description = o.description;
            occurrence.location = o.location;
            occurrence.organizer = {o.organizer.address, o.organizer.name, o.organizer.partstat};
            for (const auto& a : o.attendees) occurrence.attendees.push_back({a.address, a.name, a.partstat});
            out.occurrences.push_back(std::move(occurrence));
        }
        out.events = result.events;
        // Nothing usable at all (an HTML login page, a truncated file) is an error the user
        // must see; one bad event among good ones is only logged.
        if (result.events == 0 && !result.skipped.empty()) out.error = result.skipped.front();
        // A recurrence cut short by the limits: what was found is used, but the calendar needs
        // fixing (FREQ=SECONDLY;COUNT=1000000000), and the status says so.
        else if (!result.limit.empty()) out.error = "calendar cut short: " + result.limit;
        out.read = true;
    } catch (const std::exception& e) {
        // Out of memory in libical, say. Reported like any failure and retried; the source is
        // opened afresh in case it was left half-way through a request.
        c.source.reset();
        out = Outcome{};
        out.error = std::string("reading the calendar failed: ") + e.what();
    } catch (...) {
        c.source.reset();
        out = Outcome{};
        out.error = "reading the calendar failed";
    }
    return out;
}

// On the io thread, only while the watcher lives.
void CalendarWatcher::finished(Outcome outcome) {
    if (!outcome.read) {
        ++failures_;
        set_status("error", outcome.error);
        const auto delay = backoff();
        log::debug("calendar " + calendar_.id + ": retrying in " + std::to_string(delay.count()) + " s");
        wait(delay);
        return;
    }
    failures_ = 0;
    if (index_ < state_.calendars.size()) {
        auto& status = state_.calendars[index_];
        status.events = outcome.events;
        status.last_sync = state_.clock->now();
    }
    set_status(outcome.error.empty() ? "idle" : "error", outcome.error);
    wait(calendar_.poll_interval);
    // Last: the daemon's callback is free to do anything, even replace this watcher.
    on_update_(index_, std::move(outcome.occurrences));
}

// 5 s, 10 s, 20 s… up to 10 minutes: a password agent that is not unlocked yet, a server that
// is down or a URL that is wrong (fixed by a reload, which makes a new watcher) all recover
// without a restart, and none of them is hammered.
Seconds CalendarWatcher::backoff() const {
    Seconds delay = kFirstRetry;
    for (int i = 1; i < failures_ && delay < kMaxRetry; ++i) delay *= 2;
    return std::min(delay, kMaxRetry);
}

void CalendarWatcher::wait(Seconds delay) {
    timer_.expires_after(delay);
    std::weak_ptr<const void> alive = alive_;
    // A cancelled wait may still arrive with success (it had already expired when stop()
    // ran), hence the check of `alive` before touching `this`.
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        poll();
    });
}

// Once per outage: the first error notifies, later ones only update the status, and the first
// success after an error says so.
void CalendarWatcher::set_status(const std::string& st, const std::string& error) {
    if (index_ >= state_.calendars.size()) return;
    auto& status = state_.calendars[index_];
    const bool was_error = !status.last_error.empty();
    status.state = st;
    status.last_error = error;
    if (!error.empty() && !was_error) {
        log::warning("calendar " + calendar_.id + ": " + error);
        try {
            state_.notify("sync_error", "", "Calendar " + calendar_.id + " cannot be read: " + error + ". Retrying.",
                          {{"source", calendar_.id}, {"error", error}, {"recovered", false}});
        } catch (const StoreError& e) {
            log::error("calendar " + calendar_.id + ": " + e.what());
        }
    } else if (error.empty() && was_error) {
        log::info("calendar " + calendar_.id + " is readable again");
        try {
            state_.notify("sync_error", "", "Calendar " + calendar_.id + " is readable again.",
                          {{"source", calendar_.id}, {"error", ""}, {"recovered", true}});
        } catch (const StoreError& e) {
            log::error("calendar " + calendar_.id + ": " + e.what());
        }
    }
}

}  // namespace rapport

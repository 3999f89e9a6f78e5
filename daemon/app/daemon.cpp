#include "app/daemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "api_server.hpp"
#include "store/state_dir_lock.hpp"
#include "app/account_reviewer.hpp"
#include "app/api_bridge.hpp"
#include "app/daemon_state.hpp"
#include "app/log.hpp"
#include "app/calendar_watcher.hpp"
#include "app/mail_watcher.hpp"
#include "app/service_notify.hpp"
#include "app/nudge_timer.hpp"
#include "app/rules_source.hpp"
#include "effects/draft_writer.hpp"
#include "effects/summary_planner.hpp"
#include "app/worker_pool.hpp"
#include "app/submission_service.hpp"
#include "rapport/meetings.hpp"
#include "rapport/message_decision.hpp"
#include "rapport/version.hpp"
#include "token_file.hpp"

namespace rapport {

Instant SystemClock::instant() const {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

std::string describe_directory(const Rules& rules) {
    std::size_t contacts = 0;
    for (const auto& a : rules.accounts) contacts += a.contacts.size();
    std::ostringstream out;
    out << rules.people.size() << " people, " << rules.accounts.size() << " accounts, " << contacts
        << " contacts";
    return out.str();
}

struct Daemon::Impl {
    // Declared first, destroyed last: everything below refers to the state.
    DaemonState state;
    std::unique_ptr<StateDirLock> state_lock;
    boost::asio::io_context io{1};
    // After io (the workers post to it), before the watchers (they submit to it).
    WorkerPool pool{io};
    // Calendar reads apart (docs/architecture.md): feeds that stall hold a thread each until
    // their timeout, and must hold up neither the other calendars nor mail's jobs.
    WorkerPool calendar_pool{io, 8};
    // The folders' batch writes, in order, on a thread of their own: queued behind nothing
    // slow (a password_command, an HTTP fetch), since a folder may wait for its last one.
    WorkerPool store_writer{io, 1};
    boost::asio::signal_set signals{io, SIGHUP, SIGTERM, SIGINT};
    NudgeTimer nudge_timer{io, state};
    AccountReviewer reviewer{io, state};
    boost::asio::steady_timer housekeeping_timer{io};
    std::unique_ptr<ApiBridge> bridge;
    std::unique_ptr<api::ApiServer> server;
    std::unique_ptr<SubmissionListeners> submission;  // SMTP submission (docs/submission.md)
    std::vector<std::shared_ptr<MailWatcher>> mail_watchers;
    std::vector<std::shared_ptr<DraftWriter>> draft_writers;  // one per mailbox
    std::vector<std::unique_ptr<CalendarWatcher>> calendar_watchers;
    std::vector<std::vector<CalendarOccurrence>> occurrences;  // per calendar, as last read
    // Wall-clock timer: meetings end at calendar times, which a suspended laptop must honour.
    boost::asio::system_timer meeting_timer{io};
    // Rules from an https URL: re-checked on a schedule (app/rules_source.hpp).
    std::shared_ptr<RulesRefresher> rules_refresher;
    // Owner of the reloads running on the pool: their result is dropped once the daemon goes.
    std::shared_ptr<int> reload_owner = std::make_shared<int>(0);

    void start_calendars() {
        calendar_watchers.clear();  // stops them; a fetch still running on the pool is dropped
        state.calendars.clear();
        occurrences.assign(state.settings->calendars.size(), {});
        const std::string dir = std::filesystem::path(state.settings_path).parent_path().string();
        for (std::size_t i = 0; i < state.settings->calendars.size(); ++i) {
            SourceStatus s;
            s.id = state.settings->calendars[i].id;
            state.calendars.push_back(s);
        }
        for (std::size_t i = 0; i < state.settings->calendars.size(); ++i) {
            calendar_watchers.push_back(std::make_unique<CalendarWatcher>(
                io, calendar_pool, state, state.settings->calendars[i], i, dir,
                [this](std::size_t index, std::vector<CalendarOccurrence> list) {
                    if (index < occurrences.size()) occurrences[index] = std::move(list);
                    meetings_changed();
                }));
            calendar_watchers.back()->start();
        }
    }

    // Recomputes the customer meetings from the last occurrences of every calendar, acts on
    // the ones that ended, and sets the timer for the next end. Runs after every calendar
    // read, every rules reload and every timer expiry.
    void meetings_changed() {
        const auto now = state.clock->now();
        const auto users = user_addresses(state.settings->user_address, state.directory->rules());
        std::vector<Meeting> meetings;
        for (std::size_t i = 0; i < occurrences.size(); ++i) {
            int64_t count = 0;
            for (const auto& o : occurrences[i])
                if (auto m = as_customer_meeting(o, *state.directory, users, now)) {
                    meetings.push_back(std::move(*m));
                    ++count;
                }
            if (i < state.calendars.size()) state.calendars[i].customer_meetings = count;
        }
        try {
            std::set<OccurrenceKey> ended;
            for (const auto& e : state.store->read([](ReadTx& tx) { return tx.ended_meetings(); }))
                ended.insert({e.calendar, e.uid, e.occurrence});
            const auto catch_up = state.directory->rules().rules.summary_drafts.catch_up;
            const auto decision = decide_endings(meetings, ended, state.clock->instant(), catch_up);
            // The summary drafts the fired ones want, composed before the write (the
            // composition reads the store: the account's recent subjects, open nudges).
            std::map<const Meeting*, SummaryIntent> intents;
            for (const auto& m : decision.fire)
                if (auto intent = plan_summary_intent(m, state, now)) intents.emplace(&m, std::move(*intent));
            // The end and its draft intent in one transaction: each occurrence ends once, and
            // its draft is in the journal before anything touches the server, so a crash at any
            // point neither loses nor doubles it.
            std::vector<std::pair<const Meeting*, MeetingOutcome>> recorded;
            bool drafts_added = false;
            state.store->write([&](WriteTx& tx) {
                recorded.clear();
                drafts_added = false;
                for (const auto* list : {&decision.fire, &decision.expire}) {
                    const auto outcome = list == &decision.fire ? MeetingOutcome::fired : MeetingOutcome::expired;
                    for (const auto& m : *list) {
                        const auto& o = m.occurrence;
                        if (!tx.record_meeting_end({o.calendar, o.uid, o.occurrence.time_since_epoch().count(), outcome}, now))
                            continue;
                        recorded.emplace_back(&m, outcome);
                        if (auto it = intents.find(&m); it != intents.end())
                            drafts_added |= tx.add_effect(EffectKind::summary_draft, it->second.key, it->second.payload,
                                                          it->second.not_before, now)
                                                .has_value();
                    }
                }
            });
            if (drafts_added)
                for (auto& w : draft_writers) w->kick();
            for (const auto& [m, outcome] : recorded) {
                const auto& o = m->occurrence;
                if (outcome == MeetingOutcome::fired)
                    log::info("customer meeting ended: \"" + o.title + "\" (" + o.calendar + "/" + o.uid + " at " +
                              format_datetime(o.occurrence) + ", ended " + format_datetime(o.end) + ")");
                else
                    log::info("customer meeting \"" + o.title + "\" ended " + format_datetime(o.end) +
                              ", before the catch-up window; not acted on");
            }
            meeting_timer.cancel();
            if (decision.next_end) {
                meeting_timer.expires_at(std::chrono::system_clock::time_point(*decision.next_end) + std::chrono::seconds(1));
                meeting_timer.async_wait([this](const boost::system::error_code& ec) {
                    if (!ec) meetings_changed();
                });
            }
        } catch (const StoreError& e) {
            // Nothing was recorded: the next calendar read or reload tries again.
            log::error(std::string("meetings: ") + e.what());
        }
        nlohmann::json list = nlohmann::json::array();
        std::sort(meetings.begin(), meetings.end(), [](const Meeting& a, const Meeting& b) {
            return a.occurrence.start < b.occurrence.start;
        });
        for (const auto& m : meetings) list.push_back(meeting_json(m));
        state.meetings = std::move(list);
    }
    // A reload restarts the mail watchers only when what they are built from changed.
    static bool watchers_differ(const Settings& a, const Settings& b) {
        return a.user_address != b.user_address ||
               !std::equal(a.mailboxes.begin(), a.mailboxes.end(), b.mailboxes.begin(), b.mailboxes.end(), same_watch);
    }

    void start_watchers() {
        mail_watchers.clear();
        draft_writers.clear();
        state.mailboxes.clear();
        for (std::size_t i = 0; i < state.settings->mailboxes.size(); ++i) {
            SourceStatus s;
            s.id = state.settings->mailboxes[i].id;
            state.mailboxes.push_back(s);
        }
        for (std::size_t i = 0; i < state.settings->mailboxes.size(); ++i) {
            mail_watchers.push_back(std::make_shared<MailWatcher>(io, pool, state, state.settings->mailboxes[i], i));
            mail_watchers.back()->start();
            // Also picks up the intents a crash or a stop left pending.
            draft_writers.push_back(std::make_shared<DraftWriter>(io, pool, state, state.settings->mailboxes[i], i));
            draft_writers.back()->kick();
        }
    }

    // Acknowledged notifications older than 30 days go; looked at every 6 hours.
    void housekeeping() {
        try {
            const TimePoint cutoff = state.clock->now() - Seconds{30 * 86400};
            const TimePoint subjects_cutoff = state.clock->now() - kRecentMessagesKept;
            const auto pruned = state.store->write([&](WriteTx& tx) {
                tx.prune_account_messages(subjects_cutoff);
                return tx.prune_notifications(cutoff);
            });
            if (pruned) log::debug("pruned " + std::to_string(pruned) + " acknowledged notifications");
        } catch (const StoreError& e) {
            log::error(std::string("pruning notifications: ") + e.what());
        }
        housekeeping_timer.expires_after(std::chrono::hours(6));
        housekeeping_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) housekeeping();
        });
    }

    void wait_for_signal() {
        signals.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                service::notify_reloading();
                reload();  // READY=1 once the new config is applied (or refused)
                wait_for_signal();
            } else {
                log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
                stop();
            }
        });
    }

    // A new version of the URL's rules installs like a reload of a local file; a broken one
    // is refused the same way (status, log, `config` notification) and the last good stays.
    void start_rules_refresher(std::chrono::milliseconds first_check) {
        if (rules_refresher) rules_refresher->stop();
        rules_refresher.reset();
        if (state.settings->rules_url.empty()) return;
        log::debug("rules: re-checking " + state.settings->rules_url + " every " +
                   std::to_string(state.settings->rules_refresh.count()) + " s");
        const std::string url = state.settings->rules_url;
        rules_refresher = std::make_shared<RulesRefresher>(
            io, pool, state.settings,
            [this, url](std::shared_ptr<const Rules> rules) {
                install(std::move(rules));
                meetings_changed();
                log::info("rules updated from " + url + ": " + describe_directory(state.directory->rules()));
                notify_config(true, {}, "Rules updated from " + url + ": " + describe_directory(state.directory->rules()) + ".");
            },
            [this, url](const Diagnostics& problems, bool refused) {
                if (problems.empty()) {
                    log::info("rules: " + url + " answers again; the rules in force are its current version");
                    state.reload_errors.clear();
                    return;
                }
                state.reload_errors = problems;
                for (const auto& d : problems) log::error("rules: " + d.to_string());
                if (!refused) {
                    log::warning("rules: " + url + " cannot be reached; the rules loaded at " +
                                 format_datetime(state.rules_loaded_at) + " stay in force");
                    return;
                }
                notify_config(false, problems, "The rules published at " + url + " were refused (" +
                                                   std::to_string(problems.size()) +
                                                   (problems.size() == 1 ? " error" : " errors") +
                                                   "); the previous rules stay in force.");
            });
        rules_refresher->start(first_check);
    }

    void stop() {
        service::notify("STOPPING=1");
        if (rules_refresher) rules_refresher->stop();
        for (auto& w : mail_watchers) w->stop();
        for (auto& w : draft_writers) w->stop();
        for (auto& w : calendar_watchers) w->stop();
        meeting_timer.cancel();
        nudge_timer.stop();
        reviewer.stop();
        housekeeping_timer.cancel();
        signals.cancel();
        if (server) server->stop();
        if (submission) submission->stop();
        io.stop();
    }

    void install(std::shared_ptr<const Rules> rules) {
        state.directory = std::make_shared<const AccountDirectory>(std::move(rules));
        state.rules_loaded_at = state.clock->now();
        state.reload_errors.clear();
    }

    void notify_config(bool ok, const Diagnostics& errors, const std::string& text) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& d : errors) list.push_back(d.to_string());
        try {
            state.notify("config", "", text, {{"ok", ok}, {"errors", list}});
        } catch (const StoreError& e) {
            log::error(e.what());
        }
    }

    // Read and checked on the pool (rules from a URL are fetched), applied here.
    void reload() {
        log::info("SIGHUP: reloading " + state.settings_path);
        const std::string path = state.settings_path;
        pool.submit<LoadedConfig>(
            reload_owner, [path]() { return load_config(path, ConfigPurpose::reload); },
            [this](LoadedConfig next) {
                apply_reload(std::move(next));
                service::notify("READY=1");  // also after a refused reload: the old config runs on
            });
    }

    void apply_reload(LoadedConfig next) {
        for (const auto& w : next.warnings) log::warning(w);
        if (!next.ok()) {
            state.reload_errors = next.diagnostics;
            log::error("reload refused; keeping the rules loaded at " + format_datetime(state.rules_loaded_at) +
                       " (" + describe_directory(state.directory->rules()) + "). Fix these and send SIGHUP again:");
            for (const auto& d : next.diagnostics) log::error("  " + d.to_string());
            notify_config(false, next.diagnostics,
                          "The new rules were refused (" + std::to_string(next.diagnostics.size()) +
                              (next.diagnostics.size() == 1 ? " error" : " errors") +
                              "); the previous rules stay in force.");
            return;
        }
        const auto previous = state.settings;  // kept alive: compared after the switch
        const auto& old = *previous;
        if (next.settings->state_dir != old.state_dir || next.settings->api_port != old.api_port ||
            next.settings->token_file != old.token_file)
            log::warning("changes to state_dir, api.port and api.token_file take effect after a restart");
        state.settings = next.settings;
        log::set_level(state.settings->log_level);
        install(next.rules);
        if (watchers_differ(old, *state.settings)) {
            log::info("mailbox settings changed; restarting the mail watchers");
            start_watchers();
        }
        if (old.calendars != state.settings->calendars) {
            log::info("calendar settings changed; restarting the calendar watchers");
            start_calendars();
        }
        meetings_changed();  // the directory may have changed who is a customer
        reviewer.review();   // owners, losses and stages may have changed
        // The reload just asked the URL: the next look is a full interval away.
        start_rules_refresher(std::chrono::duration_cast<std::chrono::milliseconds>(state.settings->rules_refresh));
        log::info("rules loaded: " + describe_directory(state.directory->rules()));
        notify_config(true, {}, "Rules reloaded: " + describe_directory(state.directory->rules()) + ".");
    }

    void start_api() {
        const auto& s = *state.settings;
        auto token = api::load_or_create_token(s.token_file);
        if (token.source != api::LoadedToken::Source::existing)
            log::info(std::string("API token file ") + s.token_file + ": " + api::to_string(token.source));
        api::ApiServerOptions options;
        options.port = static_cast<std::uint16_t>(s.api_port);
        options.token = token.token;
        options.server_version = kVersion;
        options.log = [](const std::string& line) { log::info("api: " + line); };
        bridge = std::make_unique<ApiBridge>(state);
        try {
            server = std::make_unique<api::ApiServer>(io, options, *bridge);
        } catch (const std::system_error& e) {
            throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(s.api_port) + " (" +
                                     e.code().message() + "); is another rapportd running? "
                                     "Stop it or set api.port in " + state.settings_path);
        }
        state.broadcast = [this](const StoredNotification& n) {
            if (server) server->broadcast(api::Notification{static_cast<std::uint64_t>(n.id), n.to_json()});
        };
        std::string where;
        for (const auto& e : server->endpoints()) where += (where.empty() ? "" : ", ") + e;
        log::info("API listening on " + where);
    }
};

Daemon::Daemon(std::string settings_path, LoadedConfig initial) : impl_(std::make_unique<Impl>()) {
    auto& st = impl_->state;
    st.settings_path = std::move(settings_path);
    st.settings = initial.settings;
    st.clock = std::make_unique<SystemClock>();
    // The lock first: a second rapportd must not even migrate the database.
    impl_->state_lock = std::make_unique<StateDirLock>(initial.settings->state_dir);
    st.store = std::make_shared<StateStore>(initial.settings->state_dir);
    impl_->install(initial.rules);
    st.store_writer = &impl_->store_writer;
    for (auto& a : st.store->read([](ReadTx& tx) { return tx.lost_accounts(); })) st.lost_accounts.insert(std::move(a));
    for (const auto& c : st.settings->calendars) {
        SourceStatus s;
        s.id = c.id;
        st.calendars.push_back(s);
    }
}

Daemon::~Daemon() = default;

int Daemon::run() {
    auto& d = *impl_;
    log::info("state database " + d.state.store->path() + " (schema " + std::to_string(StateStore::kSchemaVersion) + ")");
    log::info("rules loaded: " + describe_directory(d.state.directory->rules()));
    d.start_api();
    d.submission = std::make_unique<SubmissionListeners>(d.io, d.pool, d.state);
    d.submission->start();
    d.wait_for_signal();
    d.state.nudges_changed = [&d]() { d.nudge_timer.rearm(); };
    d.state.drafts_added = [&d]() {
        for (auto& w : d.draft_writers) w->kick();
    };
    d.state.mail_recorded = [&d]() { d.reviewer.soon(); };
    d.nudge_timer.rearm();
    d.housekeeping();
    d.start_watchers();
    d.start_calendars();
    d.reviewer.review();
    // Started from the last good copy (or a fetch just now): ask the URL for news at once.
    d.start_rules_refresher(std::chrono::milliseconds(0));
    log::info("rapportd running (pid " + std::to_string(::getpid()) + ")");
    service::notify("READY=1");
    d.io.run();
    // Shutting down: a second SIGTERM (systemd's, a test harness's) must not kill us half-way
    // through closing the store. Block, hand the signals back from Asio, ignore, unblock.
    sigset_t block;
    sigemptyset(&block);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&block, sig);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);
    boost::system::error_code ignored;
    d.signals.clear(ignored);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) std::signal(sig, SIG_IGN);
    pthread_sigmask(SIG_UNBLOCK, &block, nullptr);
    log::info("rapportd stopped");
    return 0;
}

}  // namespace rapport

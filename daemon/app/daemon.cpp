#include "app/daemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <sstream>

#include "app/log.hpp"
#include "rapport/directory.hpp"
#include "store/state_store.hpp"

namespace rapport {

TimePoint SystemClock::now() const {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
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
    std::string settings_path;
    std::shared_ptr<const Settings> settings;
    std::shared_ptr<const AccountDirectory> directory;
    std::unique_ptr<StateStore> store;
    SystemClock clock;
    TimePoint rules_loaded_at;
    Diagnostics reload_errors;
    boost::asio::io_context io{1};
    boost::asio::signal_set signals{io, SIGHUP, SIGTERM, SIGINT};

    void wait_for_signal() {
        signals.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                reload();
                wait_for_signal();
            } else {
                log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                          ", stopping");
                io.stop();
            }
        });
    }

    void install(std::shared_ptr<const Rules> rules) {
        directory = std::make_shared<const AccountDirectory>(std::move(rules));
        rules_loaded_at = clock.now();
        reload_errors.clear();
    }

    void notify_config(bool ok, const Diagnostics& errors, const std::string& text) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& d : errors) list.push_back(d.to_string());
        try {
            store->add_notification("config", clock.now(), "", text, {{"ok", ok}, {"errors", list}});
        } catch (const StoreError& e) {
            log::error(e.what());
        }
    }

    void reload() {
        log::info("SIGHUP: reloading " + settings_path);
        LoadedConfig next = load_config(settings_path);
        for (const auto& w : next.warnings) log::warning(w);
        if (!next.ok()) {
            reload_errors = next.diagnostics;
            log::error("reload refused; keeping the rules loaded at " + format_datetime(rules_loaded_at) +
                       " (" + describe_directory(directory->rules()) + "). Fix these and send SIGHUP again:");
            for (const auto& d : next.diagnostics) log::error("  " + d.to_string());
            notify_config(false, next.diagnostics,
                          "The new rules were refused (" + std::to_string(next.diagnostics.size()) +
                              " errors); the previous rules stay in force.");
            return;
        }
        if (next.settings->state_dir != settings->state_dir || next.settings->api_port != settings->api_port)
            log::warning("state_dir and api.port changes take effect after a restart");
        settings = next.settings;
        log::set_level(settings->log_level);
        install(next.rules);
        log::info("rules loaded: " + describe_directory(directory->rules()));
        notify_config(true, {}, "Rules reloaded: " + describe_directory(directory->rules()) + ".");
    }
};

Daemon::Daemon(std::string settings_path, LoadedConfig initial) : impl_(std::make_unique<Impl>()) {
    impl_->settings_path = std::move(settings_path);
    impl_->settings = initial.settings;
    impl_->store = std::make_unique<StateStore>(initial.settings->state_dir);
    impl_->install(initial.rules);
}

Daemon::~Daemon() = default;

int Daemon::run() {
    auto& d = *impl_;
    log::info("state database " + d.store->path() + " (schema " + std::to_string(d.store->schema_version()) + ")");
    log::info("rules loaded: " + describe_directory(d.directory->rules()));
    d.wait_for_signal();
    log::info("rapportd running (pid " + std::to_string(::getpid()) + ")");
    d.io.run();
    log::info("rapportd stopped");
    return 0;
}

}  // namespace rapport

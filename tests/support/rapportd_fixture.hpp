#pragma once
// A real rapportd for integration tests: settings and rules in a TempDir, the daemon started
// as a child process (stopped when the fixture goes), and an API client that says hello and
// collects notifications — the way a plugin sees the daemon.
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "test_process.hpp"
#include "ws_client.hpp"

namespace rapport::test {

class RapportdFixture {
public:
    using json = nlohmann::json;

    // settings: everything but rules/state_dir/api, which the fixture fills in.
    // prepare, when given, runs before the daemon starts (e.g. to write a calendar file).
    RapportdFixture(const std::string& rules, json settings, const std::function<void(const TempDir&)>& prepare = {})
        : port_(free_port()) {
        write_file(dir_ / "rules.json", rules);
        settings["rules"] = "rules.json";
        settings["state_dir"] = "state";
        settings["api"] = {{"port", port_}, {"token_file", "state/token"}};
        if (!settings.contains("log_level")) settings["log_level"] = "debug";
        if (!settings.contains("user")) settings["user"] = {{"name", "Bob Rep"}, {"address", "bob@vendor.example"}};
        write_file(dir_ / "settings.json", settings.dump(2));
        chmod((dir_ / "settings.json").c_str(), 0600);
        if (prepare) prepare(dir_);
        start();
    }

    const TempDir& dir() const { return dir_; }

    void start() {
        // A new log file per start: the old one still says "rapportd running".
        child_ = std::make_unique<Child>(std::vector<std::string>{program("rapportd"), "--config", dir_ / "settings.json"},
                                         dir_ / ("rapportd-" + std::to_string(++starts_) + ".log"));
        // The API port, not a log line: the log level may hide "rapportd running".
        const auto started = std::chrono::steady_clock::now();
        const bool listening = wait_for_port(port_, std::chrono::seconds(20));
        if (!listening || !child_->running()) {
            // Say which of the two it was: a daemon that exited (and how) or one that never
            // listened in time, with how long it was given.
            const bool alive = child_->running();
            const int status = alive ? -1 : child_->wait(std::chrono::milliseconds(0));
            const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::string how = alive ? "still running, not listening on port " + std::to_string(port_)
                                    : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                          : "exited with status " + std::to_string(WEXITSTATUS(status));
            throw std::runtime_error("rapportd did not start (" + how + ", port " + (listening ? "open" : "closed") +
                                     ", after " + std::to_string(waited) + " s):\n" + child_->log());
        }
        client_ = std::make_unique<api::WsClient>();
        client_->connect(static_cast<std::uint16_t>(port_), std::chrono::seconds(5));
        call("hello", {{"token", token()}, {"client", "test"}, {"version", "1"}});
    }

    void restart() {
        client_.reset();
        notifications_.clear();
        if (child_->stop() != 0) throw std::runtime_error("rapportd did not stop cleanly:\n" + child_->log());
        start();
    }

    // Kills rapportd with SIGKILL, as a crash or power cut would, and reaps it; start() runs
    // it again on the same settings and state.
    void kill_hard() {
        client_.reset();
        notifications_.clear();
        const pid_t pid = child_->pid();
        if (pid <= 0) return;  // already gone (never kill(-1, …))
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        if (child_->wait(std::chrono::seconds(10)) == -1) throw std::runtime_error("rapportd survived SIGKILL");
    }

    int port() const { return port_; }  // the API port
    void signal(int sig) { child_->signal(sig); }
    pid_t pid() const { return child_->pid(); }
    bool running() { return child_->running(); }
    std::string log() { return child_->log(); }
    bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) { return child_->wait_for_log(text, timeout); }

    std::string token() {
        auto t = read_file(dir_ / "state/token");
        return t.substr(0, t.find('\n'));
    }

    // The result of a method call; throws with the error otherwise.
    json call(const std::string& method, const json& params = json::object()) {
        const int id = ++next_id_;
        client_->send_text(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump(),
                           std::chrono::seconds(5));
        while (true) {
            json frame = json::parse(client_->receive_text(std::chrono::seconds(10)));
            if (frame.contains("id") && frame["id"] == id) {
                if (!frame.contains("result")) throw std::runtime_error(method + " failed: " + frame.dump());
                return frame["result"];
            }
            if (frame.value("method", "") == "notify") notifications_.push_back(frame["params"]);
        }
    }

    // Collects notifications until one satisfies pred or the time is up.
    std::optional<json> wait_notification(const std::function<bool(const json&)>& pred,
                                          std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t checked = 0;
        while (true) {
            for (; checked < notifications_.size(); ++checked)
                if (pred(notifications_[checked])) return notifications_[checked];
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            try {
                json frame = json::parse(client_->receive_text(left));
                if (frame.value("method", "") == "notify") notifications_.push_back(frame["params"]);
            } catch (const api::WsError& e) {
                if (e.kind() == api::WsError::Kind::timed_out) return std::nullopt;
                throw;
            }
        }
    }

    // Polls `status` until pred holds; returns the last status (check pred yourself).
    // poll: a benchmark that times the moment pred first holds asks more often.
    json wait_status(const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout,
                     std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        json s = call("status");
        while (!pred(s) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(poll);
            s = call("status");
        }
        return s;
    }

    std::vector<json> notifications_;

private:
    TempDir dir_;
    int port_;
    std::unique_ptr<Child> child_;
    std::unique_ptr<api::WsClient> client_;
    int next_id_ = 0;
    int starts_ = 0;
};

}  // namespace rapport::test

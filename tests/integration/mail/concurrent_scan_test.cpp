// rapportd's mail pipeline under concurrency and crashes, against a real Dovecot and a real
// rapportd, observed only through IMAP (APPEND) and the WebSocket API (status, notifications,
// nudges) — the evidence that issue 8 asks for:
//   1. six folders in their first scan at once, while new customer mail is APPENDed to three of
//      them and three API clients write: every scan completes, every new message is announced
//      exactly once, no history is, ids are unique and increasing, no API call is refused as
//      "database unavailable", and every write that returned success survives a restart;
//   2. kill -9 in the middle of a first scan: after the restart the scan completes, history is
//      not announced, and mail that arrived while the daemon was down is announced once;
//   3. one folder: mail that arrives while the daemon runs EXAMINE or FETCH (not IDLE) is
//      announced within 2 s, not at the next poll.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"

using namespace rapport::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Acme's contact writes the customer mail; three more accounts are the API clients' own, so
// that each client's writes have one deterministic outcome.
const char* kRules = R"({
  "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
  "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
  "accounts": [
    {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
     "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]},
    {"id": "globex", "name": "Globex", "domains": ["globex.example"], "owner": "bob"},
    {"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob"},
    {"id": "umbrella", "name": "Umbrella", "domains": ["umbrella.example"], "owner": "bob"}
  ],
  "rules": {"loss": {"nudges": ["P14D", "P45D"]}}
})";

json mailbox_settings(DovecotFixture& dovecot, const std::vector<std::string>& watch, const std::string& poll) {
    return {{"user", {{"name", "Mia Marketing"}, {"address", "mia@vendor.example"}}},
            {"mailboxes", {{{"id", "work"}, {"idle", true}, {"poll_interval", poll},
                            {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                      {"username", dovecot.user()}, {"password", dovecot.password()}}},
                            {"folders", {{"watch", watch}, {"sent", "Sent"}, {"drafts", "Drafts"}}}}}}};
}

// A run-unique suffix for Message-IDs.
std::string nonce() {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

// New customer mail: from Acme's contact to the user, so it is customer mail (account acme).
// The fixture's seeded history (sample_message) is From jane@acme.example too, Message-ID
// <msgN@acme.example>.
std::string customer_message(const std::string& message_id, const std::string& subject) {
    char date[64];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return "From: Jane Doe <jane@acme.example>\r\nTo: Mia Marketing <mia@vendor.example>\r\nDate: " +
           std::string(date) + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + message_id +
           ">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from Acme.\r\n";
}

bool is_history_id(const std::string& message_id) {
    return message_id.rfind("msg", 0) == 0 && message_id.size() > 16 &&
           message_id.compare(message_id.size() - 13, 13, "@acme.example") == 0;
}

// An IMAP client that logs in and APPENDs (LITERAL+), checking the tagged answer: what another
// mail client or an MTA with IMAP delivery does. Blocking; one per thread.
class ImapAppender {
public:
    ImapAppender(int port, const std::string& user, const std::string& password) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error("IMAP connect failed");
        }
        const std::string greeting = read_line();
        if (greeting.rfind("* OK", 0) != 0) {
            ::close(fd_);
            throw std::runtime_error("IMAP greeting: " + greeting);
        }
        command("LOGIN \"" + user + "\" \"" + password + "\"");
    }
    ~ImapAppender() {
        try {
            send_all("z LOGOUT\r\n");
        } catch (...) {
        }
        ::close(fd_);
    }
    ImapAppender(const ImapAppender&) = delete;
    ImapAppender& operator=(const ImapAppender&) = delete;

    // Returns when the server said OK (the message is in the folder); throws otherwise.
    void append(const std::string& folder, const std::string& message) {
        command("APPEND \"" + folder + "\" {" + std::to_string(message.size()) + "+}\r\n" + message);
    }

private:
    void command(const std::string& text) {
        const std::string tag = "a" + std::to_string(++tag_);
        send_all(tag + " " + text + "\r\n");
        while (true) {
            const std::string line = read_line();
            if (line.rfind(tag + " ", 0) != 0) continue;  // untagged data
            if (line.compare(tag.size() + 1, 2, "OK") != 0) throw std::runtime_error("IMAP: " + line);
            return;
        }
    }
    void send_all(const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("IMAP send failed");
            sent += static_cast<std::size_t>(n);
        }
    }
    std::string read_line() {
        while (true) {
            const auto at = buffer_.find("\r\n");
            if (at != std::string::npos) {
                std::string line = buffer_.substr(0, at);
                buffer_.erase(0, at + 2);
                return line;
            }
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) throw std::runtime_error("IMAP recv failed or timed out");
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }
    int fd_ = -1;
    int tag_ = 0;
    std::string buffer_;
};

// A JSON-RPC client of the API (one WebSocket, one thread), as a plugin is.
class ApiConnection {
public:
    ApiConnection(int port, const std::string& token) {
        ws_.connect(static_cast<std::uint16_t>(port), 5s);
        const json hello = call("hello", {{"token", token}, {"client", "concurrent_scan_test"}, {"version", "1"}});
        if (!hello.contains("result")) throw std::runtime_error("hello refused: " + hello.dump());
    }
    // The whole response frame (with "result" or "error"); notifications in between are kept.
    // A timeout throws api::WsError and leaves the connection dropped.
    json call(const std::string& method, const json& params, std::chrono::milliseconds timeout = 10s) {
        const int id = ++next_id_;
        ws_.send_text(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump(), timeout);
        const auto deadline = Clock::now() + timeout;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) throw std::runtime_error(method + ": no answer");
            json frame = json::parse(ws_.receive_text(left));
            if (frame.contains("id") && frame["id"] == id) return frame;
            if (frame.value("method", "") == "notify") early_.push_back(frame["params"]);
        }
    }
    rapport::api::WsClient& ws() { return ws_; }
    std::vector<json> early_;  // notifications that arrived while waiting for an answer

private:
    rapport::api::WsClient ws_;
    int next_id_ = 0;
};

// Every stored notification: subscribe with after=0 and read until the replay is complete (its
// announced size, or 1.5 s without a frame).
std::vector<json> replay_all(int port, const std::string& token) {
    ApiConnection c(port, token);
    const json r = c.call("subscribe", {{"after", 0}});
    if (!r.contains("result")) throw std::runtime_error("subscribe failed: " + r.dump());
    std::vector<json> out = c.early_;
    const std::size_t expected = r["result"].value("replayed", static_cast<std::size_t>(-1));
    if (r["result"].value("truncated", false)) throw std::runtime_error("replay truncated (more than 5,000 notifications)");
    while (out.size() < expected) {
        try {
            json frame = json::parse(c.ws().receive_text(1500ms));
            if (frame.value("method", "") == "notify") out.push_back(frame["params"]);
        } catch (const rapport::api::WsError& e) {
            if (e.kind() == rapport::api::WsError::Kind::timed_out) break;
            throw;
        }
    }
    return out;
}

// A subscribed client on its own thread that timestamps each notification on arrival. The
// client library drops a connection whose receive times out, so the thread wakes every second
// and resubscribes after the last id it saw; across a daemon restart it reconnects the same way.
class Subscriber {
public:
    struct Received {
        json n;
        Clock::time_point at;
        int session;
    };

    Subscriber(int port, std::string token) : port_(port), token_(std::move(token)) {
        thread_ = std::thread([this] { run(); });
    }
    ~Subscriber() { stop(); }
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::vector<Received> received() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return received_;
    }
    std::vector<int64_t> ids() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<int64_t> out;
        for (const auto& r : received_) out.push_back(r.n.value("id", int64_t{0}));
        return out;
    }
    std::vector<std::string> errors() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return errors_;
    }
    // Waits until pred holds for what was received so far.
    bool wait_until(const std::function<bool(const std::vector<Received>&)>& pred, std::chrono::milliseconds timeout) const {
        const auto deadline = Clock::now() + timeout;
        while (true) {
            if (pred(received())) return true;
            if (Clock::now() >= deadline) return false;
            std::this_thread::sleep_for(20ms);
        }
    }

private:
    void run() {
        int session = 0;
        while (!stop_) {
            try {
                ApiConnection c(port_, token_);
                ++session;
                const json r = c.call("subscribe", {{"after", last_id_}});
                for (const auto& n : c.early_) record(n, session);
                if (!r.contains("result")) {
                    note("subscribe refused: " + r.dump());
                    std::this_thread::sleep_for(100ms);
                    continue;
                }
                while (!stop_) {
                    json frame = json::parse(c.ws().receive_text(1s));
                    if (frame.value("method", "") == "notify") record(frame["params"], session);
                }
            } catch (const rapport::api::WsError& e) {
                if (e.kind() != rapport::api::WsError::Kind::timed_out) {
                    note(e.what());
                    std::this_thread::sleep_for(50ms);
                }
            } catch (const std::exception& e) {
                note(e.what());
                std::this_thread::sleep_for(50ms);
            }
        }
    }
    void record(const json& n, int session) {
        std::lock_guard<std::mutex> lock(mutex_);
        received_.push_back({n, Clock::now(), session});
        last_id_ = std::max(last_id_, n.value("id", int64_t{0}));
    }
    void note(const std::string& e) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (errors_.size() < 50) errors_.push_back(e);
    }

    int port_;
    std::string token_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<Received> received_;
    std::vector<std::string> errors_;
    int64_t last_id_ = 0;  // only the thread touches it
    std::thread thread_;
};

// Threads that are told to stop and joined when the scope ends, also when a test fails.
class Workers {
public:
    ~Workers() { stop(); }
    void add(std::function<void()> f) { threads_.emplace_back(std::move(f)); }
    void stop() {
        stop_ = true;
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }
    const std::atomic<bool>& stopping() const { return stop_; }

private:
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

// What one API client did, and what the daemon must therefore hold afterwards.
struct WriterReport {
    struct Expect {
        std::string state;  // pending | snoozed | cancelled | replaced (cancelled or removed)
        std::string due;    // for snoozed: the due time the snooze answered with
        bool certain = true;
    };
    std::string account;
    int calls = 0, ok = 0;
    std::map<std::string, int> errors;  // "method code" -> count
    std::vector<std::string> samples;   // a few error frames
    std::map<int64_t, Expect> nudges;   // every nudge id deal.lost returned
    std::vector<int64_t> acked;         // notification ids acked with success
    std::string last_op;                // lost | reopen: the last successful one
    bool account_certain = true;        // no call on this account failed
    int lost = 0, reopened = 0, snoozed = 0;

    int count(int code) const {  // errors with this JSON-RPC code
        const std::string suffix = " " + std::to_string(code);
        int n = 0;
        for (const auto& [k, v] : errors)
            if (k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0) n += v;
        return n;
    }
};

// One API client: deal.lost, nudges.snooze on a nudge it returned, notifications.ack of a
// notification the live subscriber got, and (every other round) deal.reopen; until told to stop.
void api_writer(int port, const std::string& token, const std::string& account, const Subscriber& live,
                const std::atomic<bool>& stop, WriterReport& rep, unsigned seed) {
    rep.account = account;
    std::mt19937 rng(seed);
    std::unique_ptr<ApiConnection> c;
    auto call = [&](const std::string& method, const json& params) -> std::optional<json> {
        ++rep.calls;
        try {
            if (!c) c = std::make_unique<ApiConnection>(port, token);
            const json f = c->call(method, params);
            if (f.contains("result")) {
                ++rep.ok;
                return f["result"];
            }
            const int code = f.contains("error") ? f["error"].value("code", 0) : 0;
            ++rep.errors[method + " " + std::to_string(code)];
            if (rep.samples.size() < 5) rep.samples.push_back(method + ": " + f.dump());
        } catch (const std::exception& e) {
            ++rep.errors[method + " transport"];
            if (rep.samples.size() < 5) rep.samples.push_back(method + ": " + e.what());
            c.reset();
        }
        return std::nullopt;
    };
    auto open = [](const WriterReport::Expect& e) { return e.state == "pending" || e.state == "snoozed"; };
    for (int round = 1; !stop; ++round) {
        auto lost = call("deal.lost", {{"account", account}, {"competitor", "Rival " + std::to_string(round)}});
        if (lost) {
            ++rep.lost;
            for (auto& [id, e] : rep.nudges)
                if (open(e)) e.state = "replaced";
            for (const auto& n : (*lost)["nudges"]) rep.nudges[n["id"].get<int64_t>()] = {n.value("state", ""), n.value("due", "")};
            rep.last_op = "lost";
        } else {
            rep.account_certain = false;
            for (auto& [id, e] : rep.nudges)
                if (open(e)) e.certain = false;
        }
        if (lost && !(*lost)["nudges"].empty()) {
            const int64_t id = (*lost)["nudges"][0]["id"].get<int64_t>();
            const json params = round % 2 ? json{{"id", id}, {"for", "P3D"}}
                                          : json{{"id", id}, {"for", "PT" + std::to_string(3600 + round) + "S"}};
            if (auto s = call("nudges.snooze", params)) {
                ++rep.snoozed;
                rep.nudges[id].state = s->value("state", "");
                rep.nudges[id].due = s->value("due", "");
                if (rep.nudges[id].state != "snoozed" && rep.samples.size() < 5)
                    rep.samples.push_back("nudges.snooze answered " + s->dump());
            } else {
                rep.account_certain = false;
                rep.nudges[id].certain = false;
            }
        }
        const auto ids = live.ids();
        if (!ids.empty()) {
            const int64_t id = ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng)];
            if (call("notifications.ack", {{"id", id}})) rep.acked.push_back(id);
        }
        if (round % 2 == 0 || std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
            if (call("deal.reopen", {{"account", account}})) {
                ++rep.reopened;
                for (auto& [id, e] : rep.nudges)
                    if (open(e)) e.state = "cancelled";
                rep.last_op = "reopen";
            } else {
                rep.account_certain = false;
                for (auto& [id, e] : rep.nudges)
                    if (open(e)) e.certain = false;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 20)(rng)));
    }
}

// The differences between what a writer was told and what nudges.list {"state": "all"} holds.
std::vector<std::string> nudge_problems(const json& all, const WriterReport& rep) {
    std::map<int64_t, json> by_id;
    for (const auto& n : all["nudges"]) by_id[n["id"].get<int64_t>()] = n;
    std::vector<std::string> out;
    for (const auto& [id, e] : rep.nudges) {
        if (!e.certain) continue;
        const auto it = by_id.find(id);
        const std::string what = rep.account + " nudge " + std::to_string(id) + ": ";
        if (e.state == "replaced") {
            if (it != by_id.end() && it->second["state"] != "cancelled")
                out.push_back(what + "replaced by a later deal.lost, but it is " + it->second.dump());
            continue;
        }
        if (it == by_id.end()) {
            out.push_back(what + "deal.lost returned it, but it is gone (expected " + e.state + ")");
            continue;
        }
        if (it->second["account"] != rep.account) out.push_back(what + "now belongs to " + it->second.dump());
        if (it->second["state"] != e.state)
            out.push_back(what + "expected " + e.state + (e.due.empty() ? "" : " until " + e.due) + ", found " + it->second.dump());
        else if (e.state == "snoozed" && it->second["due"] != e.due)
            out.push_back(what + "snoozed until " + e.due + ", found " + it->second.dump());
    }
    if (rep.account_certain) {  // nothing open that the writer does not know of
        for (const auto& [id, n] : by_id) {
            if (n["account"] != rep.account) continue;
            const std::string st = n.value("state", "");
            if ((st == "pending" || st == "snoozed" || st == "due") && !rep.nudges.count(id))
                out.push_back(rep.account + ": an open nudge nobody created: " + n.dump());
        }
    }
    if (rep.account_certain && rep.last_op == "reopen")
        for (const auto& [id, n] : by_id)
            if (n["account"] == rep.account && (n["state"] == "pending" || n["state"] == "snoozed"))
                out.push_back(rep.account + " was reopened last, yet " + n.dump() + " is open");
    return out;
}

std::string writer_summary(const std::vector<WriterReport>& reports) {
    std::ostringstream s;
    for (const auto& r : reports) {
        s << r.account << ": " << r.calls << " calls, " << r.ok << " ok (lost " << r.lost << ", reopen " << r.reopened
          << ", snooze " << r.snoozed << ", ack " << r.acked.size() << "), last " << r.last_op;
        for (const auto& [k, v] : r.errors) s << "; " << k << " x" << v;
        for (const auto& x : r.samples) s << "\n    " << x;
        s << "\n";
    }
    return s.str();
}

// Checks a notification sequence: the customer mail it holds per Message-ID, history
// announced, sync errors, ids not strictly increasing.
struct StreamFacts {
    std::map<std::string, int> mail;  // message_id -> customer_mail count
    std::vector<std::string> unexpected_mail;
    std::vector<std::string> sync_errors;
    std::vector<std::string> order;
    int64_t max_id = 0;
    std::size_t size = 0;
};

StreamFacts facts(const std::vector<json>& ns, const std::set<std::string>& appended) {
    StreamFacts f;
    f.size = ns.size();
    int64_t previous = 0;
    for (const auto& n : ns) {
        const int64_t id = n.value("id", int64_t{0});
        if (id <= previous) f.order.push_back("id " + std::to_string(id) + " after " + std::to_string(previous));
        previous = std::max(previous, id);
        f.max_id = std::max(f.max_id, id);
        const std::string kind = n.value("kind", "");
        if (kind == "sync_error") f.sync_errors.push_back(n.dump());
        if (kind != "customer_mail") continue;
        const std::string mid = n.value("message_id", "");
        ++f.mail[mid];
        if (!appended.count(mid))
            f.unexpected_mail.push_back((is_history_id(mid) ? "history " : "unknown ") + n.dump());
    }
    return f;
}

std::vector<std::string> delivery_problems(const StreamFacts& f, const std::set<std::string>& appended) {
    std::vector<std::string> out;
    for (const auto& id : appended) {
        const auto it = f.mail.find(id);
        const int n = it == f.mail.end() ? 0 : it->second;
        if (n != 1) out.push_back(id + " announced " + std::to_string(n) + " times");
    }
    return out;
}

std::string join(const std::vector<std::string>& v, std::size_t max = 40) {
    std::ostringstream s;
    for (std::size_t i = 0; i < v.size() && i < max; ++i) s << "\n  " << v[i];
    if (v.size() > max) s << "\n  … and " << (v.size() - max) << " more";
    return s.str();
}

std::vector<json> params_of(const std::vector<Subscriber::Received>& r) {
    std::vector<json> out;
    for (const auto& x : r) out.push_back(x.n);
    return out;
}

// The same id must name the same notification wherever it is seen.
std::vector<std::string> identity_problems(const std::vector<json>& seen, const std::vector<json>& stored,
                                           const std::string& where) {
    std::map<int64_t, json> by_id;
    for (const auto& n : stored) by_id[n.value("id", int64_t{0})] = n;
    std::vector<std::string> out;
    for (const auto& n : seen) {
        const auto it = by_id.find(n.value("id", int64_t{0}));
        if (it == by_id.end()) {
            out.push_back("id " + std::to_string(n.value("id", int64_t{0})) + " is not in " + where + ": " + n.dump());
            continue;
        }
        for (const char* k : {"kind", "text", "message_id"})
            if (n.value(k, json()) != it->second.value(k, json())) {
                out.push_back("id " + std::to_string(n.value("id", int64_t{0})) + " was " + n.dump() + " but " + where +
                              " has " + it->second.dump());
                break;
            }
    }
    return out;
}

std::string tail(const std::string& log, std::size_t n = 6000) { return log.size() > n ? "…" + log.substr(log.size() - n) : log; }

// Lets Dovecot build its indexes before rapportd starts (a real server has them): the first
// EXAMINE of a fresh 20,000-message maildir costs seconds that are Dovecot's, not the daemon's.
void index_folders(DovecotFixture& dovecot, const std::vector<std::pair<std::string, std::size_t>>& folders) {
    for (const auto& f : folders) dovecot.doveadm({"mailbox", "status", "-u", dovecot.user(), "messages uidnext", f.first});
}

const json& mailbox(const json& status) { return status["mailboxes"][0]; }

bool caught_up(const json& status, int64_t total) {
    const auto& m = mailbox(status);
    return m.value("messages_seen", int64_t{-1}) == total && !m.contains("scan") && m.value("state", "") == "idle";
}

}  // namespace

TEST_CASE("six folders scan at once while mail arrives and API clients write", "[mail][concurrency]") {
    // The three large folders get new mail. Sizes chosen so that a `scan.total` of at least
    // 4,200 can only mean that all three large folders have been EXAMINEd and are scanning:
    // mail appended after that is new mail, never history.
    const std::vector<std::pair<std::string, std::size_t>> seed = {
        {"INBOX", 1500}, {"Support", 1400}, {"Projects", 1300}, {"Archive", 500}, {"Later", 400}, {"Receipts", 300}};
    const std::vector<std::string> targets = {"INBOX", "Support", "Projects"};
    constexpr int64_t kTargetsTotal = 4200;
    constexpr int kPerFolder = 10;
    int64_t seeded = 0;
    std::vector<std::string> watch;
    for (const auto& [f, n] : seed) {
        seeded += static_cast<int64_t>(n);
        watch.push_back(f);
    }
    const int64_t expected_seen = seeded + kPerFolder * static_cast<int64_t>(targets.size());
    const std::string run = nonce();

    DovecotFixture::Options o;
    o.seed = seed;
    DovecotFixture dovecot(o);
    index_folders(dovecot, seed);
    const auto t0 = Clock::now();
    RapportdFixture d(kRules, mailbox_settings(dovecot, watch, "PT30S"));
    const std::string token = d.token();
    Subscriber live(d.port(), token);

    std::vector<WriterReport> reports(3);
    Workers writers;
    const std::vector<std::string> writer_accounts = {"globex", "initech", "umbrella"};
    for (std::size_t k = 0; k < writer_accounts.size(); ++k)
        writers.add([&, k] {
            api_writer(d.port(), token, writer_accounts[k], live, writers.stopping(), reports[k], 1000u + static_cast<unsigned>(k));
        });

    // Wait until the large folders are in their first scan.
    bool overlapped = false;
    json status;
    while (seconds_since(t0) < 30) {
        status = d.call("status");
        const auto& m = mailbox(status);
        if (m.contains("scan") && m["scan"].value("total", int64_t{0}) >= kTargetsTotal) {
            overlapped = true;
            break;
        }
        if (!m.contains("scan") && m.value("messages_seen", int64_t{0}) >= seeded) break;  // all done already
        std::this_thread::sleep_for(5ms);
    }
    INFO("status: " << status.dump());
    REQUIRE((overlapped || (!mailbox(status).contains("scan") && mailbox(status).value("messages_seen", int64_t{0}) >= seeded)));
    const double gate_at = seconds_since(t0);
    if (!overlapped) WARN("the first scans ended before the appends could overlap them");

    // New customer mail, 10 per large folder, one IMAP client each, spread over ~1 s.
    std::set<std::string> appended;
    std::vector<std::vector<std::string>> append_errors(targets.size());
    {
        std::vector<std::vector<std::string>> ids(targets.size());
        for (std::size_t t = 0; t < targets.size(); ++t)
            for (int i = 0; i < kPerFolder; ++i) {
                ids[t].push_back("new-" + targets[t] + "-" + std::to_string(i) + "." + run + "@acme.example");
                appended.insert(ids[t].back());
            }
        Workers appenders;
        for (std::size_t t = 0; t < targets.size(); ++t)
            appenders.add([&, t] {
                try {
                    ImapAppender imap(dovecot.port(), dovecot.user(), dovecot.password());
                    for (const auto& id : ids[t]) {
                        imap.append(targets[t], customer_message(id, "New in " + targets[t]));
                        std::this_thread::sleep_for(std::chrono::milliseconds(60 + 15 * static_cast<int>(t)));
                    }
                } catch (const std::exception& e) {
                    append_errors[t].push_back(e.what());
                }
            });
    }
    const double appended_at = seconds_since(t0);
    for (const auto& e : append_errors) REQUIRE(e.empty());

    // Every folder's scan completes: all messages recorded, no scan, every folder in IDLE.
    constexpr double kScanBound = 30;
    status = d.call("status");
    while (!caught_up(status, expected_seen) && seconds_since(t0) < kScanBound) {
        std::this_thread::sleep_for(20ms);
        status = d.call("status");
    }
    const double caught_up_at = seconds_since(t0);
    writers.stop();
    INFO("scans overlapped by appends: " << overlapped << "; gate at " << gate_at << " s, appends done at "
         << appended_at << " s, caught up at " << caught_up_at << " s");
    INFO("last status: " << status.dump());
    INFO("API clients:\n" << writer_summary(reports));
    CHECK(caught_up(status, expected_seen));

    // Every appended message is announced, once.
    live.wait_until([&](const std::vector<Subscriber::Received>& r) {
        return delivery_problems(facts(params_of(r), appended), appended).empty();
    }, 10s);
    std::this_thread::sleep_for(1s);  // room for a repeat
    const auto live_ns = params_of(live.received());
    const auto lf = facts(live_ns, appended);
    INFO("live stream: " << lf.size << " notifications, subscriber errors:" << join(live.errors(), 5));
    INFO("rapportd log (tail):\n" << tail(d.log()));
    CHECK(join(delivery_problems(lf, appended)) == "");
    CHECK(join(lf.unexpected_mail) == "");
    CHECK(join(lf.order) == "");
    CHECK(join(lf.sync_errors) == "");

    // What the API clients were told.
    int refused = 0, failed = 0, acks = 0;
    for (const auto& r : reports) {
        refused += r.count(-32005);
        for (const auto& [k, v] : r.errors) failed += v;
        acks += static_cast<int>(r.acked.size());
    }
    CHECK(refused == 0);  // -32005: "the state database is unavailable"
    CHECK(failed == 0);   // every call of these clients is valid
    for (const auto& r : reports) CHECK(r.lost > 0);

    // The stored notifications: the same ids name the same notifications as on the live stream.
    const auto stored = replay_all(d.port(), token);
    const auto sf = facts(stored, appended);
    CHECK(join(delivery_problems(sf, appended)) == "");
    CHECK(join(sf.unexpected_mail) == "");
    CHECK(join(sf.order) == "");
    CHECK(join(sf.sync_errors) == "");
    CHECK(join(identity_problems(live_ns, stored, "the stored notifications")) == "");

    const json nudges_before = d.call("nudges.list", {{"state", "all"}});
    for (const auto& r : reports) CHECK(join(nudge_problems(nudges_before, r)) == "");

    // After a restart every write that returned success is still there.
    live.stop();
    d.restart();
    const json nudges_after = d.call("nudges.list", {{"state", "all"}});
    for (const auto& r : reports) CHECK(join(nudge_problems(nudges_after, r)) == "");
    const auto stored_after = replay_all(d.port(), token);
    CHECK(join(identity_problems(stored, stored_after, "the notifications stored after the restart")) == "");
    // The ack itself is not visible through the API; the acked notifications must still exist.
    std::vector<std::string> lost_acks;
    {
        std::set<int64_t> ids;
        for (const auto& n : stored_after) ids.insert(n.value("id", int64_t{0}));
        for (const auto& r : reports)
            for (const auto id : r.acked)
                if (!ids.count(id)) lost_acks.push_back("acked id " + std::to_string(id) + " is gone");
    }
    CHECK(join(lost_acks) == "");

    // New notifications continue above every id given out before the restart.
    const int64_t max_before = std::max({lf.max_id, sf.max_id, facts(stored_after, appended).max_id});
    const std::string after_id = "after-restart." + run + "@acme.example";
    d.call("subscribe", {{"after", 0}});
    {
        ImapAppender imap(dovecot.port(), dovecot.user(), dovecot.password());
        imap.append("INBOX", customer_message(after_id, "After the restart"));
    }
    auto n = d.wait_notification([&](const json& x) { return x["kind"] == "customer_mail" && x["message_id"] == after_id; }, 10s);
    if (!n) {
        for (const auto& x : replay_all(d.port(), token))
            if (x.value("message_id", "") == after_id) n = x;
        INFO("after the restart, not delivered live; stored: " << (n ? n->dump() : "no"));
        FAIL_CHECK("the message appended after the restart was not announced\n" << tail(d.log()));
    }
    if (n) {
        INFO("highest id before the restart: " << max_before << "; new: " << n->dump());
        CHECK((*n)["id"].get<int64_t>() > max_before);
    }
    int calls = 0;
    for (const auto& r : reports) calls += r.calls;
    WARN("six folders, " << expected_seen << " messages: caught up after " << caught_up_at << " s (appends "
         << gate_at << "–" << appended_at << " s); API clients made " << calls << " calls, " << acks << " acks");
}

TEST_CASE("kill -9 during the first scan", "[mail][crash]") {
    // One folder, so that `scan` in status is that folder's: it has been EXAMINEd, and its
    // boundary is known, before the kill. (With two, the second might still be connecting, and
    // mail for a folder never EXAMINEd is history.)
    const std::vector<std::pair<std::string, std::size_t>> seed = {{"INBOX", 20000}};
    constexpr int64_t kSeeded = 20000;
    const std::string run = nonce();
    DovecotFixture::Options o;
    o.seed = seed;
    DovecotFixture dovecot(o);
    index_folders(dovecot, seed);
    RapportdFixture d(kRules, mailbox_settings(dovecot, {"INBOX"}, "PT30S"));
    const auto t0 = Clock::now();

    // In progress: messages fetched and some recorded (a batch committed), far from the end.
    json status;
    bool in_progress = false;
    while (seconds_since(t0) < 60) {
        status = d.call("status");
        const auto& m = mailbox(status);
        if (m.contains("scan")) {
            const auto done = m["scan"].value("done", int64_t{0}), total = m["scan"].value("total", int64_t{0});
            const auto seen = m.value("messages_seen", int64_t{0});
            if (done > 0 && done < total && seen >= 1000 && seen < kSeeded / 2) {
                in_progress = true;
                break;
            }
        } else if (m.value("messages_seen", int64_t{0}) >= kSeeded) {
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    INFO("status at the kill: " << status.dump());
    REQUIRE(in_progress);
    const std::string first_log = d.log();
    const auto seen_at_kill = mailbox(status).value("messages_seen", int64_t{0});
    d.kill_hard();

    // Mail that arrives while the daemon is down.
    std::set<std::string> appended;
    {
        ImapAppender imap(dovecot.port(), dovecot.user(), dovecot.password());
        for (int i = 0; i < 5; ++i) {
            const std::string id = "while-down-" + std::to_string(i) + "." + run + "@acme.example";
            imap.append("INBOX", customer_message(id, "While you were down " + std::to_string(i)));
            appended.insert(id);
        }
    }

    const auto t1 = Clock::now();
    d.start();
    Subscriber sub(d.port(), d.token());  // after=0: everything stored, also before the kill
    status = d.call("status");
    while (!caught_up(status, kSeeded + 5) && seconds_since(t1) < 60) {
        std::this_thread::sleep_for(20ms);
        status = d.call("status");
    }
    const double took = seconds_since(t1);
    INFO("after the restart: " << status.dump() << " after " << took << " s");
    INFO("rapportd log after the restart (tail):\n" << tail(d.log()));
    INFO("rapportd log before the kill (tail):\n" << tail(first_log, 2000));
    CHECK(caught_up(status, kSeeded + 5));

    sub.wait_until([&](const std::vector<Subscriber::Received>& r) {
        return delivery_problems(facts(params_of(r), appended), appended).empty();
    }, 10s);
    std::this_thread::sleep_for(1s);
    const auto f = facts(params_of(sub.received()), appended);
    CHECK(join(delivery_problems(f, appended)) == "");
    CHECK(join(f.unexpected_mail) == "");  // no history
    CHECK(join(f.order) == "");
    CHECK(join(f.sync_errors) == "");  // the server was up the whole time
    WARN("kill -9 at " << seen_at_kill << " of " << kSeeded << " messages seen; caught up " << took
         << " s after the restart");
}

TEST_CASE("one folder: mail appended during EXAMINE or FETCH is announced within 2 s", "[mail][latency]") {
    DovecotFixture::Options o;
    constexpr int64_t kSeeded = 6000;  // a first scan of about a second here
    o.seed = {{"INBOX", static_cast<std::size_t>(kSeeded)}};
    DovecotFixture dovecot(o);
    index_folders(dovecot, o.seed);
    // A long poll: only push (or the daemon's own reaction to EXISTS) delivers within 2 s.
    RapportdFixture d(kRules, mailbox_settings(dovecot, {"INBOX"}, "PT5M"));
    Subscriber sub(d.port(), d.token());
    ImapAppender imap(dovecot.port(), dovecot.user(), dovecot.password());
    const std::string run = nonce();
    struct Sent {
        std::string id, phase;
        Clock::time_point done;
    };
    std::vector<Sent> sent;
    auto send = [&](const std::string& phase) {
        const std::string id = "latency-" + std::to_string(sent.size()) + "." + run + "@acme.example";
        imap.append("INBOX", customer_message(id, phase + " " + std::to_string(sent.size())));
        sent.push_back({id, phase, Clock::now()});
    };
    auto all_announced = [&](std::chrono::milliseconds timeout) {
        sub.wait_until([&](const std::vector<Subscriber::Received>& r) {
            std::set<std::string> got;
            for (const auto& x : r) got.insert(x.n.value("message_id", ""));
            for (const auto& s : sent)
                if (!got.count(s.id)) return false;
            return true;
        }, timeout);
    };

    // 1. While the first scan FETCHes the folder's headers (after its EXAMINE, so this is
    //    new mail): as many APPENDs as fit, each one checked to have landed mid-scan.
    const auto t0 = Clock::now();
    json status;
    while (seconds_since(t0) < 30) {
        status = d.call("status");
        if (mailbox(status).contains("scan") && mailbox(status)["scan"].value("done", 0) > 0) break;
        std::this_thread::sleep_for(2ms);
    }
    INFO("status: " << status.dump());
    REQUIRE(mailbox(status).contains("scan"));
    int during_scan = 0;
    while (during_scan < 5 && mailbox(status).contains("scan")) {
        send("during the first scan");
        ++during_scan;
        status = d.call("status");
    }
    if (during_scan < 2) WARN("only " << during_scan << " message(s) could be appended during the first scan");
    status = d.call("status");
    while (!(mailbox(status).value("messages_seen", int64_t{0}) >= kSeeded && !mailbox(status).contains("scan") &&
             mailbox(status)["state"] == "idle") && seconds_since(t0) < 30) {
        std::this_thread::sleep_for(20ms);
        status = d.call("status");
    }
    all_announced(5s);  // a message not announced by now waits for whatever wakes the daemon next

    // 2. A burst: APPENDs 0–120 ms apart, so that some land while the daemon leaves IDLE or
    //    FETCHes the previous one.
    std::mt19937 rng(7);
    for (int i = 0; i < 20; ++i) {
        send("burst");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 120)(rng)));
    }
    all_announced(8s);

    // 3. A restart: the daemon EXAMINEs the folder it knows and FETCHes what is new while more
    //    arrives.
    d.restart();
    for (int i = 0; i < 15; ++i) {
        send("after a restart");
        std::this_thread::sleep_for(60ms);
    }
    all_announced(8s);
    std::this_thread::sleep_for(500ms);

    const auto received = sub.received();
    std::vector<std::string> late;
    std::map<std::string, double> worst;
    std::map<std::string, int> count;
    for (const auto& r : received) ++count[r.n.value("message_id", "")];
    double overall = 0;
    for (const auto& s : sent) {
        std::optional<double> latency;
        for (const auto& r : received)
            if (r.n.value("kind", "") == "customer_mail" && r.n.value("message_id", "") == s.id) {
                latency = std::chrono::duration<double>(r.at - s.done).count();
                break;
            }
        const double l = latency.value_or(1e9);
        worst[s.phase] = std::max(worst[s.phase], l);
        overall = std::max(overall, l);
        if (!latency) late.push_back(s.phase + ": " + s.id + " not announced within 8 s");
        else if (*latency >= 2.0) late.push_back(s.phase + ": " + s.id + " announced after " + std::to_string(*latency) + " s");
        if (count[s.id] > 1) late.push_back(s.phase + ": " + s.id + " announced " + std::to_string(count[s.id]) + " times");
    }
    std::ostringstream summary;
    for (const auto& [phase, w] : worst) summary << phase << ": worst " << (w >= 1e9 ? std::string("never") : std::to_string(w) + " s") << "; ";
    INFO("rapportd log (tail):\n" << tail(d.log()));
    CHECK(join(late) == "");
    WARN("latency from APPEND done to notification, " << sent.size() << " messages (" << during_scan
         << " during the first scan): " << summary.str() << "overall worst "
         << (overall >= 1e9 ? std::string("never") : std::to_string(overall) + " s"));
}

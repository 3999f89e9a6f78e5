#pragma once
// Rules from an https URL ("rules": "https://…" in the settings; docs/rules.md): one
// organisation publishes one file, every rapportd fetches it.
//
//  - Fetched with libcurl, TLS verified (system store plus rules_ca_file), conditional on the
//    last copy's ETag (If-None-Match) and Last-Modified (If-Modified-Since), so an unchanged
//    file costs the server a 304.
//  - Bounded: the local file's size limit (128 MiB, kMaxRulesBytes), a 60 s deadline, https only, redirects
//    followed only on the same host (a redirect elsewhere is refused, as a login page or a
//    hijacked name would be), HTML or other non-JSON answers refused with a clear error.
//  - The last good copy is kept in state_dir (rules-cache.json, with its URL, ETag and
//    Last-Modified in rules-cache.meta.json), written only after the copy validated. It is what
//    the daemon starts with when the server is down, and what stays in force when a new version
//    is broken — exactly like a broken local file.
//
// Everything here blocks (network, files): call it on the WorkerPool, or before the daemon's
// io thread runs. RulesRefresher schedules the checks on the io thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "rapport/rules.hpp"
#include "rapport/settings.hpp"

namespace rapport {

class WorkerPool;

// One HTTPS GET as the rules need it. status 0 with error set: no answer (DNS, connect, TLS,
// timeout) or one refused before its body was used (too large, redirect to another host).
struct RulesHttpResult {
    int status = 0;
    std::string body;
    std::string etag, last_modified, content_type;
    std::string error;
    bool transport_failure = false;  // the server could not be reached at all
};

struct RulesHttpRequest {
    std::string url;
    std::string ca_file;
    std::string if_none_match, if_modified_since;
    std::size_t max_bytes = kMaxRulesBytes;
    std::chrono::seconds timeout{60};
    int max_redirects = 5;
};

RulesHttpResult rules_http_get(const RulesHttpRequest& request);

// One look at the rules URL.
struct UrlRulesCheck {
    enum class Kind {
        not_modified,  // 304: the cached copy is current
        updated,       // a new, valid version (cached when asked)
        refused,       // an answer that cannot be the rules: broken JSON/rules, HTML, 404, too large
        unreachable,   // no answer: server down, TLS failure, timeout, 5xx
    };
    Kind kind = Kind::unreachable;
    std::shared_ptr<const Rules> rules;  // updated
    Diagnostics diagnostics;             // refused and unreachable: what to tell the admin
};

struct UrlRulesOptions {
    bool conditional = true;  // send the cached copy's ETag / Last-Modified
    bool write_cache = true;  // keep an updated version as the last good copy
};

UrlRulesCheck check_rules_url(const Settings& settings, const UrlRulesOptions& options);

// The last good copy, when it came from settings.rules_url; diagnostics otherwise.
RulesResult cached_url_rules(const Settings& settings);

// Re-checks the URL every settings.rules_refresh (and when asked, e.g. after SIGHUP) on the
// worker pool; the outcome comes back on the io thread. Only a changed, valid version reaches
// on_rules; a refused or unreachable one reaches on_problem — once per distinct problem, so an
// outage of hours is one notification, not one per check — and on_problem with no diagnostics
// says that the last problem is over (the URL answers 304 again).
class RulesRefresher : public std::enable_shared_from_this<RulesRefresher> {
public:
    using RulesHandler = std::function<void(std::shared_ptr<const Rules>)>;
    using ProblemHandler = std::function<void(const Diagnostics&, bool content_refused)>;

    RulesRefresher(boost::asio::io_context& io, WorkerPool& pool, std::shared_ptr<const Settings> settings,
                   RulesHandler on_rules, ProblemHandler on_problem);
    void start(std::chrono::milliseconds first_check);
    void check_now();
    void stop();

private:
    void arm(std::chrono::milliseconds delay);
    void done(UrlRulesCheck result);

    boost::asio::io_context& io_;
    WorkerPool& pool_;
    std::shared_ptr<const Settings> settings_;
    RulesHandler on_rules_;
    ProblemHandler on_problem_;
    boost::asio::steady_timer timer_;
    bool running_ = false;  // a check is on the pool
    bool again_ = false;    // check_now() came while one was running
    bool stopped_ = false;
    std::string last_problem_;
};

}  // namespace rapport

#include "app/rules_source.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "app/config_loader.hpp"
#include "app/log.hpp"
#include "app/worker_pool.hpp"
#include "rapport/json_text.hpp"

namespace rapport {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    return s.substr(i);
}

struct Transfer {
    std::string body;
    std::size_t max_bytes = 0;
    bool too_large = false;
    std::string etag, last_modified, content_type, location;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (t->body.size() + n > t->max_bytes) {
        t->too_large = true;
        return 0;  // aborts the transfer: a 100 MB answer is never held in memory
    }
    t->body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    std::string line(data, std::min<std::size_t>(n, 8192));
    const auto colon = line.find(':');
    if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a 100 Continue): start over
        t->etag.clear();
        t->last_modified.clear();
        t->content_type.clear();
    } else if (colon != std::string::npos) {
        const std::string name = lower(line.substr(0, colon));
        const std::string value = trim(line.substr(colon + 1));
        if (name == "etag") t->etag = value;
        else if (name == "last-modified") t->last_modified = value;
        else if (name == "content-type") t->content_type = lower(value);
    }
    return n;
}

// The host of an absolute URL, lower-cased; empty when it has none.
std::string host_of(const std::string& url) {
    std::string host;
    CURLU* u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
        char* h = nullptr;
        if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) host = lower(h);
        curl_free(h);
        char* p = nullptr;
        if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK && p) host += ":" + std::string(p);
        curl_free(p);
    }
    curl_url_cleanup(u);
    return host;
}

std::string status_text(int status) {
    switch (status) {
        case 401: return "401 Unauthorized";
        case 403: return "403 Forbidden";
        case 404: return "404 Not Found";
        case 410: return "410 Gone";
        case 500: return "500 Internal Server Error";
        case 502: return "502 Bad Gateway";
        case 503: return "503 Service Unavailable";
        default: return "HTTP status " + std::to_string(status);
    }
}

std::string cache_meta_path(const Settings& s) {
    return (std::filesystem::path(s.rules_file).parent_path() / "rules-cache.meta.json").string();
}

struct CacheMeta {
    std::string url, etag, last_modified;
};

std::optional<CacheMeta> read_meta(const Settings& s) {
    std::string error;
    auto text = read_text_file(cache_meta_path(s), 64 * 1024, error);
    if (!text) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(*text);
        CacheMeta m;
        m.url = j.value("url", "");
        m.etag = j.value("etag", "");
        m.last_modified = j.value("last_modified", "");
        return m;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Written next to its final name and renamed over it: a crash never leaves half a copy.
bool write_private_file(const std::string& path, const std::string& content, std::string& error) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            error = "cannot write " + tmp;
            return false;
        }
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        if (!out.flush()) {
            error = "cannot write " + tmp + " (disk full?)";
            return false;
        }
    }
    ::chmod(tmp.c_str(), 0600);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        error = "cannot replace " + path + ": " + ec.message();
        return false;
    }
    return true;
}

void write_cache(const Settings& s, const std::string& body, const RulesHttpResult& r) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(s.rules_file).parent_path(), ec);
    std::string error;
    // The meta goes last: a copy without its meta is fetched again in full, never trusted with
    // another version's ETag.
    std::filesystem::remove(cache_meta_path(s), ec);
    if (!write_private_file(s.rules_file, body, error)) {
        log::warning("rules: " + error + "; the new rules are in force but not kept for the next start");
        return;
    }
    const nlohmann::json meta = {{"url", s.rules_url}, {"etag", r.etag}, {"last_modified", r.last_modified}};
    if (!write_private_file(cache_meta_path(s), meta.dump(2) + "\n", error)) log::warning("rules: " + error);
}

Diagnostics one(const std::string& url, std::string message) {
    return {Diagnostic{url, 0, 0, {}, std::move(message)}};
}

}  // namespace

RulesHttpResult rules_http_get(const RulesHttpRequest& req) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    RulesHttpResult out;
    const std::string origin = host_of(req.url);
    std::string url = req.url;
    const auto deadline = std::chrono::steady_clock::now() + req.timeout;
    for (int hop = 0;; ++hop) {
        CURL* curl = curl_easy_init();
        if (!curl) {
            out.error = "cannot start libcurl";
            out.transport_failure = true;
            return out;
        }
        Transfer t;
        t.max_bytes = req.max_bytes;
        curl_slist* headers = nullptr;
        if (!req.if_none_match.empty()) headers = curl_slist_append(headers, ("If-None-Match: " + req.if_none_match).c_str());
        if (!req.if_modified_since.empty())
            headers = curl_slist_append(headers, ("If-Modified-Since: " + req.if_modified_since).c_str());
        headers = curl_slist_append(headers, "Accept: application/json");
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        char error[CURL_ERROR_SIZE] = {};
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
        // Redirects are followed here, one by one, so that each target's host can be checked.
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "rapportd");
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip welcome; the cap is on the decoded size
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(req.max_bytes));
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(left.count(), 20000)));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<long long>(left.count(), 1)));
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
        if (!req.ca_file.empty()) {
            // CAINFO alone would replace the system store; the CA path keeps it (it "adds").
            curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
            curl_easy_setopt(curl, CURLOPT_CAPATH, "/etc/ssl/certs");
        }
        const CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        char* location = nullptr;
        curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
        const std::string next = location ? location : "";
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);

        if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            out.error = "the answer is larger than " + std::to_string(req.max_bytes >> 20) +
                        " MiB, the limit for a rules file; is this the right URL?";
            return out;
        }
        if (rc != CURLE_OK) {
            out.error = std::string("cannot fetch: ") + (error[0] ? error : curl_easy_strerror(rc));
            out.transport_failure = true;
            return out;
        }
        if (status >= 300 && status < 400 && status != 304 && !next.empty()) {
            if (host_of(next) != origin) {
                out.error = "redirected to another host (" + next + "); rules are only fetched from " + origin +
                            ": publish them there or put the final URL in the settings";
                return out;
            }
            if (hop + 1 > req.max_redirects) {
                out.error = "more than " + std::to_string(req.max_redirects) + " redirects";
                return out;
            }
            url = next;
            continue;
        }
        out.status = static_cast<int>(status);
        out.body = std::move(t.body);
        out.etag = std::move(t.etag);
        out.last_modified = std::move(t.last_modified);
        out.content_type = std::move(t.content_type);
        return out;
    }
}

RulesResult cached_url_rules(const Settings& s) {
    RulesResult out;
    const auto meta = read_meta(s);
    if (!meta || meta->url != s.rules_url) {
        out.diagnostics = one(s.rules_url, "no copy of these rules has been fetched yet");
        return out;
    }
    std::string error;
    auto text = read_text_file(s.rules_file, kMaxRulesBytes, error);
    if (!text) {
        out.diagnostics = one(s.rules_url, error);
        return out;
    }
    return rules_from_text(*text, s.rules_file, s.file);
}

UrlRulesCheck check_rules_url(const Settings& s, const UrlRulesOptions& options) {
    UrlRulesCheck out;
    RulesHttpRequest req;
    req.url = s.rules_url;
    req.ca_file = s.rules_ca_file;
    req.max_bytes = kMaxRulesBytes;  // the same limit as a local rules file
    std::optional<CacheMeta> meta;
    if (options.conditional) meta = read_meta(s);
    const bool have_copy = meta && meta->url == s.rules_url && std::filesystem::exists(s.rules_file);
    if (have_copy) {
        req.if_none_match = meta->etag;
        req.if_modified_since = meta->last_modified;
    }
    const auto r = rules_http_get(req);
    if (!r.error.empty()) {
        out.kind = r.transport_failure ? UrlRulesCheck::Kind::unreachable : UrlRulesCheck::Kind::refused;
        out.diagnostics = one(s.rules_url, r.error);
        return out;
    }
    if (r.status == 304 && have_copy) {
        out.kind = UrlRulesCheck::Kind::not_modified;
        return out;
    }
    if (r.status >= 500 || r.status == 429) {
        out.kind = UrlRulesCheck::Kind::unreachable;
        out.diagnostics = one(s.rules_url, "the server answered " + status_text(r.status) + "; trying again later");
        return out;
    }
    out.kind = UrlRulesCheck::Kind::refused;
    if (r.status != 200) {
        out.diagnostics = one(s.rules_url, "the server answered " + status_text(r.status) +
                                               (r.status == 404 ? "; check the rules URL in the settings" : ""));
        return out;
    }
    // A login page, a portal or a web server's error page is not a rules file: say so instead
    // of reporting a JSON syntax error at line 1.
    const auto first = r.body.find_first_not_of(" \t\r\n");
    const bool html = r.content_type.rfind("text/html", 0) == 0 ||
                      (first != std::string::npos && r.body[first] == '<');
    if (html) {
        out.diagnostics = one(s.rules_url, "the server answered with an HTML page, not the JSON rules file "
                                           "(a login page or an error page?); check the URL");
        return out;
    }
    auto parsed = rules_from_text(r.body, s.rules_url, s.file);
    if (!parsed.rules) {
        out.diagnostics = std::move(parsed.diagnostics);
        return out;
    }
    out.kind = UrlRulesCheck::Kind::updated;
    out.rules = parsed.rules;
    if (options.write_cache) write_cache(s, r.body, r);
    return out;
}

RulesRefresher::RulesRefresher(boost::asio::io_context& io, WorkerPool& pool, std::shared_ptr<const Settings> settings,
                               RulesHandler on_rules, ProblemHandler on_problem)
    : io_(io), pool_(pool), settings_(std::move(settings)), on_rules_(std::move(on_rules)),
      on_problem_(std::move(on_problem)), timer_(io) {}

void RulesRefresher::start(std::chrono::milliseconds first_check) { arm(first_check); }

void RulesRefresher::stop() {
    stopped_ = true;
    timer_.cancel();
}

void RulesRefresher::arm(std::chrono::milliseconds delay) {
    if (stopped_) return;
    timer_.expires_after(delay);
    std::weak_ptr<RulesRefresher> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->check_now();
    });
}

void RulesRefresher::check_now() {
    if (stopped_) return;
    if (running_) {
        again_ = true;
        return;
    }
    running_ = true;
    timer_.cancel();
    log::debug("rules: asking " + settings_->rules_url + " for a new version");
    auto settings = settings_;
    std::weak_ptr<RulesRefresher> weak = weak_from_this();
    pool_.submit<UrlRulesCheck>(
        weak,
        [settings]() {
            try {
                return check_rules_url(*settings, UrlRulesOptions{});
            } catch (const std::exception& e) {  // always hear back, or the schedule would stop
                UrlRulesCheck c;
                c.diagnostics = one(settings->rules_url, e.what());
                return c;
            }
        },
        [weak](UrlRulesCheck result) {
            if (auto self = weak.lock()) self->done(std::move(result));
        });
}

void RulesRefresher::done(UrlRulesCheck result) {
    running_ = false;
    if (stopped_) return;
    switch (result.kind) {
        case UrlRulesCheck::Kind::not_modified:
            log::debug("rules: " + settings_->rules_url + " is unchanged");
            // The server is back (or the broken version was withdrawn): the problem is over.
            if (!last_problem_.empty() && on_problem_) on_problem_({}, false);
            last_problem_.clear();
            break;
        case UrlRulesCheck::Kind::updated:
            last_problem_.clear();
            if (on_rules_) on_rules_(result.rules);
            break;
        case UrlRulesCheck::Kind::refused:
        case UrlRulesCheck::Kind::unreachable: {
            std::string text;
            for (const auto& d : result.diagnostics) text += d.to_string() + "\n";
            if (text == last_problem_) {
                log::debug("rules: still " + text);
                break;
            }
            last_problem_ = text;
            if (on_problem_) on_problem_(result.diagnostics, result.kind == UrlRulesCheck::Kind::refused);
            break;
        }
    }
    if (again_) {
        again_ = false;
        return check_now();
    }
    arm(std::chrono::duration_cast<std::chrono::milliseconds>(settings_->rules_refresh));
}

}  // namespace rapport

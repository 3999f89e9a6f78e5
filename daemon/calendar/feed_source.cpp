// http(s):// — an ICS feed, fetched with a conditional GET (If-None-Match / If-Modified-Since)
// so an unchanged feed costs one small 304. Up to five redirects; never from https to http.
#include <algorithm>

#include "calendar/http_client.hpp"
#include "calendar/source_kinds.hpp"

namespace rapport::calendar {
namespace {

constexpr int kMaxRedirects = 5;

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

class FeedSource final : public CalendarSource {
public:
    FeedSource(const SourceSettings& settings, const Url& url) : settings_(settings), url_(url) {}

    FetchResult fetch(sys_seconds, sys_seconds) override {
        FetchResult result;
        HttpRequest request;
        request.url = url_;
        request.timeout = settings_.timeout;
        request.total_timeout = settings_.total_timeout;
        request.max_body = settings_.max_bytes;
        request.ca_file = settings_.ca_file;
        request.headers.emplace_back("Accept", "text/calendar, */*;q=0.5");
        if (!etag_.empty()) request.headers.emplace_back("If-None-Match", etag_);
        if (!last_modified_.empty()) request.headers.emplace_back("If-Modified-Since", last_modified_);
        if (!settings_.username.empty())
            request.headers.emplace_back("Authorization", basic_authorization(settings_.username, settings_.password));

        HttpResponse response;
        for (int hop = 0;; ++hop) {
            response = http_exchange(request);
            if (!response.error.empty()) {
                result.error = response.error;
                return result;
            }
            if (!is_redirect(response.status)) break;
            if (hop == kMaxRedirects) {
                result.error = "too many redirects from " + url_.origin();
                return result;
            }
            std::string error;
            auto next = resolve_redirect(request.url, response.header("location"), error);
            if (!next) {
                result.error = error;
                return result;
            }
            // Credentials go only to the host they were configured for.
            if (next->host != url_.host || next->port != url_.port) {
                auto& h = request.headers;
                h.erase(std::remove_if(h.begin(), h.end(), [](const auto& f) { return f.first == "Authorization"; }),
                        h.end());
            }
            request.url = *next;
        }
        if (response.status == 304) {
            result.state = FetchResult::State::unchanged;
            return result;
        }
        if (response.status == 401 || response.status == 403) {
            result.error = "feed refused the credentials (HTTP " + std::to_string(response.status) + ")";
            return result;
        }
        if (response.status < 200 || response.status > 299) {
            result.error = "feed answered HTTP " + std::to_string(response.status);
            return result;
        }
        etag_ = response.header("etag");
        last_modified_ = response.header("last-modified");
        result.state = FetchResult::State::changed;
        // Named by origin only: feed paths often carry a secret token (Google's private URLs).
        result.documents.push_back({url_.origin(), std::move(response.body)});
        return result;
    }

private:
    SourceSettings settings_;
    Url url_;
    std::string etag_;
    std::string last_modified_;
};

}  // namespace

std::unique_ptr<CalendarSource> make_feed_source(const SourceSettings& settings, const Url& url) {
    return std::make_unique<FeedSource>(settings, url);
}

}  // namespace rapport::calendar

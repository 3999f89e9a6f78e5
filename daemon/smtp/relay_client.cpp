#include "smtp/relay_client.hpp"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

namespace rapport::smtp {
namespace {

struct Upload {
    const std::string* data;
    std::size_t pos = 0;
};

std::size_t read_cb(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* u = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, u->data->size() - u->pos);
    std::memcpy(buffer, u->data->data() + u->pos, n);
    u->pos += n;
    return n;
}

// The server's replies as curl sees them, so that a refusal reaches the client word for word.
struct Replies {
    std::vector<std::string> current;
    std::vector<std::string> last;     // the last complete reply, lines with their codes
    std::vector<std::string> refusal;  // the last 4xx/5xx: curl QUITs after it, so it is not `last`
};

int debug_cb(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    if (type != CURLINFO_HEADER_IN) return 0;
    auto* r = static_cast<Replies*>(user);
    std::string_view text(data, size);
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string line(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.size() > 1000) line.resize(1000);
        r->current.push_back(line);
        if (line.size() < 4 || line[3] != '-' || r->current.size() > 50) {
            r->last = std::move(r->current);
            r->current.clear();
            if (!r->last.empty() && (r->last.front()[0] == '4' || r->last.front()[0] == '5')) r->refusal = r->last;
        }
    }
    return 0;
}

std::string reply_text(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
        if (!out.empty()) out += '\n';
        out += l.size() >= 4 ? l.substr(4) : std::string();
    }
    return out;
}

}  // namespace

void relay_global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

RelayResult relay(const RelayRequest& req) {
    relay_global_init();
    RelayResult result;
    const std::string where = req.host + ":" + std::to_string(req.port);
    CURL* curl = curl_easy_init();
    if (!curl) {
        result.text = "4.3.0 Cannot start the relay (libcurl)";
        return result;
    }
    const bool v6 = req.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + req.host + "]" : req.host;
    const std::string url = std::string(req.security == RelayRequest::Security::tls ? "smtps://" : "smtp://") + host +
                            ":" + std::to_string(req.port) + "/localhost";
    Upload upload{req.message};
    Replies replies;
    curl_slist* rcpts = nullptr;
    for (const auto& r : req.recipients) rcpts = curl_slist_append(rcpts, ("<" + r + ">").c_str());
    const std::string from = "<" + req.mail_from + ">";

    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.message->size()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(req.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.stall_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &replies);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // needed for the debug callback; nothing is printed
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req.security != RelayRequest::Security::none)
        curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));  // no fallback
    if (!req.ca_file.empty()) {
        // CAINFO alone would replace the system store; the CA path keeps it (CONTRACT: "adds").
        curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_file.c_str());
        curl_easy_setopt(curl, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    if (req.auth != RelayRequest::Auth::password) {
        // libcurl builds both SASL messages from the user and the bearer token; the login
        // option picks the one mechanism the settings name (never a fallback to PLAIN).
        curl_easy_setopt(curl, CURLOPT_USERNAME, req.username.c_str());
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, req.password.c_str());
        curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS,
                         req.auth == RelayRequest::Auth::xoauth2 ? "AUTH=XOAUTH2" : "AUTH=OAUTHBEARER");
    } else if (!req.username.empty()) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, req.username.c_str());
        curl_easy_setopt(curl, CURLOPT_PASSWORD, req.password.c_str());
    }
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

    const CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(curl);

    const std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (rc == CURLE_OK) {
        result.accepted = true;
        result.code = 250;
        result.text = "2.0.0 Relayed by " + where + ": " + reply_text(replies.last);
    } else if (rc == CURLE_LOGIN_DENIED) {
        result.code = 454;
        result.text = "4.7.0 " + where + " refused rapportd's login (" + reply_text(replies.refusal) + "); " +
                      (req.auth == RelayRequest::Auth::password
                           ? "check the mailbox's smtp settings"
                           : "check that the smtp password_command prints a current access token for " + req.username) +
                      ". The message was not sent";
    } else if (code >= 400 && code <= 599 && !replies.refusal.empty()) {
        // The server's own refusal, code and text: 4xx keeps the message with the client, 5xx
        // tells the user why it bounced.
        result.code = static_cast<int>(code);
        result.text = reply_text(replies.refusal);
    } else {
        result.code = 451;
        result.text = "4.4.1 Cannot relay through " + where + ": " + why + ". The message was not sent; try again later";
    }
    return result;
}

}  // namespace rapport::smtp

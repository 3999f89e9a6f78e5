#pragma once
// The calendar URLs of the settings file: file:PATH, http(s)://…, caldav+http(s)://….
#include <optional>
#include <string>

namespace rapport::calendar {

struct Url {
    enum class Kind { file, feed, caldav };
    Kind kind = Kind::file;
    bool tls = false;
    std::string host;  // without brackets for IPv6 literals
    std::string port;  // always set for http(s): "80"/"443" by default
    std::string target = "/";  // path and query, as sent in the request line
    std::string path;          // file: the path as written (relative to the settings file)

    std::string origin() const;  // "https://host:port" (port left out when it is the default)
};

// Returns nothing and sets error for anything else (including user:password@ in the URL:
// credentials belong in the settings' username/password fields, not in logs).
std::optional<Url> parse_calendar_url(const std::string& text, std::string& error);

// A Location header resolved against the URL it answered (absolute or absolute-path only).
std::optional<Url> resolve_redirect(const Url& base, const std::string& location, std::string& error);

}  // namespace rapport::calendar

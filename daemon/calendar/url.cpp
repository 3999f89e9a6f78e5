#include "calendar/url.hpp"

#include <cctype>

namespace rapport::calendar {
namespace {

bool starts_with_nocase(const std::string& text, const std::string& prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

bool valid_port(const std::string& port) {
    if (port.empty() || port.size() > 5) return false;
    for (char c : port)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    const long value = std::stol(port);
    return value > 0 && value < 65536;
}

bool clean(const std::string& text) {
    for (unsigned char c : text)
        if (c <= 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

std::string Url::origin() const {
    std::string out = tls ? "https://" : "http://";
    out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != (tls ? "443" : "80")) out += ":" + port;
    return out;
}

std::optional<Url> parse_calendar_url(const std::string& text, std::string& error) {
    Url url;
    std::string rest;
    if (starts_with_nocase(text, "file:")) {
        url.kind = Url::Kind::file;
        url.path = text.substr(5);
        if (url.path.rfind("//", 0) == 0) url.path.erase(0, 2);  // file:///abs → /abs
        if (url.path.empty()) {
            error = "file: URL without a path";
            return std::nullopt;
        }
        return url;
    }
    if (starts_with_nocase(text, "caldav+https://")) {
        url.kind = Url::Kind::caldav, url.tls = true, rest = text.substr(15);
    } else if (starts_with_nocase(text, "caldav+http://")) {
        url.kind = Url::Kind::caldav, rest = text.substr(14);
    } else if (starts_with_nocase(text, "https://")) {
        url.kind = Url::Kind::feed, url.tls = true, rest = text.substr(8);
    } else if (starts_with_nocase(text, "http://")) {
        url.kind = Url::Kind::feed, rest = text.substr(7);
    } else {
        error = "unsupported calendar URL (use file:, http(s):// or caldav+http(s)://)";
        return std::nullopt;
    }
    if (!clean(rest)) {
        error = "calendar URL contains spaces or control characters";
        return std::nullopt;
    }
    const auto slash = rest.find_first_of("/?");
    std::string authority = rest.substr(0, slash);
    url.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (url.target.front() == '?') url.target.insert(0, "/");
    if (const auto hash = url.target.find('#'); hash != std::string::npos) url.target.erase(hash);
    if (authority.find('@') != std::string::npos) {
        error = "calendar URL must not contain credentials; use username and password";
        return std::nullopt;
    }
    url.port = url.tls ? "443" : "80";
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) {
            error = "calendar URL has an unterminated IPv6 address";
            return std::nullopt;
        }
        url.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                error = "calendar URL has a malformed host";
                return std::nullopt;
            }
            url.port = authority.substr(close + 2);
        }
    } else {
        const auto colon = authority.find(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string::npos) url.port = authority.substr(colon + 1);
    }
    if (url.host.empty()) {
        error = "calendar URL without a host";
        return std::nullopt;
    }
    if (!valid_port(url.port)) {
        error = "calendar URL has an invalid port";
        return std::nullopt;
    }
    return url;
}

std::optional<Url> resolve_redirect(const Url& base, const std::string& location, std::string& error) {
    if (!location.empty() && location.front() == '/' && (location.size() < 2 || location[1] != '/')) {
        Url url = base;
        url.target = location;
        if (!clean(location)) {
            error = "redirect to a malformed location";
            return std::nullopt;
        }
        return url;
    }
    auto url = parse_calendar_url(location, error);
    if (!url) return std::nullopt;
    if (url->kind != Url::Kind::feed) {
        error = "redirect to a non-HTTP location";
        return std::nullopt;
    }
    if (base.tls && !url->tls) {
        error = "redirect from HTTPS to plain HTTP refused";
        return std::nullopt;
    }
    url->kind = base.kind;
    return url;
}

}  // namespace rapport::calendar

#include "handshake_policy.hpp"

#include <string>

namespace rapport::api {
namespace {

bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

bool origin_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

}  // namespace

bool host_allowed(std::string_view host, std::uint16_t port) {
    const std::string suffix = ":" + std::to_string(port);
    if (host.size() <= suffix.size() || host.substr(host.size() - suffix.size()) != suffix) return false;
    const std::string_view name = host.substr(0, host.size() - suffix.size());
    return name == "127.0.0.1" || name == "[::1]" || iequals_ascii(name, "localhost");
}

bool origin_allowed(std::string_view origin) {
    constexpr std::string_view scheme = "moz-extension://";
    if (origin.size() <= scheme.size() || origin.substr(0, scheme.size()) != scheme) return false;
    const std::string_view rest = origin.substr(scheme.size());
    if (rest.size() > 255) return false;
    for (char c : rest)
        if (!origin_host_char(c)) return false;
    return true;
}

HandshakeDecision decide_handshake(const HandshakeRequest& request, std::uint16_t port) {
    if (request.host_count != 1 || !host_allowed(request.host, port)) return {403, "forbidden host"};
    if (request.origin_count > 1 || (request.origin_count == 1 && !origin_allowed(request.origin)))
        return {403, "forbidden origin"};
    if (!request.is_websocket_upgrade || request.method != "GET") return {404, "not found"};
    if (request.target != "/") return {404, "not found"};
    return {101, "upgrade"};
}

}  // namespace rapport::api

#pragma once
// Who may open the WebSocket API, decided from the HTTP upgrade request before any upgrade.
//
// The API listens on loopback only, but a web page in the user's browser can still reach
// loopback: a foreign Origin (cross-site WebSocket hijacking) and a foreign Host (DNS
// rebinding: evil.example resolving to 127.0.0.1) are both refused with 403, and nothing but a
// WebSocket upgrade of "/" is served (404 otherwise; there is no plain-HTTP endpoint and there
// are never CORS headers).
// - Host must appear exactly once and be exactly "127.0.0.1:PORT", "localhost:PORT" or
//   "[::1]:PORT" ("localhost" case-insensitive; no default port, no trailing dot, no zero
//   padding) — PORT being the port the server listens on.
// - Origin may be absent (rapportctl, scripts); if present it must appear once and be
//   "moz-extension://" followed by 1–255 letters, digits, '-' or '.' (the serialized origin
//   of a Firefox/Thunderbird extension: no path, no port, no userinfo). "null", any http(s)
//   origin, "moz-extension:/x", "xmoz-extension://…", "moz-extension-evil://…" are refused.
// Pure: the server feeds it the parsed header values, the fuzz and unit tests feed it strings.
#include <cstdint>
#include <optional>
#include <string_view>

namespace rapport::api {

bool host_allowed(std::string_view host, std::uint16_t port);
bool origin_allowed(std::string_view origin);

struct HandshakeRequest {
    std::string_view method;  // "GET"
    std::string_view target;  // "/"
    std::size_t host_count = 0;
    std::string_view host;    // the first Host value
    std::size_t origin_count = 0;
    std::string_view origin;  // the first Origin value
    bool is_websocket_upgrade = false;
};

struct HandshakeDecision {
    int status = 403;  // 101 means: go ahead with the WebSocket accept
    std::string_view reason;
    bool accepted() const { return status == 101; }
};

HandshakeDecision decide_handshake(const HandshakeRequest& request, std::uint16_t port);

}  // namespace rapport::api

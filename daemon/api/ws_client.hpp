#pragma once
// A small synchronous WebSocket client for rapportctl (and tests): connects to
// ws://127.0.0.1:PORT/ with "Host: 127.0.0.1:PORT", sends and receives text frames, every call
// bounded by a timeout. Beast stays in ws_client.cpp; this header is plain C++.
// Each call runs a private io_context until the operation completes or its time is up; on
// timeout the connection is dropped (a half-finished WebSocket operation cannot be resumed)
// and WsError{timed_out} is thrown. Not thread-safe: one thread uses one client.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace rapport::api {

class WsError : public std::runtime_error {
public:
    enum class Kind { connect_failed, timed_out, closed, protocol };
    WsError(Kind kind, const std::string& message, int close_code = 0)
        : std::runtime_error(message), kind_(kind), close_code_(close_code) {}
    Kind kind() const { return kind_; }
    int close_code() const { return close_code_; }  // set when kind() == closed (1000, 1008, …)

private:
    Kind kind_;
    int close_code_;
};

struct WsClientOptions {
    std::string origin;                        // "" sends no Origin header
    std::size_t max_message_bytes = 16 << 20;  // incoming frames (a replay can be long)
};

class WsClient {
public:
    explicit WsClient(WsClientOptions options = {});
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    void connect(std::uint16_t port, std::chrono::milliseconds timeout);
    void send_text(const std::string& text, std::chrono::milliseconds timeout);
    // The next text frame. Throws WsError{closed, …, code} when the server closed.
    std::string receive_text(std::chrono::milliseconds timeout);
    // Sends a close frame (1000) and waits for the server's, within timeout; never throws.
    void close(std::chrono::milliseconds timeout) noexcept;
    bool is_open() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rapport::api

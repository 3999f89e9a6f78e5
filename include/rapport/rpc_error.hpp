#pragma once
// JSON-RPC error codes and the exception that carries one, shared by the core's method
// dispatcher and the WebSocket server (which answers with it). Header-only, so the server
// library uses it without linking the core.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace rapport::rpc {

// JSON-RPC 2.0 codes plus the application's own (docs/api.md lists them all).
namespace code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
inline constexpr int unknown_account = -32001;
inline constexpr int unknown_nudge = -32002;
inline constexpr int unknown_notification = -32003;
inline constexpr int invalid_state = -32004;  // e.g. snoozing a nudge that is done
inline constexpr int storage_error = -32005;  // the state database refused; try again
}  // namespace code

class Failure : public std::runtime_error {
public:
    Failure(int code, const std::string& message, nlohmann::json data = nullptr)
        : std::runtime_error(message), code_(code), data_(std::move(data)) {}
    int code() const { return code_; }
    const nlohmann::json& data() const { return data_; }

private:
    int code_;
    nlohmann::json data_;
};

}  // namespace rapport::rpc

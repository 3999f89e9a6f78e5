#pragma once
// JSON-RPC 2.0 framing for the WebSocket API: one text frame in, one parsed request (or the
// error reply it deserves) out; and the three kinds of frames the server writes.
//
// Decisions (docs/api.md repeats them for client authors):
// - One JSON object per frame. Batches (a top-level array) are refused with -32600: no client
//   needs them and they multiply the work one frame can ask for.
// - A frame that is not JSON gets -32700 with id null; a JSON value that is not a valid request
//   (not an object, "jsonrpc" other than "2.0", "method" missing or not a string, "params" not an
//   object or array, "id" not a string, number or null) gets -32600, carrying the request's id
//   when it could be read and null otherwise.
// - A request without "id" is a notification. The API defines no client-to-server
//   notifications, so the server neither answers nor runs them (it cannot tell the client it
//   failed, and silent side effects are worse than none).
// - Untrusted input is bounded before it is parsed: frame size (the transport enforces the same
//   limit) and nesting depth (a cheap scan, so "[[[[…" never reaches the parser).
// Pure: no I/O, no Beast; the fuzz target tests/fuzz/api drives parse_rpc_frame.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rapport/rpc_error.hpp"

namespace rapport::api {

namespace rpc_code = ::rapport::rpc::code;  // one list of codes for the server and the core

struct RpcLimits {
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_depth = 32;  // the contract's payloads nest 4 deep
};

struct RpcRequest {
    bool is_notification = false;  // no "id" member
    nlohmann::json id;             // string, number or null (meaningless for a notification)
    std::string method;
    nlohmann::json params = nlohmann::json::object();  // object or array; {} when absent
};

struct RpcFrameError {
    int code = rpc_code::invalid_request;
    std::string message;
    nlohmann::json id;  // the request's id when it was readable, else null
};

// Exactly one of the two is set.
struct RpcFrame {
    std::optional<RpcRequest> request;
    std::optional<RpcFrameError> error;
};

RpcFrame parse_rpc_frame(std::string_view text, const RpcLimits& limits = {});

// The JSON clients send as a rule, parsed without nlohmann's lexer (which copies every
// character twice, once for the value and once for its error messages): objects, arrays, true,
// false, null, integers of up to 18 digits and strings of printable ASCII without escapes,
// nested at most max_depth deep. On such text, out becomes what json::parse gives, number
// types included (unsigned when not negative), and true is returned; on anything else (floats,
// escapes, other bytes, invalid JSON) it returns false and the caller asks json::parse.
bool parse_plain_json(std::string_view text, std::size_t max_depth, nlohmann::json& out);

// Deepest nesting of arrays/objects in text (strings are skipped), or stop_at+1 as soon as it
// exceeds stop_at. Meaningful for valid JSON; harmless on anything else.
std::size_t json_nesting_depth(std::string_view text, std::size_t stop_at);

// Serialized frames. Invalid UTF-8 in values (mail headers are not always clean) is replaced,
// never thrown.
std::string rpc_result(const nlohmann::json& id, const nlohmann::json& result);
std::string rpc_error(const nlohmann::json& id, int code, std::string_view message,
                      const nlohmann::json& data = nullptr);
std::string rpc_notification(std::string_view method, const nlohmann::json& params);

// Appends value's compact serialization to out: the bytes of value.dump() with invalid UTF-8
// replaced (error_handler_t::replace), without building a string of its own.
void dump_into(std::string& out, const nlohmann::json& value);

}  // namespace rapport::api

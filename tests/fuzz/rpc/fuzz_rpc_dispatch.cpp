// Arbitrary frames through the same path as a connection: JSON-RPC framing, then the
// dispatcher with an in-memory backend. Every outcome must be a result or a JSON-RPC error
// with a known code; nothing else may escape.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fake_rpc_backend.hpp"
#include "jsonrpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static rapport::test::FakeBackend backend;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto frame = rapport::api::parse_rpc_frame(text);
    if (frame.request.has_value() == frame.error.has_value()) std::abort();
    if (!frame.request) return 0;
    try {
        auto result = rapport::rpc::dispatch(frame.request->method, frame.request->params, backend);
        result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const rapport::rpc::Failure& f) {
        const int c = f.code();
        const bool known = c == -32601 || c == -32602 || (c <= -32001 && c >= -32005);
        if (!known) std::abort();
    }
    return 0;
}

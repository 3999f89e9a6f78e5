// Arbitrary frame text through the API's untrusted-input helpers: the JSON-RPC framing (and
// the replies built from what it returns) and the handshake policy. Must never crash, throw,
// or accept a frame as both a request and an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "handshake_policy.hpp"
#include "jsonrpc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace rapport::api;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const RpcFrame frame = parse_rpc_frame(text, RpcLimits{64 * 1024, 32});
    if (frame.request.has_value() == frame.error.has_value()) std::abort();
    if (frame.error) {
        (void)rpc_error(frame.error->id, frame.error->code, frame.error->message);
    } else {
        const RpcRequest& r = *frame.request;
        if (!r.params.is_object() && !r.params.is_array()) std::abort();
        (void)rpc_result(r.id, r.params);
        (void)rpc_notification(r.method, r.params);
    }

    // The same bytes as Host and Origin header values.
    (void)host_allowed(text, 7717);
    if (origin_allowed(text) && text.substr(0, 16) != "moz-extension://") std::abort();
    HandshakeRequest h{"GET", "/", 1, text, 1, text, true};
    (void)decide_handshake(h, 7717);
    return 0;
}

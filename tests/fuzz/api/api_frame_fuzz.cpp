// Arbitrary frame text through the API's untrusted-input helpers: the JSON-RPC framing (and
// the replies built from what it returns) and the handshake policy. Must never crash, throw,
// or accept a frame as both a request and an error. Differential: the hand-written fast
// paths (parse_plain_json, dump_into) must agree with nlohmann's parse and dump whenever they
// take the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "handshake_policy.hpp"
#include "jsonrpc.hpp"

namespace {

bool same_types(const nlohmann::json& a, const nlohmann::json& b) {
    if (a.type() != b.type() || a.size() != b.size()) return false;
    if (a.is_array())
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!same_types(a[i], b[i])) return false;
    if (a.is_object())
        for (auto it = a.begin(); it != a.end(); ++it)
            if (!b.contains(it.key()) || !same_types(it.value(), b.at(it.key()))) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace rapport::api;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    nlohmann::json plain;
    if (parse_plain_json(text, 32, plain)) {
        if (json_nesting_depth(text, 32) > 32) std::abort();  // it took what the depth limit refuses
        const auto reference = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
        if (reference.is_discarded() || reference != plain) std::abort();
        // == compares numbers by value: the stored types (unsigned when not negative) must match too.
        if (!same_types(reference, plain)) std::abort();
    }
    const auto any = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!any.is_discarded() && json_nesting_depth(text, 64) <= 64) {
        std::string mine;
        dump_into(mine, any);
        if (mine != any.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) std::abort();
    }

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

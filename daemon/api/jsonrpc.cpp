#include "jsonrpc.hpp"

#include <charconv>

namespace rapport::api {
namespace {

using nlohmann::json;

// nlohmann's own compact serialization of value, appended to out: the reference for the bytes.
void nlohmann_dump_into(std::string& out, const json& value) {
    nlohmann::detail::serializer<json> serializer(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
                                                  json::error_handler_t::replace);
    serializer.dump(value, false, false, 0);
}

// A string nlohmann would write byte for byte as it is, between quotes: printable ASCII
// without quote or backslash. Anything else (escapes, UTF-8 to check or replace) is left to it.
bool plain_ascii(const std::string& s) {
    for (const unsigned char c : s)
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
    return true;
}

void append_quoted(std::string& out, const std::string& s) {
    out += '"';
    out += s;
    out += '"';
}

void append_integer(std::string& out, const json& value) {
    char digits[24];
    const auto end = value.is_number_unsigned()
                         ? std::to_chars(digits, digits + sizeof digits, value.get<std::uint64_t>()).ptr
                         : std::to_chars(digits, digits + sizeof digits, value.get<std::int64_t>()).ptr;
    out.append(digits, end);
}

}  // namespace

// The same bytes as nlohmann's compact dump with invalid UTF-8 replaced, but written straight
// into out: the serializer spent its time escaping byte by byte through a buffer of its own,
// and asked the locale for the decimal point each time it was built (twice a reply). Structure,
// integers and plain ASCII strings are written here; floats, binary values and strings that
// need escaping or UTF-8 checks go to nlohmann, value by value. Members come sorted, from
// nlohmann's std::map, as in its dump.
void dump_into(std::string& out, const json& value) {
    switch (value.type()) {
        case json::value_t::null: out += "null"; return;
        case json::value_t::boolean: out += value.get<bool>() ? "true" : "false"; return;
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: append_integer(out, value); return;
        case json::value_t::string: {
            const auto& s = value.get_ref<const std::string&>();
            if (plain_ascii(s)) append_quoted(out, s);
            else nlohmann_dump_into(out, value);
            return;
        }
        case json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& element : value) {
                if (!first) out += ',';
                first = false;
                dump_into(out, element);
            }
            out += ']';
            return;
        }
        case json::value_t::object: {
            out += '{';
            bool first = true;
            for (auto it = value.begin(); it != value.end(); ++it) {
                if (!first) out += ',';
                first = false;
                if (plain_ascii(it.key())) append_quoted(out, it.key());
                else nlohmann_dump_into(out, json(it.key()));
                out += ':';
                dump_into(out, it.value());
            }
            out += '}';
            return;
        }
        default: nlohmann_dump_into(out, value); return;  // float, binary, discarded
    }
}

namespace {

RpcFrame fail(int code, std::string message, json id = nullptr) {
    RpcFrame frame;
    frame.error = RpcFrameError{code, std::move(message), std::move(id)};
    return frame;
}

bool valid_id(const json& id) { return id.is_string() || id.is_number() || id.is_null(); }

}  // namespace

namespace {

// Recursive descent over the subset parse_plain_json takes; false as soon as the text leaves it.
class PlainJsonParser {
public:
    PlainJsonParser(std::string_view text, std::size_t max_depth)
        : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

    bool document(json& out) {
        skip_space();
        if (!value(out, 0)) return false;
        skip_space();
        return p_ == end_;
    }

private:
    void skip_space() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
        p_ += word.size();
        return true;
    }

    bool value(json& out, std::size_t depth) {
        if (p_ == end_) return false;
        switch (*p_) {
            case '{': return object(out, depth + 1);
            case '[': return array(out, depth + 1);
            case '"': {
                std::string s;
                if (!string(s)) return false;
                out = std::move(s);
                return true;
            }
            case 't': return literal("true") && (out = true, true);
            case 'f': return literal("false") && (out = false, true);
            case 'n': return literal("null") && (out = nullptr, true);
            default: return number(out);
        }
    }

    // Printable ASCII up to the closing quote; a backslash or any other byte is not plain.
    bool string(std::string& out) {
        const char* start = ++p_;
        while (p_ != end_) {
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                out.assign(start, p_);
                ++p_;
                return true;
            }
            if (c < 0x20 || c >= 0x80 || c == '\\') return false;
            ++p_;
        }
        return false;
    }

    // -?(0|[1-9][0-9]*) with at most 18 digits and neither fraction nor exponent: exact in an
    // int64, and json::parse stores it unsigned unless it is negative.
    bool number(json& out) {
        const bool negative = *p_ == '-';
        if (negative) ++p_;
        const char* digits = p_;
        std::uint64_t v = 0;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<std::uint64_t>(*p_++ - '0');
        const auto n = p_ - digits;
        if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return false;
        if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
        if (negative) out = -static_cast<std::int64_t>(v);
        else out = v;
        return true;
    }

    bool array(json& out, std::size_t depth) {
        if (depth > max_depth_) return false;
        ++p_;
        out = json::array();
        skip_space();
        if (p_ != end_ && *p_ == ']') return ++p_, true;
        for (;;) {
            skip_space();
            out.push_back(nullptr);
            if (!value(out.back(), depth)) return false;
            skip_space();
            if (p_ == end_) return false;
            if (*p_ == ']') return ++p_, true;
            if (*p_++ != ',') return false;
        }
    }

    bool object(json& out, std::size_t depth) {
        if (depth > max_depth_) return false;
        ++p_;
        out = json::object();
        skip_space();
        if (p_ != end_ && *p_ == '}') return ++p_, true;
        for (;;) {
            skip_space();
            std::string key;
            if (p_ == end_ || *p_ != '"' || !string(key)) return false;
            skip_space();
            if (p_ == end_ || *p_++ != ':') return false;
            skip_space();
            // A repeated key keeps the last value, as json::parse does.
            if (!value(out[std::move(key)], depth)) return false;
            skip_space();
            if (p_ == end_) return false;
            if (*p_ == '}') return ++p_, true;
            if (*p_++ != ',') return false;
        }
    }

    const char* p_;
    const char* end_;
    std::size_t max_depth_;
};

}  // namespace

bool parse_plain_json(std::string_view text, std::size_t max_depth, json& out) {
    json value;
    if (!PlainJsonParser(text, max_depth).document(value)) return false;
    out = std::move(value);
    return true;
}

std::size_t json_nesting_depth(std::string_view text, std::size_t stop_at) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
            case '"': in_string = true; break;
            case '[':
            case '{':
                if (++depth > deepest) {
                    deepest = depth;
                    if (deepest > stop_at) return stop_at + 1;
                }
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default: break;
        }
    }
    return deepest;
}

RpcFrame parse_rpc_frame(std::string_view text, const RpcLimits& limits) {
    if (text.size() > limits.max_frame_bytes) return fail(rpc_code::invalid_request, "frame too large");
    json value;
    // Plain text parses without the depth scan: the plain parser bounds the depth itself, and
    // on text it takes (valid, no escapes) it counts the brackets the scan would count.
    if (!parse_plain_json(text, limits.max_depth, value)) {
        if (json_nesting_depth(text, limits.max_depth) > limits.max_depth)
            return fail(rpc_code::invalid_request, "nesting too deep");
        value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    }
    if (value.is_discarded()) return fail(rpc_code::parse_error, "parse error");
    if (value.is_array()) return fail(rpc_code::invalid_request, "batch requests are not supported");
    if (!value.is_object()) return fail(rpc_code::invalid_request, "request must be an object");

    const auto id_it = value.find("id");
    const bool has_id = id_it != value.end();
    json id = has_id && valid_id(*id_it) ? *id_it : json(nullptr);
    if (has_id && !valid_id(*id_it)) return fail(rpc_code::invalid_request, "id must be a string, number or null");

    const auto version = value.find("jsonrpc");
    if (version == value.end() || !version->is_string() || version->get_ref<const std::string&>() != "2.0")
        return fail(rpc_code::invalid_request, "jsonrpc must be \"2.0\"", id);

    const auto method = value.find("method");
    if (method == value.end() || !method->is_string())
        return fail(rpc_code::invalid_request, "method must be a string", id);

    RpcRequest request;
    request.is_notification = !has_id;
    request.id = std::move(id);
    request.method = std::move(method->get_ref<std::string&>());
    const auto params = value.find("params");
    if (params != value.end()) {
        if (!params->is_object() && !params->is_array())
            return fail(rpc_code::invalid_request, "params must be an object or an array", request.id);
        request.params = std::move(*params);
    }
    RpcFrame frame;
    frame.request = std::move(request);
    return frame;
}

// The envelopes are written around the serialized value instead of building a json that
// holds a copy of it (a deep copy per reply was a tenth of a compose.check's cost). Members
// come in the order nlohmann's std::map would give them (sorted), so the bytes are unchanged.
std::string rpc_result(const json& id, const json& result) {
    // Most replies fit: one allocation instead of a string grown by doubling.
    std::string out;
    out.reserve(1024);
    out += "{\"id\":";
    dump_into(out, id);
    out += ",\"jsonrpc\":\"2.0\",\"result\":";
    dump_into(out, result);
    out += '}';
    return out;
}

std::string rpc_error(const json& id, int code, std::string_view message, const json& data) {
    json error{{"code", code}, {"message", message}};
    if (!data.is_null()) error["data"] = data;
    std::string out = "{\"error\":";
    dump_into(out, error);
    out += ",\"id\":";
    dump_into(out, id);
    out += ",\"jsonrpc\":\"2.0\"}";
    return out;
}

std::string rpc_notification(std::string_view method, const json& params) {
    std::string out = "{\"jsonrpc\":\"2.0\",\"method\":";
    dump_into(out, json(method));
    out += ",\"params\":";
    dump_into(out, params);
    out += '}';
    return out;
}

}  // namespace rapport::api

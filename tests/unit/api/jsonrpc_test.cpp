#include <catch2/catch.hpp>

#include "jsonrpc.hpp"

using namespace rapport::api;
using nlohmann::json;

TEST_CASE("a well-formed request is parsed", "[api][jsonrpc]") {
    const RpcFrame f = parse_rpc_frame(R"({"jsonrpc":"2.0","id":7,"method":"status","params":{"a":1}})");
    REQUIRE(f.request);
    CHECK_FALSE(f.error);
    CHECK(f.request->id == 7);
    CHECK(f.request->method == "status");
    CHECK(f.request->params == json{{"a", 1}});
    CHECK_FALSE(f.request->is_notification);
}

TEST_CASE("absent params become an empty object; string and null ids are kept", "[api][jsonrpc]") {
    RpcFrame f = parse_rpc_frame(R"({"jsonrpc":"2.0","id":"x","method":"status"})");
    REQUIRE(f.request);
    CHECK(f.request->params == json::object());
    CHECK(f.request->id == "x");
    f = parse_rpc_frame(R"({"jsonrpc":"2.0","id":null,"method":"status"})");
    REQUIRE(f.request);
    CHECK(f.request->id.is_null());
    CHECK_FALSE(f.request->is_notification);
}

TEST_CASE("a request without id is a notification", "[api][jsonrpc]") {
    const RpcFrame f = parse_rpc_frame(R"({"jsonrpc":"2.0","method":"status"})");
    REQUIRE(f.request);
    CHECK(f.request->is_notification);
}

TEST_CASE("malformed JSON is a parse error with id null", "[api][jsonrpc]") {
    for (const char* text : {"", "{", "{\"jsonrpc\":\"2.0\",", "nul", "\xff\xfe", "{\"a\":\"\xc3\x28\"}"}) {
        const RpcFrame f = parse_rpc_frame(text);
        REQUIRE(f.error);
        CHECK(f.error->code == rpc_code::parse_error);
        CHECK(f.error->id.is_null());
    }
}

TEST_CASE("invalid requests get -32600, with the id when it was readable", "[api][jsonrpc]") {
    struct Case {
        const char* text;
        json id;
    };
    const Case cases[] = {
        {R"([{"jsonrpc":"2.0","id":1,"method":"a"}])", nullptr},  // batch
        {R"([])", nullptr},
        {R"(42)", nullptr},
        {R"("hello")", nullptr},
        {R"({"jsonrpc":"1.0","id":1,"method":"a"})", 1},
        {R"({"id":2,"method":"a"})", 2},
        {R"({"jsonrpc":2.0,"id":3,"method":"a"})", 3},
        {R"({"jsonrpc":"2.0","id":4})", 4},
        {R"({"jsonrpc":"2.0","id":5,"method":7})", 5},
        {R"({"jsonrpc":"2.0","id":6,"method":"a","params":"x"})", 6},
        {R"({"jsonrpc":"2.0","id":6,"method":"a","params":null})", 6},
        {R"({"jsonrpc":"2.0","id":{"x":1},"method":"a"})", nullptr},
        {R"({"jsonrpc":"2.0","id":[1],"method":"a"})", nullptr},
        {R"({"jsonrpc":"2.0","id":true,"method":"a"})", nullptr},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const RpcFrame f = parse_rpc_frame(c.text);
        REQUIRE(f.error);
        CHECK_FALSE(f.request);
        CHECK(f.error->code == rpc_code::invalid_request);
        CHECK(f.error->id == c.id);
    }
}

TEST_CASE("nesting and size are bounded before parsing", "[api][jsonrpc]") {
    std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"a","params":)";
    for (int i = 0; i < 100000; ++i) deep += '[';
    RpcFrame f = parse_rpc_frame(deep, RpcLimits{1 << 20, 32});
    REQUIRE(f.error);
    CHECK(f.error->code == rpc_code::invalid_request);
    CHECK(f.error->message == "nesting too deep");

    // Brackets inside strings do not count.
    f = parse_rpc_frame(R"({"jsonrpc":"2.0","id":1,"method":"a","params":{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}})",
                        RpcLimits{1 << 20, 4});
    CHECK(f.request);

    f = parse_rpc_frame(std::string(70000, ' '));
    REQUIRE(f.error);
    CHECK(f.error->message == "frame too large");
}

TEST_CASE("json_nesting_depth skips strings and escapes", "[api][jsonrpc]") {
    CHECK(json_nesting_depth("{}", 10) == 1);
    CHECK(json_nesting_depth(R"({"a":[{"b":[]}]})", 10) == 4);
    CHECK(json_nesting_depth(R"({"a":"\"[[[["})", 10) == 1);
    CHECK(json_nesting_depth("[[[[[[", 3) == 4);
}

TEST_CASE("replies and notifications are serialized as JSON-RPC 2.0", "[api][jsonrpc]") {
    CHECK(json::parse(rpc_result(1, json{{"ok", true}})) ==
          json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"ok", true}}}});
    CHECK(json::parse(rpc_error(nullptr, rpc_code::parse_error, "parse error")) ==
          json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", -32700}, {"message", "parse error"}}}});
    CHECK(json::parse(rpc_error("a", 5, "m", json{{"k", 1}}))["error"]["data"] == json{{"k", 1}});
    CHECK(json::parse(rpc_notification("notify", json{{"id", 3}})) ==
          json{{"jsonrpc", "2.0"}, {"method", "notify"}, {"params", {{"id", 3}}}});
}

TEST_CASE("invalid UTF-8 in a result is replaced, not thrown", "[api][jsonrpc]") {
    const std::string out = rpc_result(1, json{{"subject", std::string("caf\xe9")}});
    CHECK(json::parse(out)["result"]["subject"] == "caf\xef\xbf\xbd");
}

namespace {

std::string nlohmann_bytes(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string dumped(const json& v) {
    std::string out = "prefix:";
    dump_into(out, v);
    return out;
}

// A random tree of every kind of value, with strings that are plain, need escapes, hold UTF-8
// or hold broken UTF-8.
json random_value(std::uint32_t& seed, int depth) {
    auto next = [&seed] { return seed = seed * 1664525u + 1013904223u, seed >> 8; };
    static const char* const strings[] = {"", "plain", "a\"b", "back\\slash", "tab\tnew\nline", "\x01\x1f\x7f",
                                          "caf\xc3\xa9", "\xe2\x82\xac\xf0\x9d\x84\x9e", "bad \xff", "cut \xe2\x82",
                                          "over \xc0\xaf", "sur \xed\xa0\x80", "/slash/"};
    switch (next() % (depth > 3 ? 6 : 8)) {
        case 0: return nullptr;
        case 1: return next() % 2 == 0;
        case 2: return -static_cast<std::int64_t>(next()) * 977;
        case 3: return static_cast<std::uint64_t>(next()) << 40;
        case 4: return static_cast<double>(next()) / 7.0;
        case 5: return strings[next() % (sizeof strings / sizeof *strings)];
        case 6: {
            json a = json::array();
            for (auto n = next() % 4; n > 0; --n) a.push_back(random_value(seed, depth + 1));
            return a;
        }
        default: {
            json o = json::object();
            for (auto n = next() % 4; n > 0; --n)
                o[strings[next() % (sizeof strings / sizeof *strings)]] = random_value(seed, depth + 1);
            return o;
        }
    }
}

}  // namespace

TEST_CASE("dump_into writes the bytes of nlohmann's dump, appended", "[api][jsonrpc]") {
    for (const json& v : {json(nullptr), json(true), json(false), json(0), json(-1), json(INT64_MIN), json(INT64_MAX),
                          json(UINT64_MAX), json(1.5), json(-0.0), json(1e300), json(0.1), json(""), json("plain"),
                          json("quote\" back\\ /"), json("\b\f\n\r\t\x01\x1f\x7f"), json(std::string("nul\0x", 5)),
                          json("\xc3\xa9\xe2\x82\xac"), json("\xff\xfe"), json::array(), json::object(),
                          json::parse(R"({"b":[1,{"z":null,"a":"x"}],"a":{},"\u00e9":"k","q\"":1})"),
                          json::binary({1, 2, 3})}) {
        INFO(nlohmann_bytes(v));
        CHECK(dumped(v) == "prefix:" + nlohmann_bytes(v));
    }
    std::uint32_t seed = 12345;
    for (int i = 0; i < 2000; ++i) {
        const json v = random_value(seed, 0);
        INFO(nlohmann_bytes(v));
        REQUIRE(dumped(v) == "prefix:" + nlohmann_bytes(v));
    }
}

namespace {

// Same value and the same number types all the way down (json's == compares 1 and 1u equal).
bool identical(const json& a, const json& b) {
    if (a.type() != b.type() || a != b) return false;
    if (a.is_array())
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!identical(a[i], b[i])) return false;
    if (a.is_object())
        for (auto it = a.begin(); it != a.end(); ++it)
            if (!identical(it.value(), b.at(it.key()))) return false;
    return true;
}

// Text in the plain subset: every kind of value it has, with random spacing.
std::string plain_text(std::uint32_t& seed, int depth) {
    auto next = [&seed] { return seed = seed * 1664525u + 1013904223u, seed >> 8; };
    static const char* const spaces[] = {"", "", " ", "\n\t ", "\r\n"};
    static const char* const atoms[] = {"true", "false", "null", "0", "-0", "7", "-42", "123456789012345678",
                                        "-123456789012345678", "\"\"", "\"a b\"", "\"2.0\"", "\"x@y.example\"",
                                        "\"~}{][:,\x7f\""};
    const std::string sp = spaces[next() % 5];
    switch (depth > 3 ? 0 : next() % 3) {
        case 0: return sp + atoms[next() % (sizeof atoms / sizeof *atoms)] + sp;
        case 1: {
            std::string t = sp + "[";
            for (auto n = next() % 4, i = 0u; i < n; ++i) t += (i ? "," : "") + plain_text(seed, depth + 1);
            return t + sp + "]";
        }
        default: {
            std::string t = sp + "{";
            for (auto n = next() % 4, i = 0u; i < n; ++i)
                t += (i ? "," : "") + sp + "\"k" + std::to_string(next() % 3) + "\"" + sp + ":" + plain_text(seed, depth + 1);
            return t + sp + "}";
        }
    }
}

}  // namespace

TEST_CASE("parse_plain_json takes the plain subset and gives json::parse's value, else leaves the text to it",
          "[api][jsonrpc]") {
    std::uint32_t seed = 777;
    int taken = 0, mutants_taken = 0;
    for (int i = 0; i < 3000; ++i) {
        const std::string text = plain_text(seed, 0);
        INFO(text);
        json plain;
        REQUIRE(parse_plain_json(text, 32, plain));
        REQUIRE(identical(plain, json::parse(text)));
        ++taken;
        // Mutants: a character dropped, added or replaced; any the plain parser takes must be
        // JSON that json::parse reads the same.
        static const char mutations[] = "{}[]:,\"\\ 0-1.eE+tfnx\x01\xc3";
        for (int m = 0; m < 8 && !text.empty(); ++m) {
            std::string mutant = text;
            const std::size_t at = (seed = seed * 1664525u + 1013904223u) % mutant.size();
            const char c = mutations[(seed >> 16) % (sizeof mutations - 1)];
            if (m % 3 == 0) mutant.erase(at, 1);
            else if (m % 3 == 1) mutant.insert(at, 1, c);
            else mutant[at] = c;
            INFO(mutant);
            json got;
            if (!parse_plain_json(mutant, 32, got)) continue;
            ++mutants_taken;
            const json reference = json::parse(mutant, nullptr, false);
            REQUIRE_FALSE(reference.is_discarded());
            REQUIRE(identical(got, reference));
        }
    }
    CHECK(taken == 3000);
    CHECK(mutants_taken > 1000);
    // Outside the subset: left to json::parse.
    json v;
    for (const char* text : {"1.5", "1e3", "\"a\\nb\"", "\"\xc3\xa9\"", "1234567890123456789", "01", "-", "[1,]",
                             "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "tru", "nul", "\"open", "{} x", "\xef\xbb\xbf{}", ""}) {
        INFO(text);
        CHECK_FALSE(parse_plain_json(text, 32, v));
    }
    // Depth: up to the limit and no further.
    CHECK(parse_plain_json("[[[1]]]", 3, v));
    CHECK_FALSE(parse_plain_json("[[[1]]]", 2, v));
    CHECK(parse_plain_json(R"({"a":{"b":[]}})", 3, v));
    CHECK_FALSE(parse_plain_json(R"({"a":{"b":[]}})", 2, v));
    // A repeated key keeps the last value, as json::parse does.
    REQUIRE(parse_plain_json(R"({"a":1,"a":[2]})", 32, v));
    CHECK(identical(v, json::parse(R"({"a":1,"a":[2]})")));
}

TEST_CASE("frames that are too deep are refused whether or not they are plain", "[api][jsonrpc]") {
    const std::string deep_plain = std::string(40, '[') + std::string(40, ']');
    const std::string deep_escaped = std::string(40, '[') + "\"\\n\"" + std::string(40, ']');
    for (const auto& text : {deep_plain, deep_escaped}) {
        const RpcFrame f = parse_rpc_frame(text, RpcLimits{64 * 1024, 32});
        REQUIRE(f.error);
        CHECK(f.error->message == "nesting too deep");
    }
}

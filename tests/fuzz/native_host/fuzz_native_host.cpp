// rapportctl native-host reads whatever arrives on stdin (Thunderbird's framing: 4-byte
// little-endian length + JSON). Any input ends in a clean exit status, and everything it writes
// is well-framed JSON objects: an answer or an {"error"} sentence.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "native_host.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream out, err;
    int calls = 0;
    const int status = rapport::cli::run_native_host(in, out, err, [&] {
        if (++calls % 2 == 0) throw std::runtime_error("the settings file cannot be read");
        return nlohmann::json{{"port", 7717}, {"token", std::string(64, 'a')}, {"user", {{"name", "M"}, {"address", "m@x"}}}};
    });
    if (status != 0 && status != 1) std::abort();
    const std::string written = out.str();
    std::size_t at = 0;
    while (at < written.size()) {
        if (written.size() - at < 4) std::abort();
        const auto* p = reinterpret_cast<const unsigned char*>(written.data() + at);
        const std::size_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (std::size_t(p[3]) << 24);
        if (written.size() - at - 4 < n) std::abort();
        const auto reply = nlohmann::json::parse(written.substr(at + 4, n), nullptr, false);
        if (!reply.is_object() || (!reply.contains("error") && !reply.contains("port"))) std::abort();
        at += 4 + n;
    }
    return 0;
}

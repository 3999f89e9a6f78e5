// rapportctl native-host: Mozilla's native-messaging protocol on stdin/stdout (CONTRACT.md), so
// that the Thunderbird add-on pairs with rapportd without copy-paste.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

namespace rapport::cli {

// The gecko id of plugins/thunderbird (manifest.json); the only extension the host answers.
inline constexpr const char* kAddonId = "rapport@rapport.invalid";
// Messages from Thunderbird are a few bytes; anything this big is not from the add-on.
inline constexpr std::size_t kMaxNativeMessage = 64 * 1024;

// Answers {"method":"connection"} with connection() ({"port","token","user"}); connection()
// throws std::runtime_error with a sentence saying what to fix, sent as {"error": …}. Returns
// the exit status: 0 at end of input, 1 after a framing error (told on stderr and, when
// possible, as an {"error"} message).
int run_native_host(std::istream& in, std::ostream& out, std::ostream& err, const std::function<nlohmann::json()>& connection);

// True when argv looks like Mozilla's launch of a host: [manifest path ending in .json, id].
bool launched_by_mozilla(int argc, char** argv);

// Writes the user manifest (~/.mozilla/native-messaging-hosts/rapport.json, or into dir) naming
// this executable; returns the path written.
std::string install_user_manifest(const std::string& dir);

}  // namespace rapport::cli

#pragma once
// SASL pieces of the IMAP client's logins, pure: base64 both ways, and the initial responses of
// the two OAuth 2.0 mechanisms servers offer for access tokens —
//   XOAUTH2 (Google, Microsoft):  "user=" U ^A "auth=Bearer " T ^A ^A
//   OAUTHBEARER (RFC 7628):       "n,a=" U' "," ^A "host=" H ^A "port=" P ^A "auth=Bearer " T ^A ^A
// where U' is U with "," and "=" escaped as "=2C" and "=3D" (RFC 5801 saslname).
// A refused token is answered with a challenge holding a JSON error (base64) before the NO;
// describe_oauth_error turns it into text fit for a log line and `status`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rapport::imap {

enum class OAuthMechanism { xoauth2, oauthbearer };
const char* to_string(OAuthMechanism m);  // "XOAUTH2", "OAUTHBEARER"

namespace sasl {

std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 (padding required, no whitespace); nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

// A token or user name that could break the SASL framing (control characters such as the ^A
// separator, spaces, non-ASCII bytes) is refused: true when `token` is fit to send. Real access
// tokens are printable ASCII (RFC 6750 b64token; Google's "ya29.", Microsoft's "EwB…").
bool valid_access_token(std::string_view token);
bool valid_user(std::string_view user);

std::string xoauth2_response(std::string_view user, std::string_view token);
std::string oauthbearer_response(std::string_view user, std::string_view token, std::string_view host,
                                 std::uint16_t port);

// The client's answer to the error challenge, which the server needs before it sends its NO:
// an empty response for XOAUTH2, a single ^A for OAUTHBEARER (RFC 7628 3.2.3). Base64, so the
// XOAUTH2 one is "".
std::string_view error_challenge_reply(OAuthMechanism m);

// The decoded challenge made safe to show: printable ASCII only, at most 300 characters, or
// "" when it is not base64 or decodes to nothing printable.
std::string describe_oauth_error(std::string_view challenge_base64);

}  // namespace sasl
}  // namespace rapport::imap

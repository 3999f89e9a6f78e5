#include "sasl.hpp"

namespace rapport::imap {

const char* to_string(OAuthMechanism m) {
    return m == OAuthMechanism::xoauth2 ? "XOAUTH2" : "OAUTHBEARER";
}

namespace sasl {

namespace {
constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool printable_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}
}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += kTable[(v >> 18) & 63];
        out += kTable[(v >> 12) & 63];
        out += kTable[(v >> 6) & 63];
        out += kTable[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += kTable[(v >> 18) & 63];
        out += kTable[(v >> 12) & 63];
        out += i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<std::size_t>(k)];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) return std::nullopt;  // data after padding
            v[k] = sextet(c);
            if (v[k] < 0) return std::nullopt;
        }
        const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                           (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

bool valid_access_token(std::string_view token) { return !token.empty() && printable_ascii(token); }

bool valid_user(std::string_view user) {
    if (user.empty()) return false;
    for (unsigned char c : user)
        if (c < 0x20 || c == 0x7f) return false;  // spaces and UTF-8 are fine in a user name
    return true;
}

std::string xoauth2_response(std::string_view user, std::string_view token) {
    std::string r = "user=";
    r.append(user.data(), user.size());
    r += "\x01" "auth=Bearer ";
    r.append(token.data(), token.size());
    r += "\x01\x01";
    return r;
}

std::string oauthbearer_response(std::string_view user, std::string_view token, std::string_view host,
                                 std::uint16_t port) {
    std::string r = "n,a=";
    for (char c : user) {
        if (c == ',') r += "=2C";
        else if (c == '=') r += "=3D";
        else r += c;
    }
    r += ",\x01" "host=";
    r.append(host.data(), host.size());
    r += "\x01" "port=" + std::to_string(port);
    r += "\x01" "auth=Bearer ";
    r.append(token.data(), token.size());
    r += "\x01\x01";
    return r;
}

std::string_view error_challenge_reply(OAuthMechanism m) { return m == OAuthMechanism::xoauth2 ? "" : "AQ=="; }

std::string describe_oauth_error(std::string_view challenge) {
    while (!challenge.empty() && challenge.front() == ' ') challenge.remove_prefix(1);
    while (!challenge.empty() && challenge.back() == ' ') challenge.remove_suffix(1);
    if (challenge.size() > 16 * 1024) return "";
    auto decoded = base64_decode(challenge);
    if (!decoded) return "";
    std::string out;
    for (unsigned char c : *decoded) {
        if (out.size() >= 300) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    }
    const bool blank = out.find_first_not_of(' ') == std::string::npos;
    return blank ? "" : out;
}

}  // namespace sasl
}  // namespace rapport::imap

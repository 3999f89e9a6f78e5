#include "smtp/smtp_server.hpp"

#include <algorithm>
#include <cstring>

#include "api/secret_compare.hpp"

namespace rapport::smtp {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool istarts(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 4648 base64 as SASL uses it (no line breaks, padding required). nullopt on any other byte.
std::optional<std::string> base64_decode(std::string_view in) {
    if (in.size() % 4 != 0) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t i = 0; i < in.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = in[i + k];
            if (c == '=' && i + 4 == in.size() && k >= 2) {
                v[k] = 0;
                ++pad;
            } else {
                if (pad) return std::nullopt;  // data after padding
                v[k] = value(c);
                if (v[k] < 0) return std::nullopt;
            }
        }
        const unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
        out.push_back(static_cast<char>((n >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

// "<path>" at the start of `s` (after optional spaces; RFC 5321 has none, many clients send
// one). Returns the path without <> and the rest of the line, or nullopt.
std::optional<std::pair<std::string, std::string_view>> take_path(std::string_view s) {
    s = trim(s);
    if (s.empty() || s.front() != '<') return std::nullopt;
    bool quoted = false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted) {
            if (c == '\\' && i + 1 < s.size()) ++i;
            else if (c == '"') quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '>') {
            std::string path(s.substr(1, i - 1));
            // A source route ("@a,@b:user@c") is ignored, as RFC 5321 4.1.1.3 asks.
            if (!path.empty() && path.front() == '@') {
                const auto colon = path.find(':');
                if (colon == std::string::npos) return std::nullopt;
                path.erase(0, colon + 1);
            }
            return std::make_pair(path, s.substr(i + 1));
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> split_params(std::string_view s) {
    std::vector<std::string_view> out;
    s = trim(s);
    while (!s.empty()) {
        const auto sp = s.find(' ');
        out.push_back(s.substr(0, sp));
        if (sp == std::string_view::npos) break;
        s = trim(s.substr(sp + 1));
    }
    return out;
}

}  // namespace

bool plausible_mailbox(std::string_view a, bool utf8) {
    if (a.empty() || a.size() > 254) return false;
    bool quoted = false;
    std::size_t at = std::string_view::npos;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto c = static_cast<unsigned char>(a[i]);
        if (c < 0x20 || c == 0x7f) return false;  // never a control character, CR or LF
        if (c >= 0x80 && !utf8) return false;
        if (quoted) {
            if (c == '\\' && i + 1 < a.size()) ++i;
            else if (c == '"') quoted = false;
            continue;
        }
        if (c == '"') quoted = true;
        else if (c == ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '(' || c == ')' || c == '[' ||
                 c == ']' || c == '\\')
            return false;
        else if (c == '@') at = i;
    }
    if (quoted || at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
    const std::string_view domain = a.substr(at + 1);
    if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos) return false;
    return true;
}

SmtpSession::SmtpSession(SessionConfig config) : config_(std::move(config)) {}

std::string SmtpSession::greeting() const {
    return "220 " + config_.hostname + " ESMTP rapportd submission (AUTH with the Rapport API token)\r\n";
}

std::string SmtpSession::format_reply(int code, const std::vector<std::string>& lines) {
    std::string out;
    const std::string c = std::to_string(code);
    for (std::size_t i = 0; i < lines.size() || (i == 0 && lines.empty()); ++i) {
        std::string line = i < lines.size() ? lines[i] : std::string();
        // Whatever a reply carries (an upstream's text too) must not break the framing.
        for (auto& ch : line)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
        if (line.size() > 500) line.resize(500);
        out += c + (i + 1 < lines.size() ? "-" : " ") + line + "\r\n";
    }
    return out;
}

void SmtpSession::push(int code, const std::string& text) {
    Event e;
    e.kind = Event::Kind::reply;
    e.text = format_reply(code, {text});
    out_.push_back(std::move(e));
}

void SmtpSession::push_close(int code, const std::string& text) {
    Event e;
    e.kind = Event::Kind::close;
    e.text = format_reply(code, {text});
    out_.push_back(std::move(e));
    closed_ = true;
}

void SmtpSession::error(int code, const std::string& text) {
    if (++errors_ > config_.max_errors) {
        push_close(421, "4.7.0 Too many errors; closing the connection");
        return;
    }
    push(code, text);
}

Event SmtpSession::timeout_event() const {
    Event e;
    e.kind = Event::Kind::close;
    e.text = format_reply(421, {"4.4.2 " + config_.hostname + " Idle too long; closing the connection"});
    return e;
}

void SmtpSession::receive(std::string_view bytes) {
    if (closed_) return;
    in_.append(bytes.data(), bytes.size());
}

void SmtpSession::compact() {
    // Erasing the consumed prefix only now and then keeps byte-by-byte input linear.
    if (pos_ == in_.size()) {
        in_.clear();
        pos_ = 0;
    } else if (pos_ > (64u << 10) && pos_ > in_.size() / 2) {
        in_.erase(0, pos_);
        pos_ = 0;
    }
}

void SmtpSession::reset_transaction() {
    in_transaction_ = false;
    envelope_ = Envelope{};
    data_.clear();
    data_.shrink_to_fit();
    data_too_big_ = data_bare_newline_ = data_nul_ = data_long_line_ = false;
}

std::optional<Event> SmtpSession::next() {
    while (out_.empty() && !closed_ && !waiting_) {
        const std::size_t limit = phase_ == Phase::data ? config_.max_data_line : config_.max_command_line;
        const char* begin = in_.data() + pos_;
        const std::size_t avail = in_.size() - pos_;
        const void* lf = std::memchr(begin, '\n', avail);
        if (!lf) {
            if (avail <= limit + 1) break;  // need more input (the +1: the CR before LF)
            // An over-long line: its start is dropped now and the rest up to LF later, so a
            // 2 MB line costs no more memory than `limit`.
            const bool first = !discarding_;
            discarding_ = true;
            pos_ = in_.size();
            compact();
            if (phase_ == Phase::data) {
                data_long_line_ = true;
            } else if (first) {
                if (phase_ != Phase::command) phase_ = Phase::command;  // an AUTH exchange ends
                error(500, "5.5.2 Line too long (the limit is " + std::to_string(limit) + " bytes)");
            }
            continue;
        }
        const std::size_t len = static_cast<const char*>(lf) - begin;
        const std::string_view line(begin, len);
        pos_ += len + 1;
        if (discarding_) {
            discarding_ = false;  // the tail of an over-long line: never a command, never "."
            compact();
            continue;
        }
        if (len > limit + 1) {
            // The same verdict as when the line arrives in pieces (above), so that how the
            // bytes were split never changes the outcome.
            if (phase_ == Phase::data) {
                data_long_line_ = true;
            } else {
                phase_ = Phase::command;
                error(500, "5.5.2 Line too long (the limit is " + std::to_string(limit) + " bytes)");
            }
            compact();
            continue;
        }
        if (phase_ == Phase::data) {
            data_line(line, true);
        } else {
            std::string_view l = line;
            if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
            if (phase_ == Phase::command) command(l);
            else auth_response(l);
        }
        compact();
    }
    if (out_.empty()) return std::nullopt;
    Event e = std::move(out_.front());
    out_.pop_front();
    return e;
}

void SmtpSession::data_line(std::string_view line, bool /*complete*/) {
    const bool crlf = !line.empty() && line.back() == '\r';
    std::string_view content = crlf ? line.substr(0, line.size() - 1) : line;
    if (!crlf) data_bare_newline_ = true;  // a bare LF: never a line end, never the end of DATA
    if (crlf && content == ".") {
        phase_ = Phase::command;
        std::string refusal;
        int code = 554;
        if (data_too_big_) {
            code = 552;
            refusal = "5.3.4 Message exceeds the size limit of " + std::to_string(config_.max_message_size) + " bytes";
        } else if (data_bare_newline_) {
            refusal = "5.6.11 Message contains a bare LF or CR; lines must end with CRLF "
                      "(SMTP smuggling protection, CVE-2023-51764)";
        } else if (data_nul_) {
            refusal = "5.6.0 Message contains a NUL byte";
        } else if (data_long_line_) {
            refusal = "5.6.0 Message has a line longer than " + std::to_string(config_.max_data_line) + " bytes";
        }
        if (!refusal.empty()) {
            reset_transaction();
            push(code, refusal + "; it was not sent");
            return;
        }
        Event e;
        e.kind = Event::Kind::message;
        e.envelope = std::move(envelope_);
        e.data = std::move(data_);
        reset_transaction();
        waiting_ = true;
        out_.push_back(std::move(e));
        return;
    }
    if (content.find('\r') != std::string_view::npos) data_bare_newline_ = true;
    if (content.find('\0') != std::string_view::npos) data_nul_ = true;
    if (!content.empty() && content.front() == '.') content.remove_prefix(1);  // dot-unstuffing
    if (data_too_big_) return;
    if (data_.size() + content.size() + 2 > config_.max_message_size) {
        data_too_big_ = true;
        data_.clear();
        data_.shrink_to_fit();
        return;
    }
    data_.append(content.data(), content.size());
    data_ += crlf ? "\r\n" : "\n";
}

void SmtpSession::deliver_result(int code, std::string_view text) {
    if (!waiting_) return;
    waiting_ = false;
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto nl = text.find('\n', start);
        std::string line(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    if (code < 200 || code > 599) code = 451;  // a verdict that is no verdict keeps the mail with the client
    Event e;
    e.kind = Event::Kind::reply;
    e.text = format_reply(code, lines);
    out_.push_back(std::move(e));
}

void SmtpSession::command(std::string_view line) {
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
        error(500, "5.5.2 Syntax error: bare CR or NUL in the command");
        return;
    }
    const auto sp = line.find(' ');
    const std::string_view verb = line.substr(0, sp);
    const std::string_view arg = sp == std::string_view::npos ? std::string_view() : trim(line.substr(sp + 1));
    if (!authenticated_ && ++commands_before_auth_ > config_.max_commands_before_auth) {
        push_close(421, "4.7.0 Too many commands without AUTH; closing the connection");
        return;
    }
    if (iequals(verb, "EHLO") || iequals(verb, "HELO")) {
        if (arg.empty()) {
            error(501, "5.5.4 " + std::string(verb) + " needs a domain or address literal");
            return;
        }
        reset_transaction();
        greeted_ = true;
        if (iequals(verb, "HELO")) {
            push(250, config_.hostname);
            return;
        }
        Event e;
        e.kind = Event::Kind::reply;
        e.text = format_reply(250, {config_.hostname, "PIPELINING", "8BITMIME", "SMTPUTF8",
                                    "SIZE " + std::to_string(config_.max_message_size), "AUTH PLAIN LOGIN",
                                    "ENHANCEDSTATUSCODES"});
        out_.push_back(std::move(e));
        return;
    }
    if (iequals(verb, "NOOP")) return push(250, "2.0.0 OK");
    if (iequals(verb, "RSET")) {
        reset_transaction();
        return push(250, "2.0.0 OK");
    }
    if (iequals(verb, "QUIT")) return push_close(221, "2.0.0 Bye");
    if (iequals(verb, "HELP")) return push(214, "2.0.0 See docs/submission.md of Rapport");
    if (iequals(verb, "VRFY")) return push(252, "2.5.0 Cannot VRFY; send the mail and see");
    if (iequals(verb, "AUTH")) {
        if (!greeted_) return error(503, "5.5.1 Send EHLO first");
        if (authenticated_) return error(503, "5.5.1 Already authenticated");
        if (in_transaction_) return error(503, "5.5.1 AUTH is not allowed during a mail transaction");
        const auto sp2 = arg.find(' ');
        const std::string_view mech = arg.substr(0, sp2);
        const std::string_view initial = sp2 == std::string_view::npos ? std::string_view() : trim(arg.substr(sp2 + 1));
        if (iequals(mech, "PLAIN")) {
            if (initial.empty()) {
                phase_ = Phase::auth_plain;
                return push(334, "");
            }
            phase_ = Phase::auth_plain;
            return auth_response(initial == "=" ? std::string_view() : initial);
        }
        if (iequals(mech, "LOGIN")) {
            if (initial.empty()) {
                phase_ = Phase::auth_login_user;
                return push(334, "VXNlcm5hbWU6");  // "Username:"
            }
            phase_ = Phase::auth_login_user;
            return auth_response(initial);
        }
        return error(504, "5.5.4 Unrecognised authentication mechanism; use PLAIN or LOGIN");
    }
    if (iequals(verb, "MAIL")) {
        if (!greeted_) return error(503, "5.5.1 Send EHLO first");
        if (!authenticated_) return error(530, "5.7.0 Authentication required (AUTH with the Rapport API token)");
        if (in_transaction_) return error(503, "5.5.1 Nested MAIL command");
        if (!istarts(arg, "FROM:")) return error(501, "5.5.4 Syntax: MAIL FROM:<address>");
        auto path = take_path(arg.substr(5));
        if (!path) return error(501, "5.1.7 Syntax: MAIL FROM:<address>");
        Envelope env;
        for (auto p : split_params(path->second)) {
            if (istarts(p, "SIZE=")) {
                const auto digits = p.substr(5);
                if (digits.empty() || digits.size() > 12 ||
                    !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
                    return error(501, "5.5.4 SIZE needs a number");
                env.declared_size = std::stoull(std::string(digits));
                if (*env.declared_size > config_.max_message_size)
                    return error(552, "5.3.4 Message size exceeds the limit of " +
                                          std::to_string(config_.max_message_size) + " bytes");
            } else if (iequals(p, "BODY=8BITMIME")) {
                env.eight_bit = true;
            } else if (iequals(p, "BODY=7BIT")) {
                env.eight_bit = false;
            } else if (iequals(p, "SMTPUTF8")) {
                env.smtputf8 = true;
            } else if (istarts(p, "AUTH=")) {
                // RFC 4954 5: an identity for relaying; meaningless to a submission server.
            } else {
                return error(555, "5.5.4 Unsupported MAIL parameter " + std::string(p.substr(0, 64)));
            }
        }
        if (!path->first.empty() && !plausible_mailbox(path->first, env.smtputf8))
            return error(553, "5.1.7 The sender is not a mail address");
        env.mail_from = path->first;
        envelope_ = std::move(env);
        in_transaction_ = true;
        return push(250, "2.1.0 Sender OK");
    }
    if (iequals(verb, "RCPT")) {
        if (!in_transaction_) return error(503, "5.5.1 Need MAIL before RCPT");
        if (!istarts(arg, "TO:")) return error(501, "5.5.4 Syntax: RCPT TO:<address>");
        auto path = take_path(arg.substr(3));
        if (!path) return error(501, "5.1.3 Syntax: RCPT TO:<address>");
        if (!split_params(path->second).empty()) return error(555, "5.5.4 RCPT parameters are not supported");
        if (!plausible_mailbox(path->first, envelope_.smtputf8))
            return error(553, "5.1.3 The recipient is not a mail address");
        if (envelope_.recipients.size() >= config_.max_recipients)
            return push(452, "4.5.3 Too many recipients (the limit is " + std::to_string(config_.max_recipients) + ")");
        envelope_.recipients.push_back(path->first);
        return push(250, "2.1.5 Recipient OK");
    }
    if (iequals(verb, "DATA")) {
        if (!arg.empty()) return error(501, "5.5.4 DATA takes no argument");
        if (!in_transaction_) return error(503, "5.5.1 Need MAIL before DATA");
        if (envelope_.recipients.empty()) return error(554, "5.5.1 No valid recipients");
        phase_ = Phase::data;
        data_.clear();
        return push(354, "End data with <CR><LF>.<CR><LF>");
    }
    if (iequals(verb, "STARTTLS")) return error(502, "5.5.1 Not offered: this listener is on loopback only");
    if (iequals(verb, "BDAT")) return error(502, "5.5.1 CHUNKING is not offered");
    error(500, "5.5.1 Unrecognised command");
}

void SmtpSession::auth_response(std::string_view line) {
    if (line == "*") {
        phase_ = Phase::command;
        return error(501, "5.7.0 Authentication cancelled");
    }
    auto decoded = base64_decode(line);
    if (!decoded) {
        phase_ = Phase::command;
        return error(501, "5.5.2 Cannot decode the AUTH response (base64)");
    }
    switch (phase_) {
        case Phase::auth_plain: {
            phase_ = Phase::command;
            // authzid NUL authcid NUL password; any user name is accepted (CONTRACT.md).
            const auto first = decoded->find('\0');
            const auto second = first == std::string::npos ? std::string::npos : decoded->find('\0', first + 1);
            if (second == std::string::npos) return error(501, "5.5.2 Malformed AUTH PLAIN response");
            return check_password(std::string_view(*decoded).substr(second + 1));
        }
        case Phase::auth_login_user:
            phase_ = Phase::auth_login_password;
            return push(334, "UGFzc3dvcmQ6");  // "Password:"
        case Phase::auth_login_password:
            phase_ = Phase::command;
            return check_password(*decoded);
        default:
            phase_ = Phase::command;
            return;
    }
}

void SmtpSession::check_password(std::string_view password) {
    if (!config_.token.empty() && api::constant_time_equals(password, config_.token)) {
        authenticated_ = true;
        return push(235, "2.7.0 Authentication successful");
    }
    Event e;
    e.kind = Event::Kind::reply_after_delay;
    e.text = format_reply(535, {"5.7.8 Authentication credentials invalid (the password is the Rapport API token: "
                                "rapportctl token)"});
    out_.push_back(std::move(e));
    if (++auth_failures_ >= config_.max_auth_failures)
        push_close(421, "4.7.0 Too many failed AUTH attempts; closing the connection");
}

}  // namespace rapport::smtp

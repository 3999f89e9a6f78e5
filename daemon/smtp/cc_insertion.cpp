#include "smtp/cc_insertion.hpp"

#include "smtp/smtp_server.hpp"

namespace rapport::smtp {
namespace {

bool is_atext_phrase(std::string_view s) {
    if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
                        std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

std::string base64(std::string_view in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const unsigned b0 = static_cast<unsigned char>(in[i]);
        const unsigned b1 = i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) : 0;
        const unsigned b2 = i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0;
        const unsigned n = (b0 << 16) | (b1 << 8) | b2;
        out += t[(n >> 18) & 63];
        out += t[(n >> 12) & 63];
        out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? t[n & 63] : '=';
    }
    return out;
}

// RFC 2047 words of at most 75 characters, split between UTF-8 characters (a word must hold
// whole characters: RFC 2047 5(3)).
std::string encoded_words(std::string_view utf8) {
    std::string out;
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::size_t end = i;
        // 45 bytes of text give 60 base64 characters: 12 of "=?UTF-8?B?" + "?=" fit in 75.
        while (end < utf8.size() && end - i < 45) {
            std::size_t len = 1;
            const auto c = static_cast<unsigned char>(utf8[end]);
            if (c >= 0xf0) len = 4;
            else if (c >= 0xe0) len = 3;
            else if (c >= 0xc0) len = 2;
            if (end + len - i > 45 && end > i) break;
            end += len;
        }
        if (end > utf8.size()) end = utf8.size();
        if (!out.empty()) out += ' ';
        out += "=?UTF-8?B?" + base64(utf8.substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

bool ieq(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace

std::size_t header_block_end(std::string_view m) {
    if (m.substr(0, 2) == "\r\n") return 0;
    const auto p = m.find("\r\n\r\n");
    return p == std::string_view::npos ? m.size() : p + 2;
}

std::optional<std::string> format_mailbox(std::string_view name, std::string_view address) {
    // Only what the rules validation produces: plain ASCII addr-specs.
    if (!plausible_mailbox(address, false)) return std::nullopt;
    for (char c : address)
        if (c == '"') return std::nullopt;  // quoted local parts never come from the rules
    std::string clean;
    bool cut = false;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';
        if (c == ' ' && (clean.empty() || clean.back() == ' ')) continue;
        if (clean.size() >= 200) {
            cut = true;
            break;
        }
        clean += c;
    }
    // Do not cut a UTF-8 character in half at the 200-byte limit.
    if (cut) {
        while (!clean.empty() && (static_cast<unsigned char>(clean.back()) & 0xc0) == 0x80) clean.pop_back();
        if (!clean.empty() && static_cast<unsigned char>(clean.back()) >= 0xc0) clean.pop_back();
    }
    while (!clean.empty() && clean.back() == ' ') clean.pop_back();
    if (clean.empty()) return std::string(address);
    bool ascii = true;
    for (char c : clean)
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    std::string phrase;
    if (!ascii) {
        phrase = encoded_words(clean);
    } else if (is_atext_phrase(clean)) {
        phrase = clean;
    } else {
        phrase = "\"";
        for (char c : clean) {
            if (c == '"' || c == '\\') phrase += '\\';
            phrase += c;
        }
        phrase += '"';
    }
    return phrase + " <" + std::string(address) + ">";
}

CcInsertion insert_cc(std::string_view message, const std::vector<CcAddition>& owners) {
    CcInsertion result;
    std::vector<std::string> mailboxes;
    for (const auto& o : owners) {
        if (auto m = format_mailbox(o.name, o.address)) {
            mailboxes.push_back(*m);
            result.added.push_back(o.address);
        }
    }
    if (mailboxes.empty()) {
        result.message = std::string(message);
        return result;
    }
    const std::size_t end = header_block_end(message);
    // Find the first Cc field and the offset of the CRLF that ends it.
    std::optional<std::size_t> cc_value, cc_crlf;
    std::size_t pos = 0;
    while (pos < end) {
        std::size_t eol = message.find("\r\n", pos);
        if (eol == std::string_view::npos || eol >= end) eol = end;
        const std::string_view line = message.substr(pos, eol - pos);
        const bool continuation = !line.empty() && (line.front() == ' ' || line.front() == '\t');
        if (cc_value && !cc_crlf && !continuation) cc_crlf = pos - 2;  // the previous line's CRLF
        if (!continuation && !cc_value) {
            const auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                std::string_view name = line.substr(0, colon);
                while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
                if (ieq(name, "cc")) cc_value = pos + colon + 1;
            }
        }
        if (cc_value && cc_crlf) break;
        pos = eol + 2;
    }
    std::string insert;
    std::size_t at = 0;
    if (cc_value && !cc_crlf) {
        // The Cc field is the last header line. Before an empty line its CRLF is at end - 2;
        // in a header-only message without a final CRLF the field runs to the end.
        if (end >= 2 && message.substr(end - 2, 2) == "\r\n" && end - 2 >= *cc_value) cc_crlf = end - 2;
        else cc_crlf = end;
    }
    if (cc_value) {
        bool empty = true, trailing_comma = false;
        for (std::size_t i = *cc_value; i < *cc_crlf; ++i) {
            const char c = message[i];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
            empty = false;
            trailing_comma = c == ',';
        }
        for (std::size_t i = 0; i < mailboxes.size(); ++i) {
            if (i == 0 && empty) {
                const char before = *cc_crlf > 0 ? message[*cc_crlf - 1] : ':';
                insert += (before == ' ' || before == '\t') ? "" : " ";
            } else if (i == 0 && trailing_comma) {
                insert += "\r\n ";
            } else {
                insert += ",\r\n ";
            }
            insert += mailboxes[i];
        }
        at = *cc_crlf;
    } else {
        insert = "Cc: ";
        for (std::size_t i = 0; i < mailboxes.size(); ++i) insert += (i ? ",\r\n " : "") + mailboxes[i];
        insert += "\r\n";
        at = end;
        // A header-only message without a final CRLF: end its last line first.
        if (at > 0 && at == message.size() && message.substr(at - std::min<std::size_t>(at, 2)) != "\r\n")
            insert = "\r\n" + insert;
    }
    result.offset = at;
    result.length = insert.size();
    result.message.reserve(message.size() + insert.size());
    result.message.append(message.substr(0, at));
    result.message.append(insert);
    result.message.append(message.substr(at));
    return result;
}

}  // namespace rapport::smtp

#include "mime/mail_body.hpp"

#include <vmime/vmime.hpp>
#include <vmime/contentTypeField.hpp>

#include <algorithm>

#include "mime/charset.hpp"
#include "mime/encoded_words.hpp"
#include "mime/message_headers.hpp"
#include "mime/parse_context.hpp"
#include "rapport/utf8.hpp"

namespace rapport::mime {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

// Where the header block ends: the first empty line (CRLF or LF).
std::size_t header_end(std::string_view raw) {
    if (raw.rfind("\r\n", 0) == 0 || raw.rfind("\n", 0) == 0) return 0;
    const auto crlf = raw.find("\r\n\r\n");
    const auto lf = raw.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) return raw.size();
    if (crlf == std::string_view::npos) return lf + 1;
    if (lf == std::string_view::npos) return crlf + 2;
    return std::min(crlf + 2, lf + 1);
}

// Every field of a header block, unfolded and decoded (RFC 2047), names lower case.
void read_fields(std::string_view block, std::size_t max_fields, MailBody& body) {
    std::vector<std::string> warnings;
    ParseContext ctx(warnings, 10, 1000);
    std::string name, value;
    auto flush = [&] {
        if (name.empty() || body.headers.size() >= max_fields) return;
        std::string decoded;
        decode_unstructured(decoded, value.substr(0, 4000), ctx);
        while (!decoded.empty() && (decoded.front() == ' ' || decoded.front() == '\t')) decoded.erase(0, 1);
        while (!decoded.empty() && (decoded.back() == ' ' || decoded.back() == '\t')) decoded.pop_back();
        body.headers.emplace_back(lower(name), std::move(decoded));
        name.clear();
        value.clear();
    };
    std::size_t pos = 0;
    while (pos < block.size()) {
        std::size_t nl = block.find('\n', pos);
        if (nl == std::string_view::npos) nl = block.size();
        std::string_view line = block.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (!name.empty() && value.size() < 8000) (value += ' ') += std::string(line.substr(1));
        } else if (const auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
            flush();
            name = std::string(line.substr(0, colon));
            value = std::string(line.substr(colon + 1));
        }
        pos = nl + 1;
    }
    flush();
}

// More multipart declarations than any real message has: vmime parses parts recursively, so a
// hostile nesting would cost it stack and time. Counted on the raw text, before parsing.
std::size_t multipart_declarations(std::string_view raw) {
    std::size_t n = 0;
    const std::string lowered = lower(raw);
    for (std::size_t at = lowered.find("multipart/"); at != std::string::npos; at = lowered.find("multipart/", at + 1))
        ++n;
    return n;
}

std::string to_utf8(const std::string& bytes, const std::string& charset) {
    std::string out;
    if (charset.empty() || !append_decoded(out, charset, bytes)) {
        out.clear();
        append_utf8_sanitized(out, bytes);  // unknown or broken charset: keep what is readable
    }
    return out;
}

class Walker {
public:
    Walker(const BodyLimits& limits, MailBody& body) : limits_(limits), body_(body) {}

    void walk(const vmime::bodyPart& part, int depth) {
        if (++parts_ > limits_.max_parts || depth > limits_.max_depth) {
            body_.truncated = true;
            return;
        }
        const auto& header = *part.getHeader();
        std::string type = "text", subtype = "plain", charset;
        if (auto field = header.findField(vmime::fields::CONTENT_TYPE)) {
            if (auto media = field->getValue<vmime::mediaType>()) {
                type = lower(media->getType());
                subtype = lower(media->getSubType());
            }
            if (auto ctf = vmime::dynamicCast<vmime::contentTypeField>(field))
                if (ctf->hasCharset()) charset = ctf->getCharset().getName();
        }
        const auto& b = *part.getBody();
        if (type == "multipart") {
            for (std::size_t i = 0; i < b.getPartCount(); ++i) walk(*b.getPartAt(i), depth + 1);
            return;
        }
        const std::string media = type + "/" + subtype;
        if (media == "message/rfc822" || media == "text/rfc822-headers") return returned(decoded(b));
        if (media == "message/delivery-status" || media == "message/global-delivery-status") {
            if (body_.delivery_status.size() < 20) body_.delivery_status.push_back(to_utf8(decoded(b), "utf-8"));
            return;
        }
        if (type != "text") return;
        if (auto cd = header.findField(vmime::fields::CONTENT_DISPOSITION))
            if (auto disp = cd->getValue<vmime::contentDisposition>())
                if (lower(disp->getName()) == "attachment") return;
        if (subtype == "plain") append(plain_, to_utf8(decoded(b), charset));
        else if (subtype == "html") append(html_, to_utf8(decoded(b), charset));
    }

    void finish() {
        std::string& text = body_.text;
        if (!plain_.empty()) text = std::move(plain_);
        else text = html_to_text(html_, limits_.max_text_bytes);
    }

private:
    std::string decoded(const vmime::body& b) {
        std::string out;
        try {
            vmime::utility::outputStreamStringAdapter os(out);
            b.getContents()->extract(os);
        } catch (const std::exception&) {
            // A broken transfer encoding: keep what was decoded before the fault.
        }
        if (out.size() > limits_.max_part_bytes) {
            out.resize(limits_.max_part_bytes);
            body_.truncated = true;
        }
        return out;
    }

    void append(std::string& to, const std::string& text) {
        if (to.size() >= limits_.max_text_bytes) {
            body_.truncated = true;
            return;
        }
        if (!to.empty()) to += "\n";
        std::size_t n = std::min(text.size(), limits_.max_text_bytes - std::min(limits_.max_text_bytes, to.size()));
        if (n < text.size()) {
            body_.truncated = true;
            // Cut at a character boundary: the text stays valid UTF-8.
            while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
        }
        to.append(text, 0, n);
    }

    void returned(const std::string& message) {
        if (!body_.returned_message_id.empty()) return;
        const std::string_view block = std::string_view(message).substr(0, header_end(message));
        const MessageHeaders h = parse_message_headers(block.substr(0, 64 << 10));
        body_.returned_message_id = h.message_id;
        for (const auto& a : h.to) body_.returned_to.push_back(a.address);
        for (const auto& a : h.cc) body_.returned_to.push_back(a.address);
    }

    const BodyLimits& limits_;
    MailBody& body_;
    std::size_t parts_ = 0;
    std::string plain_, html_;
};

bool starts_with_ci(std::string_view s, std::size_t at, std::string_view word) {
    if (at + word.size() > s.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
        char c = s[at + i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != word[i]) return false;
    }
    return true;
}

void append_entity(std::string& out, std::string_view name) {
    static const std::pair<const char*, uint32_t> named[] = {
        {"nbsp", 0xA0}, {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
        {"auml", 0xE4}, {"ouml", 0xF6}, {"uuml", 0xFC}, {"Auml", 0xC4}, {"Ouml", 0xD6}, {"Uuml", 0xDC},
        {"szlig", 0xDF}, {"eacute", 0xE9}, {"egrave", 0xE8}, {"agrave", 0xE0}, {"ccedil", 0xE7},
        {"aacute", 0xE1}, {"iacute", 0xED}, {"oacute", 0xF3}, {"uacute", 0xFA}, {"ntilde", 0xF1},
        {"rsquo", 0x2019}, {"lsquo", 0x2018}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"ndash", 0x2013},
        {"mdash", 0x2014}, {"hellip", 0x2026}, {"euro", 0x20AC}};
    if (!name.empty() && name.front() == '#') {
        uint32_t cp = 0;
        bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
        for (std::size_t i = hex ? 2 : 1; i < name.size() && cp <= 0x10FFFF; ++i) {
            const char c = name[i];
            const int d = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return;
            cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
        }
        if (cp == 0) cp = 0xFFFD;
        utf8::append(out, cp);
        return;
    }
    for (const auto& [n, cp] : named)
        if (name == n) return utf8::append(out, cp);
    ((out += '&') += std::string(name)) += ';';
}

}  // namespace

std::string html_to_text(std::string_view html, std::size_t max_bytes) {
    std::string out;
    std::size_t i = 0;
    while (i < html.size() && out.size() < max_bytes) {
        const char c = html[i];
        if (c == '<') {
            const std::size_t close = html.find('>', i);
            if (close == std::string_view::npos) break;
            const std::string_view tag = html.substr(i + 1, close - i - 1);
            const bool end_tag = !tag.empty() && tag.front() == '/';
            std::string name;
            for (std::size_t k = end_tag ? 1 : 0; k < tag.size() && name.size() < 16; ++k) {
                const char t = tag[k];
                if (!((t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9'))) break;
                name += static_cast<char>(t >= 'A' && t <= 'Z' ? t + 32 : t);
            }
            if (!end_tag && (name == "script" || name == "style" || name == "head" || name == "title")) {
                // Skip to the matching end tag.
                std::size_t end = close;
                while (true) {
                    end = html.find("</", end);
                    if (end == std::string_view::npos || starts_with_ci(html, end + 2, name)) break;
                    end += 2;
                }
                if (end == std::string_view::npos) break;
                const std::size_t gt = html.find('>', end);
                i = gt == std::string_view::npos ? html.size() : gt + 1;
                continue;
            }
            const std::string lowered_tag = [&] {
                std::string t(tag.substr(0, 200));
                for (auto& ch : t)
                    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
                return t;
            }();
            const bool quote = !end_tag && (name == "blockquote" || lowered_tag.find("gmail_quote") != std::string::npos ||
                                            lowered_tag.find("divrplyfwdmsg") != std::string::npos ||
                                            lowered_tag.find("moz-cite-prefix") != std::string::npos);
            if (quote) out += "\n> ";
            else if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "li" || name == "table" ||
                     name == "h1" || name == "h2" || name == "h3" || name == "hr")
                out += '\n';
            else if (name == "td" || name == "th")
                out += ' ';
            i = close + 1;
        } else if (c == '&') {
            const std::size_t semi = html.find(';', i);
            if (semi != std::string_view::npos && semi - i <= 10) {
                append_entity(out, html.substr(i + 1, semi - i - 1));
                i = semi + 1;
            } else {
                out += '&';
                ++i;
            }
        } else {
            out += c;
            ++i;
        }
    }
    std::string clean;
    append_utf8_sanitized(clean, out);
    return clean;
}

MailBody read_mail_body(std::string_view raw, const BodyLimits& limits) {
    MailBody body;
    if (raw.size() > limits.max_input_bytes) {
        raw = raw.substr(0, limits.max_input_bytes);
        body.truncated = true;
    }
    const std::string_view block = raw.substr(0, header_end(raw));
    read_fields(block.substr(0, 256 << 10), limits.max_header_fields, body);
    const MessageHeaders h = parse_message_headers(block);
    if (!h.from.empty()) {
        body.from_address = h.from.front().address;
        body.from_name = h.from.front().name;
    }
    for (const auto& a : h.to) body.to.push_back(a.address);
    body.subject = h.subject;
    body.content_type = h.content_type;
    body.report_type = h.content_type_report_type;
    if (multipart_declarations(raw) > limits.max_multiparts) {
        body.skipped = "more than " + std::to_string(limits.max_multiparts) + " multipart parts";
        return body;
    }
    try {
        vmime::message message;
        message.parse(vmime::string(raw.data(), raw.size()));
        Walker walker(limits, body);
        walker.walk(message, 0);
        walker.finish();
    } catch (const std::exception& e) {
        body.skipped = std::string("unreadable MIME structure: ") + e.what();
    }
    return body;
}

}  // namespace rapport::mime

#include "mime/draft_message.hpp"

#include <vmime/vmime.hpp>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "rapport/utf8.hpp"

namespace rapport::mime {

namespace {

bool atext(char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) return true;
    switch (ch) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

bool dot_atom(const std::string& s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos) return false;
    for (char ch : s)
        if (ch != '.' && !atext(ch)) return false;
    return true;
}

// Message-ID as RFC 5322 msg-id with dot-atom sides: what vmime then writes back unchanged.
bool valid_message_id(const std::string& id, std::string& left, std::string& right) {
    if (id.size() < 5 || id.size() > 250 || id.front() != '<' || id.back() != '>') return false;
    const std::string inner = id.substr(1, id.size() - 2);
    const auto at = inner.find('@');
    if (at == std::string::npos || inner.find('@', at + 1) != std::string::npos) return false;
    left = inner.substr(0, at);
    right = inner.substr(at + 1);
    return dot_atom(left) && dot_atom(right);
}

// The draft id goes into a header and, later, into IMAP's UID SEARCH HEADER: a plain token.
bool valid_draft_id(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (char ch : id) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                        ch == '.' || ch == '_' || ch == '-' || ch == '@' || ch == '+';
        if (!ok) return false;
    }
    return true;
}

// Howard Hinnant's civil_from_days: the inverse of rapport/civil_days.hpp.
void civil_from_days(int64_t z, int& y, int& m, int& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

vmime::datetime date_of(int64_t epoch, int offset_minutes) {
    const int64_t local = epoch + static_cast<int64_t>(offset_minutes) * 60;
    int64_t days = local / 86400;
    int64_t secs = local % 86400;
    if (secs < 0) secs += 86400, --days;
    int y = 0, m = 0, d = 0;
    civil_from_days(days, y, m, d);
    return vmime::datetime(y, m, d, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                           static_cast<int>(secs % 60), offset_minutes);
}

// The body as it goes into quoted-printable: valid UTF-8, no control characters but TAB, CRLF
// line ends, ending with one CRLF.
std::string crlf_body(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 2);
    for (std::size_t i = 0; i < text.size();) {
        std::uint32_t cp = 0;
        if (!utf8::decode(text, i, cp)) {
            ++i;
            cp = 0xFFFD;
        }
        if (cp == '\r') {
            if (i < text.size() && text[i] == '\n') ++i;
            out += "\r\n";
        } else if (cp == '\n') {
            out += "\r\n";
        } else if (cp == '\t' || !(cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))) {
            utf8::append(out, cp);
        }
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

// Quoted-printable (RFC 2045 6.7) of CRLF text, done here rather than by vmime: vmime 0.9.2's
// encoder counts CR and LF as columns and never resets at a hard line break, so its soft
// breaks land anywhere — also between CR and LF, which leaves a bare CR and a bare LF. Encoded
// lines are at most 76 bytes; a UTF-8 sequence is never split across a soft break; a space or
// TAB before a line end is encoded; a line starting with "." or "From " has that first
// character encoded, so the text survives SMTP and mbox tools unchanged if the draft is sent.
std::string quoted_printable(const std::string& crlf_text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(crlf_text.size() * 11 / 10 + 16);
    std::size_t line_start = 0;
    while (line_start < crlf_text.size()) {
        const std::size_t line_end = crlf_text.find("\r\n", line_start);
        const std::string_view line(crlf_text.data() + line_start, line_end - line_start);
        std::size_t col = 0;
        std::string token;
        for (std::size_t i = 0; i < line.size();) {
            token.clear();
            const auto b = static_cast<unsigned char>(line[i]);
            std::size_t len = 1;
            if (b >= 0x80) {
                std::size_t k = i;
                std::uint32_t cp = 0;
                len = utf8::decode(line, k, cp) ? k - i : 1;
            }
            const bool at_start = i == 0;
            const bool at_end = i + len == line.size();
            const bool literal = len == 1 && b != '=' &&
                                 ((b >= 33 && b <= 126) || ((b == ' ' || b == '\t') && !at_end)) &&
                                 !(at_start && (b == '.' || (b == 'F' && line.substr(0, 5) == "From ")));
            if (literal) {
                token += static_cast<char>(b);
            } else {
                for (std::size_t k = 0; k < len; ++k) {
                    const auto c = static_cast<unsigned char>(line[i + k]);
                    token += '=';
                    token += hex[c >> 4];
                    token += hex[c & 0xF];
                }
            }
            if (col + token.size() > 75) {  // 75 + the soft break's "=" = 76
                out += "=\r\n";
                col = 0;
            }
            out += token;
            col += token.size();
            i += len;
        }
        out += "\r\n";
        line_start = line_end + 2;
    }
    return out;
}

// A mailbox written the way the draft needs it. vmime 0.9.2 folds inside an addr-spec
// ("<lb@acme.\r\n example>", obsolete syntax that clients misread) and encodes every ASCII name
// with a comma or a dot as a us-ascii encoded word. Here: an ASCII name is a quoted-string
// (quotes and backslashes escaped; it has no control characters, clean_draft_address saw to
// that), a name with non-ASCII text or "=?" (which decoders would take for an encoded word) is
// one UTF-8 encoded word sequence by vmime's RFC 2047 encoder, and a line is folded only before
// the name or before "<address>".
class DraftMailbox : public vmime::mailbox {
public:
    explicit DraftMailbox(const DraftAddress& a)
        : vmime::mailbox(vmime::emailAddress(a.address.substr(0, a.address.rfind('@')),
                                             a.address.substr(a.address.rfind('@') + 1))),
          draft_(a) {}

    vmime::shared_ptr<vmime::component> clone() const override { return vmime::make_shared<DraftMailbox>(draft_); }

protected:
    void generateImpl(const vmime::generationContext& ctx, vmime::utility::outputStream& os,
                      const std::size_t cur_line_pos, std::size_t* new_line_pos) const override {
        const std::size_t max = ctx.getMaxLineLength();
        const std::string& addr = draft_.address;
        std::size_t pos = cur_line_pos;
        if (draft_.name.empty()) {
            if (pos > 1 && pos + addr.size() > max) os << "\r\n ", pos = 1;
            os << addr;
            pos += addr.size();
        } else {
            const std::string& name = draft_.name;
            const bool ascii = std::all_of(name.begin(), name.end(), [](char ch) {
                return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7F;
            });
            if (ascii && name.find("=?") == std::string::npos) {
                std::string quoted = "\"";
                for (char ch : name) {
                    if (ch == '"' || ch == '\\') quoted += '\\';
                    quoted += ch;
                }
                quoted += '"';
                if (pos > 1 && pos + quoted.size() > max) os << "\r\n ", pos = 1;
                os << quoted;
                pos += quoted.size();
            } else {
                vmime::text t;
                t.appendWord(vmime::make_shared<vmime::word>(name, vmime::charset(vmime::charsets::UTF_8)));
                // vmime's folder is approximate: it overshoots its limit by up to 3 bytes and
                // gives the same output for limits 74 to 78. 8 bytes of margin keep the line
                // within 78 (the tests check every golden header line).
                vmime::generationContext tight(ctx);
                tight.setMaxLineLength(max > 16 ? max - 8 : max);
                // A name that fits on a line of its own goes there whole: split into several
                // encoded words it is still correct, but some readers (Python's email
                // package, for one) then show a space where the words meet.
                std::string alone;
                vmime::utility::outputStreamStringAdapter probe(alone);
                std::size_t probe_pos = 1;
                t.encodeAndFold(tight, probe, 1, &probe_pos, vmime::text::FORCE_ENCODING);
                if (pos > 1 && alone.find('\n') == std::string::npos && pos + alone.size() > tight.getMaxLineLength())
                    os << "\r\n ", pos = 1;
                t.encodeAndFold(tight, os, pos, &pos, vmime::text::FORCE_ENCODING);
            }
            if (pos + addr.size() + 3 > max) os << "\r\n", pos = 0;
            os << " <" << addr << ">";
            pos += addr.size() + 3;
        }
        if (new_line_pos) *new_line_pos = pos;
    }

private:
    DraftAddress draft_;
};

// The subject as one UTF-8 word: vmime then writes it as it is (ASCII), or encodes all of it
// in encoded words of at most 75 bytes. (vmime::text(string, charset) splits into words of
// their own charsets and loses the space between an encoded and a plain word.)
vmime::text one_word(const std::string& s) {
    vmime::text t;
    if (!s.empty()) t.appendWord(vmime::make_shared<vmime::word>(s, vmime::charset(vmime::charsets::UTF_8)));
    return t;
}

vmime::shared_ptr<vmime::headerField> field(const char* name) {
    return vmime::headerFieldFactory::getInstance()->create(name);
}

// The last line of defence: the properties the rest of the daemon and every IMAP server rely
// on, checked on the final bytes.
void check_wire_form(const std::string& m) {
    const auto end_of_header = m.find("\r\n\r\n");
    if (end_of_header == std::string::npos) throw std::runtime_error("draft message: no header/body separator");
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        const char ch = m[i];
        if (ch == '\0') throw std::runtime_error("draft message: NUL byte");
        if (ch == '\r' && (i + 1 >= m.size() || m[i + 1] != '\n')) throw std::runtime_error("draft message: bare CR");
        if (ch == '\n') {
            if (i == 0 || m[i - 1] != '\r') throw std::runtime_error("draft message: bare LF");
            if (i - 1 - line_start > 998) throw std::runtime_error("draft message: line longer than 998 bytes");
            line_start = i + 1;
        }
    }
}

}  // namespace

std::string build_draft_message(const ComposedDraft& d, const DraftEnvelope& e) {
    std::string reason;
    const auto from = clean_draft_address(e.from, &reason);
    if (!from) throw DraftEnvelopeError("draft From " + clean_line(e.from.address, 80) + ": " + reason);
    std::string id_left, id_right;
    if (!valid_message_id(e.message_id, id_left, id_right))
        throw DraftEnvelopeError("draft Message-ID is not <dot-atom@dot-atom>: " + clean_line(e.message_id, 80));
    if (!valid_draft_id(e.draft_id))
        throw DraftEnvelopeError("draft id is not a token of A-Z a-z 0-9 . _ - @ +: " + clean_line(e.draft_id, 80));
    if (e.utc_offset_minutes <= -24 * 60 || e.utc_offset_minutes >= 24 * 60)
        throw DraftEnvelopeError("draft UTC offset out of range: " + std::to_string(e.utc_offset_minutes));

    auto msg = vmime::make_shared<vmime::message>();
    auto header = msg->getHeader();
    // Fields are appended in the order the message shows them; vmime keeps the spelling given
    // here ("Message-ID", "MIME-Version") and fills Content-Type and Content-Transfer-Encoding
    // from the body when it generates.
    auto f = field("From");
    f->setValue(vmime::make_shared<DraftMailbox>(*from));
    header->appendField(f);
    for (const auto* list : {&d.to, &d.cc}) {
        auto addresses = vmime::make_shared<vmime::addressList>();
        for (const auto& a : *list)
            if (auto clean = clean_draft_address(a)) addresses->appendAddress(vmime::make_shared<DraftMailbox>(*clean));
        if (addresses->isEmpty()) continue;
        f = field(list == &d.to ? "To" : "Cc");
        f->setValue(addresses);
        header->appendField(f);
    }
    f = field("Subject");
    f->setValue(one_word(clean_line(d.subject, ComposeLimits::max_subject_chars)));
    header->appendField(f);
    f = field("Date");
    f->setValue(date_of(e.date_epoch_seconds, e.utc_offset_minutes));
    header->appendField(f);
    f = field("Message-ID");
    f->setValue(vmime::messageId(id_left, id_right));
    header->appendField(f);
    f = field("MIME-Version");
    f->setValue(vmime::string("1.0"));
    header->appendField(f);
    header->appendField(field("Content-Type"));
    header->appendField(field("Content-Transfer-Encoding"));
    f = field("X-Rapport-Draft");
    f->setValue(vmime::string(e.draft_id));
    header->appendField(f);

    // Handed over already encoded, so vmime copies it as it is (see quoted_printable).
    const vmime::encoding qp(vmime::encodingTypes::QUOTED_PRINTABLE);
    msg->getBody()->setContents(vmime::make_shared<vmime::stringContentHandler>(quoted_printable(crlf_body(d.body)), qp),
                                vmime::mediaType(vmime::mediaTypes::TEXT, vmime::mediaTypes::TEXT_PLAIN),
                                vmime::charset(vmime::charsets::UTF_8), qp);

    vmime::generationContext ctx;
    ctx.setMaxLineLength(vmime::lineLengthLimits::convenient);  // 78: RFC 5322's "should"
    ctx.setWrapMessageId(false);
    std::string out;
    vmime::utility::outputStreamStringAdapter os(out);
    msg->generate(ctx, os);
    check_wire_form(out);
    return out;
}

}  // namespace rapport::mime

#include "address_list.hpp"

#include "char_classes.hpp"
#include "charset.hpp"
#include "encoded_words.hpp"
#include "structured_lexer.hpp"

namespace rapport::mime {
namespace {

bool is_atext(unsigned char c) {
    if (c >= 0x80) return true;  // RFC 6532
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}':
        case '~':
            return true;
        default:
            return false;
    }
}

bool is_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '.') {
            if (s[i - 1] == '.') return false;
        } else if (!is_atext(c)) {
            return false;
        }
    }
    return true;
}

// A quoted local part keeps its quotes only if it needs them.
void append_quoted_local(std::string& out, std::string_view raw) {
    std::string content;
    append_unescaped(content, raw);
    if (is_dot_atom(content)) {
        out.append(content);
        return;
    }
    out.push_back('"');
    for (char c : content) {
        if (c == '\r' || c == '\n') continue;
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

void append_address_token(std::string& out, const Token& t) {
    if (t.kind == TokenKind::Quoted)
        append_quoted_local(out, t.text);
    else
        out.append(t.text);
}

std::string decode_comment(std::string_view comment, ParseContext& ctx) {
    std::string unescaped;
    append_unescaped(unescaped, comment);
    std::string name;
    decode_unstructured(name, unescaped, ctx);
    const size_t b = name.find_first_not_of(' ');
    if (b == std::string::npos) return {};
    return name.substr(b, name.find_last_not_of(' ') + 1 - b);
}

std::string_view trim_blank(std::string_view s) {
    while (!s.empty() && char_class(s.front()) == kBlank) s.remove_prefix(1);
    while (!s.empty() && char_class(s.back()) == kBlank) s.remove_suffix(1);
    return s;
}

// The common "local@domain" with nothing to interpret: atext, dots, one '@'. No '?': what
// looks like an encoded word is left to the general parser.
bool is_plain_addr_spec(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    int ats = 0;
    for (char c : s) {
        if (c == '@')
            ++ats;
        else if (!(char_class(c) & (kAtext | kDot)) || c == '?')
            return false;
    }
    return ats == 1 && s.front() != '@' && s.back() != '@';
}

// Names that need no decoding: a quoted string without escapes, or atoms separated by single
// spaces; neither containing an encoded word. Returns false if the general path is needed.
bool plain_phrase(std::string_view s, std::string& out) {
    s = trim_blank(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        s = s.substr(1, s.size() - 2);
        for (size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '"' || c == '\\' || (char_class(c) == kBlank && c != ' ') ||
                (c == '=' && i + 1 < s.size() && s[i + 1] == '?'))
                return false;
        }
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    } else {
        for (size_t i = 0; i < s.size(); ++i) {
            const char c = s[i];
            if (c == ' ') {
                if (s[i + 1] == ' ') return false;  // s is trimmed: i + 1 is in range
            } else if (char_class(c) != kAtext || (c == '=' && i + 1 < s.size() && s[i + 1] == '?')) {
                return false;
            }
        }
    }
    append_utf8_sanitized(out, s);
    return true;
}

bool has_words(std::string_view text) {
    StructuredLexer lx(text);
    return lx.next().kind != TokenKind::End;
}

// Parses one address list, item by item. An item is the text between top-level separators; it
// holds either an angle address (with the display name before it) or a bare addr-spec.
class AddressListParser {
public:
    AddressListParser(std::string_view value, std::string_view field, size_t max_total,
                      std::vector<MailAddress>& out, ParseContext& ctx)
        : v_(value), field_(field), max_total_(max_total), out_(out), ctx_(ctx), lx_(value),
          reserve_hint_(field == "From" ? 1 : 4) {}

    void run() {
        if (out_.size() >= max_total_) {
            if (has_words(v_)) truncated();
            return;
        }
        const size_t resume = simple_items();
        if (resume == kFull || resume >= v_.size()) return;
        lx_ = StructuredLexer(v_, resume);
        item_begin_ = resume;
        for (;;) {
            const Token t = lx_.next();
            if (t.kind == TokenKind::End) {
                finish_item(v_.size());
                break;
            }
            if (t.kind != TokenKind::Special) {
                if (state_ == State::InAngle) ++angle_tokens_;
                continue;
            }
            const char c = t.text[0];
            if (state_ == State::InAngle) {
                if (c == '>') {
                    angle_end_ = t.begin;
                    state_ = State::AfterAngle;
                } else if (c == '<') {  // "a <b <c@d>": the innermost bracket is the address
                    addr_begin_ = t.end;
                    angle_tokens_ = 0;
                    in_route_ = false;
                    continue;
                } else if (c == '@' && angle_tokens_ == 0) {
                    in_route_ = true;
                } else if (c == ':' && in_route_) {
                    addr_begin_ = t.end;
                    in_route_ = false;
                } else if ((c == ',' || c == ';') && !in_route_) {
                    ctx_.warn(field_, "missing '>'", v_.substr(item_begin_, t.begin - item_begin_));
                    angle_end_ = t.begin;
                    state_ = State::AfterAngle;
                    if (!end_item(t, c)) return;
                    continue;
                }
                ++angle_tokens_;
                continue;
            }
            if (c == ',' || c == ';') {
                if (!end_item(t, c)) return;
            } else if (c == '<' && state_ == State::Before) {
                state_ = State::InAngle;
                angle_begin_ = t.begin;
                addr_begin_ = t.end;
                angle_tokens_ = 0;
                in_route_ = false;
            } else if (c == ':' && state_ == State::Before && !in_group_ && !saw_at_) {
                in_group_ = true;  // the group's name is not kept: its members are
                item_begin_ = t.end;
                lx_.forget_comment();
            } else if (c == '@') {
                saw_at_ = true;
            }
        }
        if (lx_.saw_unterminated()) ctx_.warn(field_, "unterminated quote or comment");
    }

private:
    enum class State { Before, InAngle, AfterAngle };
    static constexpr size_t kFull = static_cast<size_t>(-1);

    // The fast path for the shapes nearly all mail uses: `"Name" <a@b>`, `Name <a@b>`, `a@b`,
    // separated by ',' or ';'. Parses such items from the start of the value and returns the
    // offset of the first item that needs the general parser (or kFull when the list is full).
    size_t simple_items() {
        const size_t n = v_.size();
        const char* d = v_.data();
        size_t pos = 0;
        while (pos < n) {
            size_t i = pos;
            while (i < n && char_class(d[i]) == kBlank) ++i;
            const size_t name_begin = i;
            // What the name needs beyond a copy: decoding ("=?", escapes, dots, folding,
            // several words in and out of quotes) or UTF-8 checking (bytes >= 0x80).
            bool needs_phrase = false;
            unsigned char high = 0;
            size_t quoted_end = 0;
            if (i < n && d[i] == '"') {
                ++i;
                while (i < n && d[i] != '"') {
                    const char c = d[i];
                    if (c == '\\') return pos;
                    if (c == '=' || (char_class(c) == kBlank && c != ' ')) needs_phrase = true;
                    high |= static_cast<unsigned char>(c);
                    ++i;
                }
                if (i >= n) return pos;
                quoted_end = ++i;
            }
            size_t lt = n;
            while (i < n) {
                const char c = d[i];
                const uint8_t cls = char_class(c);
                if (cls == kAtext) {
                    if (c == '=') needs_phrase = true;
                    high |= static_cast<unsigned char>(c);
                    ++i;
                } else if (c == ' ') {
                    if (i + 1 < n && d[i + 1] == ' ') needs_phrase = true;
                    ++i;
                } else if (c == '<') {
                    lt = i;
                    break;
                } else if (c == ',' || c == ';') {
                    break;
                } else if (cls & (kBlank | kDot) || c == '@') {
                    needs_phrase = true;
                    ++i;
                } else {
                    return pos;
                }
            }
            if (lt == n) {  // bare
                const std::string_view item = trim_blank(v_.substr(name_begin, i - name_begin));
                if (!item.empty()) {
                    if (!is_plain_addr_spec(item)) return pos;
                    if (!push({}, item)) return kFull;
                }
            } else {
                size_t gt = lt + 1;
                int ats = 0;
                bool plain = true;
                unsigned char addr_high = 0;
                for (; gt < n && d[gt] != '>'; ++gt) {
                    const char c = d[gt];
                    if (c == '@')
                        ++ats;
                    else if (!(char_class(c) & (kAtext | kDot)) || c == '?')
                        plain = false;
                    addr_high |= static_cast<unsigned char>(c);
                }
                if (gt >= n || !plain || ats != 1) return pos;
                const std::string_view address = v_.substr(lt + 1, gt - lt - 1);
                if (address.front() == '.' || address.back() == '.' || address.front() == '@' ||
                    address.back() == '@')
                    return pos;
                i = gt + 1;
                while (i < n && char_class(d[i]) == kBlank) ++i;
                if (i < n && d[i] != ',' && d[i] != ';') return pos;
                std::string name;
                std::string_view raw_name = trim_blank(v_.substr(name_begin, lt - name_begin));
                if (quoted_end != 0 && quoted_end - name_begin != raw_name.size()) needs_phrase = true;
                if (needs_phrase) {
                    name = decode_phrase(raw_name, ctx_);
                } else {
                    if (quoted_end != 0) raw_name = trim_blank(raw_name.substr(1, raw_name.size() - 2));
                    if (high & 0x80)
                        append_utf8_sanitized(name, raw_name);
                    else
                        name.assign(raw_name);
                }
                if (!push_checked(std::move(name), address, (addr_high & 0x80) != 0)) return kFull;
            }
            pos = i < n ? i + 1 : n;  // past the separator
        }
        return n;
    }

    // Returns false when the list is full.
    bool end_item(const Token& t, char c) {
        if (!finish_item(t.begin)) return false;
        if (c == ';') in_group_ = false;
        item_begin_ = t.end;
        return true;
    }

    void truncated() {
        ctx_.warn(field_, "too many addresses; the rest were dropped");
    }

    bool push(std::string name, std::string_view address) {
        return push_checked(std::move(name), address, true);
    }

    // `may_be_invalid`: false if the address is known to be ASCII without NUL.
    bool push_checked(std::string name, std::string_view address, bool may_be_invalid) {
        if (out_.size() >= max_total_) {
            truncated();
            return false;
        }
        if (out_.capacity() == 0) out_.reserve(reserve_hint_);
        out_.emplace_back();
        MailAddress& a = out_.back();
        a.name = std::move(name);
        if (may_be_invalid)
            append_utf8_sanitized(a.address, address);
        else
            a.address.assign(address);
        return true;
    }

    // Returns false when the list is full.
    bool finish_item(size_t end) {
        bool ok = true;
        if (state_ == State::InAngle) {
            ctx_.warn(field_, "missing '>'", v_.substr(angle_begin_, end - angle_begin_));
            angle_end_ = end;
            state_ = State::AfterAngle;
        }
        if (state_ == State::AfterAngle)
            ok = finish_angle_item(end);
        else
            ok = finish_bare_item(v_.substr(item_begin_, end - item_begin_));
        state_ = State::Before;
        saw_at_ = false;
        lx_.forget_comment();
        return ok;
    }

    bool finish_angle_item(size_t end) {
        std::string address;
        const std::string_view inside = v_.substr(addr_begin_, angle_end_ - addr_begin_);
        const std::string_view trimmed = trim_blank(inside);
        if (is_plain_addr_spec(trimmed)) {
            address.assign(trimmed);
        } else {
            StructuredLexer inner(inside);
            for (Token t = inner.next(); t.kind != TokenKind::End; t = inner.next())
                if (t.kind != TokenKind::Special || t.is('.') || t.is('@'))
                    append_address_token(address, t);
        }
        const std::string_view rest = v_.substr(angle_end_ + 1 > end ? end : angle_end_ + 1,
                                                end > angle_end_ + 1 ? end - angle_end_ - 1 : 0);
        if (has_words(rest)) ctx_.warn(field_, "ignored text after address", rest);
        if (address.empty()) {
            ctx_.warn(field_, "skipped empty address", v_.substr(item_begin_, end - item_begin_));
            return true;
        }
        if (address.find('@') == std::string::npos)
            ctx_.warn(field_, "address without domain", address);
        std::string name = decode_phrase(v_.substr(item_begin_, angle_begin_ - item_begin_), ctx_);
        if (name.empty() && !lx_.first_comment().empty())
            name = decode_comment(lx_.first_comment(), ctx_);
        return push(std::move(name), address);
    }

    // local-part "@" domain, where whitespace may surround dots and the '@' (obsolete syntax)
    // but otherwise separates words; words before the local part are taken as a display name.
    bool finish_bare_item(std::string_view item) {
        const std::string_view trimmed = trim_blank(item);
        if (is_plain_addr_spec(trimmed)) return push({}, trimmed);
        StructuredLexer lx(item);
        std::string chain, local;
        size_t chain_begin = 0, local_begin = 0;
        bool joinable = false;  // the last token was '.' or '@'
        bool in_domain = false;
        bool any = false;
        for (Token t = lx.next(); t.kind != TokenKind::End; t = lx.next()) {
            any = true;
            if (t.is('@')) {
                if (in_domain || chain.empty()) return skip(item);
                local = std::move(chain);
                chain.clear();
                local_begin = chain_begin;
                in_domain = true;
                joinable = true;
                continue;
            }
            const bool word = t.kind == TokenKind::Atom || t.kind == TokenKind::Quoted ||
                              (in_domain && t.kind == TokenKind::DomainLiteral) || t.is('.');
            const bool joins = word && (chain.empty() ? (!in_domain || joinable)
                                                      : (!t.space_before || joinable || t.is('.')));
            if (!joins) {
                if (in_domain) {
                    if (!chain.empty()) break;  // the address is complete; the rest is junk
                    return skip(item);
                }
                chain.clear();
                if (!word) continue;
            }
            if (chain.empty()) chain_begin = t.begin;
            append_address_token(chain, t);
            joinable = t.is('.');
        }
        if (!any) return true;  // an empty item: ",," or a trailing comma
        if (!in_domain || chain.empty()) return skip(item);
        std::string address = std::move(local);
        address.push_back('@');
        address.append(chain);
        std::string name = decode_phrase(item.substr(0, local_begin), ctx_);
        if (name.empty() && !lx.first_comment().empty())
            name = decode_comment(lx.first_comment(), ctx_);
        return push(std::move(name), address);
    }

    bool skip(std::string_view item) {
        ctx_.warn(field_, "skipped (no address)", item);
        return true;
    }

    std::string_view v_;
    std::string_view field_;
    size_t max_total_;
    std::vector<MailAddress>& out_;
    ParseContext& ctx_;
    StructuredLexer lx_;
    size_t reserve_hint_;
    State state_ = State::Before;
    size_t item_begin_ = 0, angle_begin_ = 0, addr_begin_ = 0, angle_end_ = 0;
    size_t angle_tokens_ = 0;
    bool in_route_ = false, in_group_ = false, saw_at_ = false;
};

}  // namespace

void parse_address_list(std::string_view value, std::string_view field, size_t max_total,
                        std::vector<MailAddress>& out, ParseContext& ctx) {
    AddressListParser(value, field, max_total, out, ctx).run();
}

std::string decode_phrase(std::string_view text, ParseContext& ctx) {
    std::string out;
    if (plain_phrase(text, out)) return out;
    StructuredLexer lx(text);
    EncodedWordRun run;
    bool prev_encoded = false;
    for (Token t = lx.next(); t.kind != TokenKind::End; t = lx.next()) {
        // "jane@x <jane@x>": keep what reads as an address; drop other stray punctuation.
        if (t.kind == TokenKind::Special && !t.is('.') && !t.is('@')) continue;
        const bool encoded = t.encoded && ctx.take_encoded_word();
        if (encoded && prev_encoded) {
            EncodedWord w;
            match_encoded_word(t.text, w);
            if (run.add(w, out)) continue;
        }
        run.flush(out);
        if (t.space_before && !out.empty()) out.push_back(' ');
        prev_encoded = false;
        if (encoded) {
            EncodedWord w;
            match_encoded_word(t.text, w);
            if (run.add(w, out)) {
                prev_encoded = true;
                continue;
            }
        }
        if (t.kind == TokenKind::Quoted) {
            std::string unescaped;
            append_unescaped(unescaped, t.text);
            decode_unstructured(out, unescaped, ctx);
        } else {
            append_utf8_sanitized(out, t.text);
        }
    }
    run.flush(out);
    const size_t b = out.find_first_not_of(' ');
    if (b == std::string::npos) return {};
    const size_t e = out.find_last_not_of(' ');
    if (b != 0 || e + 1 != out.size()) return out.substr(b, e + 1 - b);
    return out;
}

}  // namespace rapport::mime

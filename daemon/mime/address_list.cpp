#include "address_list.hpp"

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
        : v_(value), field_(field), max_total_(max_total), out_(out), ctx_(ctx), lx_(value) {}

    void run() {
        if (out_.size() >= max_total_) {
            if (has_words(v_)) truncated();
            return;
        }
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

    bool push(std::string name, std::string address) {
        if (out_.size() >= max_total_) {
            truncated();
            return false;
        }
        MailAddress a;
        a.name = std::move(name);
        append_utf8_sanitized(a.address, address);
        out_.push_back(std::move(a));
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
        StructuredLexer inner(v_.substr(addr_begin_, angle_end_ - addr_begin_));
        for (Token t = inner.next(); t.kind != TokenKind::End; t = inner.next())
            if (t.kind != TokenKind::Special || t.is('.') || t.is('@'))
                append_address_token(address, t);
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
        return push(std::move(name), std::move(address));
    }

    // local-part "@" domain, where whitespace may surround dots and the '@' (obsolete syntax)
    // but otherwise separates words; words before the local part are taken as a display name.
    bool finish_bare_item(std::string_view item) {
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
        return push(std::move(name), std::move(address));
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

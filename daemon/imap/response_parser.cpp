#include "response_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>

#include "rapport/ascii.hpp"
#include "sequence_set.hpp"

namespace rapport::imap {

const char* to_string(Errc code) {
    switch (code) {
        case Errc::none: return "ok";
        case Errc::protocol: return "protocol error";
        case Errc::too_large: return "response too large";
        case Errc::rejected: return "rejected by server";
        case Errc::bad_command: return "command refused as invalid";
        case Errc::auth_failed: return "authentication failed";
        case Errc::bye: return "server closed the session";
        case Errc::closed: return "connection closed";
        case Errc::unsupported: return "not supported by server";
        case Errc::invalid_argument: return "invalid argument";
        case Errc::busy: return "connection busy";
        case Errc::wrong_state: return "wrong state";
        case Errc::network: return "network error";
        case Errc::tls: return "TLS error";
        case Errc::timeout: return "timeout";
    }
    return "unknown error";
}

// ---- framing ------------------------------------------------------------------------------

ResponseParser::ResponseParser(ParserLimits limits) : limits_(limits) {}

void ResponseParser::feed(std::string_view bytes) {
    if (failed()) return;
    buffer_.append(bytes.data(), bytes.size());
}

ResponseParser::Result ResponseParser::fail(Errc code, std::string message) {
    error_ = Error{code, std::move(message), {}};
    buffer_.clear();
    buffer_.shrink_to_fit();
    start_ = line_start_ = scanned_ = literal_left_ = 0;
    return Result::error;
}

void ResponseParser::compact() {
    // Erasing the consumed prefix costs a move of what is left; doing it only when the prefix is
    // large keeps the amortised cost per byte constant.
    if (start_ == 0) return;
    if (start_ == buffer_.size()) {
        buffer_.clear();
    } else if (start_ < 65536 && start_ * 2 < buffer_.size()) {
        return;
    } else {
        buffer_.erase(0, start_);
    }
    line_start_ -= start_;
    scanned_ -= start_;
    start_ = 0;
}

namespace {
// If the line [begin, end) (CR already stripped) ends with "{n}" or "{n+}", returns n.
// Sets overflow when the digits do not fit.
std::optional<std::uint64_t> literal_marker(std::string_view line, bool& overflow) {
    overflow = false;
    if (line.size() < 3 || line.back() != '}') return std::nullopt;
    std::size_t close = line.size() - 1;
    std::size_t digits_end = close;
    if (line[digits_end - 1] == '+') --digits_end;
    std::size_t open = digits_end;
    while (open > 0 && std::isdigit(static_cast<unsigned char>(line[open - 1]))) --open;
    if (open == digits_end || open == 0 || line[open - 1] != '{') return std::nullopt;
    std::uint64_t n = 0;
    for (std::size_t i = open; i < digits_end; ++i) {
        const unsigned d = static_cast<unsigned>(line[i] - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
            overflow = true;
            return std::nullopt;
        }
        n = n * 10 + d;
    }
    return n;
}
}  // namespace

ResponseParser::Result ResponseParser::next(Response& out) {
    if (failed()) return Result::error;
    for (;;) {
        if (literal_left_ > 0) {
            const std::size_t available = buffer_.size() - scanned_;
            if (available < literal_left_) return Result::need_more;
            scanned_ += literal_left_;
            literal_left_ = 0;
            line_start_ = scanned_;
        }
        const std::size_t nl = buffer_.find('\n', scanned_);
        if (nl == std::string::npos) {
            scanned_ = buffer_.size();
            if (scanned_ - line_start_ > limits_.max_line)
                return fail(Errc::too_large, "response line longer than " +
                                                 std::to_string(limits_.max_line) + " bytes");
            compact();
            return Result::need_more;
        }
        if (nl - line_start_ > limits_.max_line)
            return fail(Errc::too_large,
                        "response line longer than " + std::to_string(limits_.max_line) + " bytes");
        std::string_view line(buffer_.data() + line_start_, nl - line_start_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bool overflow = false;
        const auto literal = literal_marker(line, overflow);
        if (overflow || (literal && *literal > limits_.max_literal))
            return fail(Errc::too_large,
                        "literal larger than " + std::to_string(limits_.max_literal) + " bytes");
        if (literal) {
            if (nl + 1 - start_ + *literal > limits_.max_response)
                return fail(Errc::too_large, "response larger than " +
                                                 std::to_string(limits_.max_response) + " bytes");
            literal_left_ = static_cast<std::size_t>(*literal);
            scanned_ = nl + 1;
            line_start_ = scanned_;
            continue;
        }
        const std::string_view whole(buffer_.data() + start_, nl + 1 - start_);
        out = Response{};
        Error err = parse_response(whole, limits_, out);
        start_ = line_start_ = scanned_ = nl + 1;
        if (err) return fail(err.code, std::move(err.message));
        compact();
        return Result::response;
    }
}

// ---- grammar ------------------------------------------------------------------------------

namespace {

struct ParseFailure {
    Errc code;
    std::string message;
};

bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// ATOM-CHAR: any CHAR except atom-specials "(" ")" "{" SP CTL list-wildcards quoted-specials
// resp-specials. We are lenient on input: 8-bit bytes are accepted inside atoms.
bool is_atom_char(unsigned char c) {
    if (is_ctl(c)) return false;
    switch (c) {
        case '(': case ')': case '{': case ' ': case '%': case '*': case '"': case '\\': case ']':
            return false;
        default: return true;
    }
}

class Cursor {
public:
    Cursor(std::string_view s, const ParserLimits& limits) : s_(s), limits_(limits) {
        // The framer guarantees a trailing LF; the grammar works on the text before it.
        if (!s_.empty() && s_.back() == '\n') s_.remove_suffix(1);
        if (!s_.empty() && s_.back() == '\r') s_.remove_suffix(1);
    }

    [[noreturn]] void fail(const std::string& what) const {
        std::string near(s_.substr(pos_, 40));
        for (char& c : near)
            if (is_ctl(static_cast<unsigned char>(c))) c = '.';
        throw ParseFailure{Errc::protocol, what + " at offset " + std::to_string(pos_) +
                                               (near.empty() ? "" : " near \"" + near + "\"")};
    }

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    bool eat(char c) {
        if (peek() != c || at_end()) return false;
        ++pos_;
        return true;
    }
    void expect(char c) {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }
    void sp() { expect(' '); }
    // Some servers put two spaces or trailing spaces; tolerate runs where harmless.
    void skip_spaces() {
        while (peek() == ' ' && !at_end()) ++pos_;
    }

    std::string_view rest() {
        auto r = s_.substr(std::min(pos_, s_.size()));
        pos_ = s_.size();
        return r;
    }

    // Run of characters accepted by pred; may be empty.
    template <class Pred>
    std::string_view run(Pred pred) {
        const std::size_t b = pos_;
        while (!at_end() && pred(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        return s_.substr(b, pos_ - b);
    }

    std::string_view atom() {
        auto a = run(is_atom_char);
        if (a.empty()) fail("expected an atom");
        return a;
    }

    // ASTRING-CHAR = ATOM-CHAR / resp-specials
    std::string_view astring_atom() {
        auto a = run([](unsigned char c) { return is_atom_char(c) || c == ']'; });
        if (a.empty()) fail("expected a string");
        return a;
    }

    std::uint64_t number64() {
        auto d = run([](unsigned char c) { return std::isdigit(c) != 0; });
        if (d.empty()) fail("expected a number");
        std::uint64_t n = 0;
        for (char ch : d) {
            const unsigned v = static_cast<unsigned>(ch - '0');
            if (n > (std::numeric_limits<std::uint64_t>::max() - v) / 10) fail("number too large");
            n = n * 10 + v;
        }
        return n;
    }

    std::uint32_t number32() {
        const auto b = pos_;
        const std::uint64_t n = number64();
        if (n > std::numeric_limits<std::uint32_t>::max()) {
            pos_ = b;
            fail("number does not fit 32 bits");
        }
        return static_cast<std::uint32_t>(n);
    }

    std::string quoted() {
        expect('"');
        std::string r;
        for (;;) {
            if (at_end()) fail("unterminated quoted string");
            char c = s_[pos_++];
            if (c == '"') return r;
            if (c == '\\') {
                if (at_end()) fail("unterminated quoted string");
                c = s_[pos_++];
            }
            if (c == '\r' || c == '\n') fail("line break in quoted string");
            r.push_back(c);
        }
    }

    std::string literal() {
        expect('{');
        const std::uint64_t n = number64();
        eat('+');
        expect('}');
        // The framer consumed the line end before the literal; accept CRLF or bare LF.
        eat('\r');
        expect('\n');
        if (n > limits_.max_literal || n > s_.size() - pos_) fail("literal exceeds response");
        std::string r(s_.substr(pos_, static_cast<std::size_t>(n)));
        pos_ += static_cast<std::size_t>(n);
        return r;
    }

    bool is_nil() const {
        if (s_.size() - pos_ < 3) return false;
        if (ascii_upper(s_.substr(pos_, 3)) != "NIL") return false;
        return pos_ + 3 == s_.size() || !is_atom_char(static_cast<unsigned char>(s_[pos_ + 3]));
    }

    std::string string() {
        if (peek() == '"') return quoted();
        if (peek() == '{') return literal();
        fail("expected a quoted string or literal");
    }

    std::string astring() {
        if (peek() == '"' || peek() == '{') return string();
        return std::string(astring_atom());
    }

    // nstring: returns nullopt for NIL.
    std::optional<std::string> nstring() {
        if (is_nil()) {
            pos_ += 3;
            return std::nullopt;
        }
        return string();
    }

    // A flag or similar: "\Seen", "$Junk", "\*".
    std::string_view flag() {
        auto f = run([](unsigned char c) {
            return c == '\\' || c == '*' || is_atom_char(c) || c == ']';
        });
        if (f.empty()) fail("expected a flag");
        return f;
    }

    std::vector<std::string> flag_list() {
        expect('(');
        std::vector<std::string> flags;
        skip_spaces();
        while (!eat(')')) {
            if (at_end()) fail("unterminated list");
            flags.emplace_back(flag());
            skip_spaces();
        }
        return flags;
    }

    // Skips any value: atom, number, NIL, string, literal, or a parenthesised list.
    void skip_value(int depth = 0) {
        if (depth > 64) fail("nesting too deep");
        if (peek() == '"' || peek() == '{') {
            (void)string();
        } else if (eat('(')) {
            skip_spaces();
            while (!eat(')')) {
                if (at_end()) fail("unterminated list");
                skip_value(depth + 1);
                skip_spaces();
            }
        } else {
            auto a = run([](unsigned char c) {
                return c != ' ' && c != '(' && c != ')' && c != '"' && c != '{' && !is_ctl(c);
            });
            if (a.empty()) fail("expected a value");
        }
    }

    // Text up to (not including) the matching ']' of a section spec; quoted strings inside
    // may contain ']'.
    std::string_view section() {
        const std::size_t b = pos_;
        for (;;) {
            if (at_end()) fail("unterminated section");
            const char c = s_[pos_];
            if (c == ']') break;
            if (c == '"') {
                (void)quoted();
                continue;
            }
            if (c == '{') fail("literal in section");
            ++pos_;
        }
        auto r = s_.substr(b, pos_ - b);
        ++pos_;
        return r;
    }

    std::size_t pos() const { return pos_; }

private:
    std::string_view s_;
    const ParserLimits& limits_;
    std::size_t pos_ = 0;
};

std::optional<StatusKind> status_kind(std::string_view word) {
    const std::string w = ascii_upper(word);
    if (w == "OK") return StatusKind::ok;
    if (w == "NO") return StatusKind::no;
    if (w == "BAD") return StatusKind::bad;
    if (w == "PREAUTH") return StatusKind::preauth;
    if (w == "BYE") return StatusKind::bye;
    return std::nullopt;
}

// resp-text = ["[" resp-text-code "]" SP] text. Servers vary: the SP and the text may be
// missing, so both are optional here.
StatusResponse resp_text(Cursor& c, StatusKind kind) {
    StatusResponse r;
    r.kind = kind;
    if (c.at_end()) return r;
    c.sp();
    if (c.eat('[')) {
        ResponseCode code;
        code.name = ascii_upper(c.run([](unsigned char ch) { return ch != ' ' && ch != ']' && !is_ctl(ch); }));
        if (code.name.empty()) c.fail("empty response code");
        if (c.eat(' ')) code.args = std::string(c.run([](unsigned char ch) { return ch != ']'; }));
        c.expect(']');
        r.code = std::move(code);
        if (c.eat(' ')) r.text = std::string(c.rest());
    } else {
        r.text = std::string(c.rest());
    }
    // A literal in resp-text is not meaningful; the text is human-readable only.
    return r;
}

void parse_fetch(Cursor& c, FetchData& f) {
    c.expect('(');
    c.skip_spaces();
    while (!c.eat(')')) {
        if (c.at_end()) c.fail("unterminated FETCH");
        const std::string name = ascii_upper(c.run([](unsigned char ch) {
            return is_atom_char(ch) && ch != '[' && ch != '<';
        }));
        if (name.empty()) c.fail("expected a FETCH item");
        if (c.peek() == '[') {
            c.expect('[');
            FetchData::Body body;
            body.section = std::string(c.section());
            if (c.eat('<')) {
                (void)c.number64();
                c.expect('>');
            }
            c.sp();
            if (auto data = c.nstring()) {
                body.data = std::move(*data);
            } else {
                body.nil = true;
            }
            if (name == "BODY" || name == "BINARY") f.bodies.push_back(std::move(body));
        } else {
            c.sp();
            if (name == "UID") {
                f.uid = c.number32();
            } else if (name == "FLAGS") {
                f.flags = c.flag_list();
            } else if (name == "MODSEQ") {
                c.expect('(');
                f.modseq = c.number64();
                c.expect(')');
            } else if (name == "RFC822.SIZE") {
                f.size = c.number64();
            } else if (name == "INTERNALDATE") {
                f.internal_date = c.string();
            } else if (name == "RFC822.HEADER" || name == "RFC822" || name == "RFC822.TEXT") {
                FetchData::Body body;
                body.section = name;
                if (auto data = c.nstring()) body.data = std::move(*data); else body.nil = true;
                f.bodies.push_back(std::move(body));
            } else {
                c.skip_value();
            }
        }
        c.skip_spaces();
    }
}

void parse_search(Cursor& c, SearchData& s, const ParserLimits& limits) {
    while (c.eat(' ')) {
        if (c.at_end()) break;  // trailing space (seen in the wild)
        if (c.eat('(')) {
            const std::string word = ascii_upper(c.atom());
            c.sp();
            const std::uint64_t n = c.number64();
            c.expect(')');
            if (word == "MODSEQ") s.modseq = n;
            continue;
        }
        if (s.numbers.size() >= limits.max_search_results)
            throw ParseFailure{Errc::too_large, "SEARCH result has too many numbers"};
        s.numbers.push_back(c.number32());
    }
}

// ESEARCH: [SP "(" "TAG" SP tag ")"] [SP "UID"] *(SP name SP value)
void parse_esearch(Cursor& c, SearchData& s, const ParserLimits& limits) {
    while (c.eat(' ')) {
        if (c.at_end()) break;
        if (c.peek() == '(') {
            c.skip_value();
            continue;
        }
        const std::string word = ascii_upper(c.atom());
        if (word == "UID") continue;
        c.sp();
        if (word == "ALL") {
            std::string_view set = c.run([](unsigned char ch) {
                return std::isdigit(ch) || ch == ':' || ch == ',';
            });
            std::string why;
            if (!expand_sequence_set(set, limits.max_search_results, s.numbers, why))
                throw ParseFailure{why.find("too many") != std::string::npos ? Errc::too_large
                                                                              : Errc::protocol,
                                   "ESEARCH ALL: " + why};
        } else if (word == "MODSEQ") {
            s.modseq = c.number64();
        } else {
            c.skip_value();  // MIN, MAX, COUNT, PARTIAL...
        }
    }
}

void parse_untagged(Cursor& c, Untagged& u, const ParserLimits& limits) {
    if (std::isdigit(static_cast<unsigned char>(c.peek()))) {
        u.number = c.number32();
        c.sp();
        u.keyword = ascii_upper(c.atom());
        if (u.keyword == "EXISTS") {
            u.kind = Untagged::Kind::exists;
        } else if (u.keyword == "EXPUNGE") {
            u.kind = Untagged::Kind::expunge;
        } else if (u.keyword == "RECENT") {
            u.kind = Untagged::Kind::recent;
        } else if (u.keyword == "FETCH") {
            u.kind = Untagged::Kind::fetch;
            u.fetch.seq = u.number;
            c.sp();
            parse_fetch(c, u.fetch);
        } else {
            u.kind = Untagged::Kind::other;
            c.rest();
        }
        c.skip_spaces();
        if (!c.at_end()) c.fail("trailing data after " + u.keyword);
        return;
    }
    const std::string_view word = c.atom();
    u.keyword = ascii_upper(word);
    if (auto kind = status_kind(word)) {
        u.kind = Untagged::Kind::status;
        u.status = resp_text(c, *kind);
    } else if (u.keyword == "CAPABILITY" || u.keyword == "ENABLED") {
        u.kind = u.keyword == "CAPABILITY" ? Untagged::Kind::capability : Untagged::Kind::enabled;
        while (c.eat(' ')) {
            if (c.at_end()) break;
            u.words.push_back(ascii_upper(c.atom()));
        }
    } else if (u.keyword == "FLAGS") {
        u.kind = Untagged::Kind::flags;
        c.sp();
        u.words = c.flag_list();
    } else if (u.keyword == "LIST" || u.keyword == "LSUB") {
        u.kind = Untagged::Kind::list;
        c.sp();
        u.list.attributes = c.flag_list();
        c.sp();
        if (c.is_nil()) {
            (void)c.nstring();
        } else {
            const std::string d = c.string();
            if (d.size() != 1) c.fail("hierarchy delimiter must be one character");
            u.list.delimiter = d[0];
        }
        c.sp();
        u.list.name = c.astring();
        c.rest();  // LIST-EXTENDED extended data (CHILDINFO, OLDNAME) is not needed
    } else if (u.keyword == "STATUS") {
        u.kind = Untagged::Kind::status_data;
        c.sp();
        u.status_data.mailbox = c.astring();
        c.sp();
        c.expect('(');
        c.skip_spaces();
        while (!c.eat(')')) {
            if (c.at_end()) c.fail("unterminated STATUS");
            std::string name = ascii_upper(c.atom());
            c.sp();
            u.status_data.items.emplace_back(std::move(name), c.number64());
            c.skip_spaces();
        }
    } else if (u.keyword == "SEARCH") {
        u.kind = Untagged::Kind::search;
        parse_search(c, u.search, limits);
    } else if (u.keyword == "ESEARCH") {
        u.kind = Untagged::Kind::search;
        parse_esearch(c, u.search, limits);
    } else {
        u.kind = Untagged::Kind::other;
        c.rest();
    }
    c.skip_spaces();
    if (!c.at_end()) c.fail("trailing data after " + u.keyword);
}

bool is_tag_char(unsigned char c) { return is_atom_char(c) && c != '+'; }

}  // namespace

Error parse_response(std::string_view bytes, const ParserLimits& limits, Response& out) {
    try {
        Cursor c(bytes, limits);
        if (c.eat('+')) {
            out.kind = Response::Kind::continuation;
            c.eat(' ');
            out.continuation_text = std::string(c.rest());
            return {};
        }
        if (c.eat('*')) {
            out.kind = Response::Kind::untagged;
            c.sp();
            parse_untagged(c, out.untagged, limits);
            return {};
        }
        out.kind = Response::Kind::tagged;
        out.tag = std::string(c.run(is_tag_char));
        if (out.tag.empty()) c.fail("response starts with neither '*', '+' nor a tag");
        c.sp();
        const auto word = c.atom();
        const auto kind = status_kind(word);
        if (!kind || *kind == StatusKind::preauth || *kind == StatusKind::bye)
            c.fail("tagged response is not OK, NO or BAD");
        out.status = resp_text(c, *kind);
        return {};
    } catch (const ParseFailure& f) {
        return Error{f.code, f.message, {}};
    }
}

}  // namespace rapport::imap

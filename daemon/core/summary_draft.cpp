#include "rapport/summary_draft.hpp"
#include "rapport/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include "rapport/address.hpp"
#include "rapport/time.hpp"
#include "rapport/utf8.hpp"

namespace rapport {

const std::string& default_body_template() {
    // The notes block comes first and says it is private: the account context (nudges, mail
    // subjects, champion marks) is for the user, and a draft is sent by pressing "Send" - at
    // the top it is seen and deleted, at the bottom it would be mailed to the customer.
    static const std::string text =
        "--- Notes from Rapport, for you only: delete them before sending ---\n"
        "Account: {account}\n"
        "Attendees:\n"
        "{attendees}\n"
        "{?recent}Recent mail with this account (last 30 days):\n"
        "{recent}\n"
        "{?nudges}Open nudges:\n"
        "{nudges}\n"
        "{?contact_notes}Contacts:\n"
        "{contact_notes}\n"
        "--- End of notes ---\n"
        "\n"
        "Hello,\n"
        "\n"
        "Thank you for your time today. Here is a short summary of our meeting.\n"
        "\n"
        "{title}\n"
        "{when}\n"
        "{?location}Location: {location}\n"
        "{?participants}Participants: {participants}\n"
        "\n"
        "{?agenda}Agenda:\n"
        "{agenda}\n"
        "\n"
        "What we discussed:\n"
        "-\n"
        "\n"
        "Decisions:\n"
        "-\n"
        "\n"
        "Next steps (owner, date):\n"
        "-\n"
        "\n"
        "Best regards,\n"
        "{user}\n";
    return text;
}

const std::vector<TemplateVariable>& template_variables() {
    static const std::vector<TemplateVariable> vars = {
        {"title", false, "the meeting's title"},
        {"date", false, "the meeting's date in the user's time zone, YYYY-MM-DD"},
        {"when", false, "day, date, start and end time and time zone, in the user's time zone"},
        {"location", false, "the event's location"},
        {"account", false, "the account names, comma-separated"},
        {"participants", false, "the attendees who did not decline, \"Name (Company)\", comma-separated"},
        {"user", false, "the user's name (else address)"},
        {"owner", false, "the account owner's name (else address); empty when there is none"},
        {"attendees", true, "one line per attendee: name, company, \"★ champion\", reply if not accepted"},
        {"agenda", true, "the event's description, cleaned and cut at 4,000 characters"},
        {"recent", true, "the last subjects exchanged with the account's contacts in the 30 days before the meeting"},
        {"nudges", true, "the account's open nudges, one per line"},
        {"contact_notes", true, "notes about the account's contacts (bounced, left), one per line"},
    };
    return vars;
}

namespace {

const TemplateVariable* find_variable(std::string_view name) {
    for (const auto& v : template_variables())
        if (name == v.name) return &v;
    return nullptr;
}

// ---------------------------------------------------------------- text cleaning

bool is_control(std::uint32_t cp) {
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

// Invisible characters that change how the rest of a line is shown (bidirectional overrides
// and isolates, the BOM, zero-width no-break): a title could use them to make a subject read
// differently from what it says. Dropped everywhere.
bool is_invisible_format(std::uint32_t cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
           cp == 0x200E || cp == 0x200F;
}

// The next code point of s at i: ill-formed bytes count as one U+FFFD each.
std::uint32_t next_cp(std::string_view s, std::size_t& i) {
    std::uint32_t cp = 0;
    if (utf8::decode(s, i, cp)) return cp;
    ++i;
    return 0xFFFD;
}

void trim_trailing_spaces(std::string& s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
}

// Removes the last code point of s (s is valid UTF-8).
void pop_cp(std::string& s) {
    while (!s.empty()) {
        const auto b = static_cast<unsigned char>(s.back());
        s.pop_back();
        if ((b & 0xC0) != 0x80) break;
    }
}

// Untrusted multi-line text (the agenda): line breaks of any kind become LF, TAB a space,
// other control characters go, trailing spaces go, runs of empty lines become one, leading and
// trailing empty lines go; cut at max_chars code points with "…". One linear pass that stops as
// soon as the output is full, so a 1 MB description costs little more than its first lines.
std::string clean_block(std::string_view text, std::size_t max_chars) {
    std::string out, line;
    std::size_t out_chars = 0, line_chars = 0;  // code points (LF counts as one)
    std::size_t spaces = 0;  // spaces seen since the line's last visible character: written only
                             // when another visible one follows, so trailing runs cost nothing
    bool blank_pending = false, truncated = false;
    auto flush = [&] {
        spaces = 0;
        if (line.empty()) {
            blank_pending = !out.empty();
        } else {
            if (blank_pending) out += '\n', ++out_chars;
            blank_pending = false;
            out += line;
            out += '\n';
            out_chars += line_chars + 1;
        }
        line.clear();
        line_chars = 0;
    };
    for (std::size_t i = 0; i < text.size();) {
        if (out_chars + line_chars > max_chars) {
            truncated = true;
            break;
        }
        const std::uint32_t cp = next_cp(text, i);
        if (cp == '\r' || cp == '\n' || cp == 0x0B || cp == 0x0C || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
            if (cp == '\r' && i < text.size() && text[i] == '\n') ++i;
            flush();
        } else if (cp == '\t' || cp == ' ') {
            ++spaces;
        } else if (!is_control(cp) && !is_invisible_format(cp)) {
            const std::size_t n = std::min(spaces, max_chars + 1);  // indentation, bounded
            line.append(n, ' ');
            line_chars += n;
            spaces = 0;
            utf8::append(line, cp), ++line_chars;
        }
    }
    flush();
    while (!out.empty() && out.back() == '\n') out.pop_back(), --out_chars;
    if (!truncated && out_chars <= max_chars) return out;
    // Room for the ellipsis: cut to max_chars - 1 code points.
    while (out_chars >= max_chars && !out.empty()) pop_cp(out), --out_chars;
    // End at a line's end, else a word's, when one is near (within 40 bytes).
    auto brk = out.rfind('\n');
    const bool cut_at_line = brk != std::string::npos && out.size() - brk <= 40;
    if (!cut_at_line) brk = out.rfind(' ');
    if (brk != std::string::npos && brk > 0 && out.size() - brk <= 40) out.erase(brk);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
    return out + (cut_at_line ? "\n…" : "…");
}

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

// ---------------------------------------------------------------- template lexing

struct Token {
    enum Kind { literal, variable, condition } kind = literal;
    std::string text;         // literal text, or the variable's name
    std::size_t offset = 0;   // byte offset of the token in the template
};

struct LexProblem {
    std::size_t offset;
    std::string message;
};

bool name_char(char ch) { return (ch >= 'a' && ch <= 'z') || ch == '_' || (ch >= '0' && ch <= '9'); }

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::string unknown_variable_message(const std::string& name) {
    std::string best;
    std::size_t best_d = 3;
    for (const auto& v : template_variables()) {
        const std::size_t d = edit_distance(ascii_lower(name), v.name);
        if (d < best_d) best_d = d, best = v.name;
    }
    std::string msg = "unknown variable {" + name + "}";
    if (!best.empty()) return msg + "; did you mean {" + best + "}?";
    msg += "; the variables are";
    bool first = true;
    for (const auto& v : template_variables()) {
        msg += first ? " {" : ", {";
        msg += v.name;
        msg += '}';
        first = false;
    }
    return msg + " (docs/rules.md)";
}

// Splits a template into literals and {variables}. With `problems` null it is lenient (what
// cannot be read stays literal text), which is how compose_summary treats an unchecked template.
std::vector<Token> lex(std::string_view s, std::vector<LexProblem>* problems) {
    std::vector<Token> out;
    auto literal = [&](std::string_view text, std::size_t at) {
        if (!out.empty() && out.back().kind == Token::literal) out.back().text += text;
        else out.push_back(Token{Token::literal, std::string(text), at});
    };
    std::size_t i = 0;
    while (i < s.size()) {
        const char ch = s[i];
        if (ch == '{' && i + 1 < s.size() && s[i + 1] == '{') {
            literal("{", i);
            i += 2;
            continue;
        }
        if (ch == '}') {
            if (i + 1 < s.size() && s[i + 1] == '}') {
                literal("}", i);
                i += 2;
                continue;
            }
            if (problems) problems->push_back({i, "unbalanced '}'; write }} for a literal brace"});
            literal("}", i);
            ++i;
            continue;
        }
        if (ch != '{') {
            const std::size_t next = s.find_first_of("{}", i);
            const std::size_t end = next == std::string_view::npos ? s.size() : next;
            literal(s.substr(i, end - i), i);
            i = end;
            continue;
        }
        // '{' opens a variable that must close on the same line.
        const std::size_t close = s.find_first_of("}{\n\r", i + 1);
        if (close == std::string_view::npos || s[close] != '}') {
            if (problems) problems->push_back({i, "unbalanced '{': no '}' closes it on this line; write {{ for a literal brace"});
            literal("{", i);
            ++i;
            continue;
        }
        std::string_view inner = s.substr(i + 1, close - i - 1);
        const bool condition = !inner.empty() && inner.front() == '?';
        if (condition) inner.remove_prefix(1);
        const bool well_formed = !inner.empty() && std::all_of(inner.begin(), inner.end(), name_char);
        if (!well_formed) {
            if (problems) {
                if (inner.empty())
                    problems->push_back({i, condition ? "{?} names no variable" : "empty braces {}; write {{}} for literal braces"});
                else
                    problems->push_back({i, "{" + std::string(condition ? "?" : "") + std::string(inner) +
                                                "} is not a variable name (lower-case letters, digits and '_'); write {{ for a literal brace"});
            }
            literal(s.substr(i, close + 1 - i), i);
            i = close + 1;
            continue;
        }
        if (!find_variable(inner)) {
            if (problems) problems->push_back({i, unknown_variable_message(std::string(inner))});
            literal(s.substr(i, close + 1 - i), i);
            i = close + 1;
            continue;
        }
        out.push_back(Token{condition ? Token::condition : Token::variable, std::string(inner), i});
        i = close + 1;
    }
    return out;
}

// LINE and COL (1-based, COL in code points) of a byte offset.
std::pair<int, int> position_of(std::string_view s, std::size_t offset) {
    int line = 1;
    std::size_t line_start = 0;
    for (std::size_t k = 0; k < offset && k < s.size(); ++k)
        if (s[k] == '\n') ++line, line_start = k + 1;
    int col = 1;
    for (std::size_t k = line_start; k < offset && k < s.size();) {
        next_cp(s, k);
        ++col;
    }
    return {line, col};
}

// ---------------------------------------------------------------- composing

struct Values {
    std::map<std::string, std::string> v;
    const std::string& get(const std::string& name) const {
        static const std::string empty;
        auto it = v.find(name);
        return it == v.end() ? empty : it->second;
    }
};

std::string reply_note(const std::string& partstat_raw) {
    const std::string p = ascii_lower(clean_line(partstat_raw, 40));
    if (p == "tentative") return " (tentative)";
    if (p == "declined") return " (declined)";
    if (p == "needs-action") return " (no reply)";
    if (p == "delegated") return " (delegated)";
    return "";
}

bool declined(const DraftAttendee& a) { return ascii_lower(clean_line(a.partstat, 40)) == "declined"; }

std::string shown_name(const DraftAttendee& a) {
    std::string name = clean_line(a.name, ComposeLimits::max_name_chars);
    if (name.empty()) name = clean_line(a.address, ComposeLimits::max_name_chars);
    return name;
}

std::string more_line(std::size_t n) { return "- … and " + std::to_string(n) + " more"; }

std::string bullet_list(const std::vector<std::string>& items) {
    std::string out;
    std::size_t shown = 0;
    for (const auto& item : items) {
        const std::string text = clean_line(item, ComposeLimits::max_field_chars);
        if (text.empty()) continue;
        if (shown == ComposeLimits::max_list_items) {
            std::size_t rest = 0;
            for (const auto& r : items) rest += clean_line(r, 8).empty() ? 0 : 1;
            out += more_line(rest - shown) + "\n";
            break;
        }
        out += "- " + text + "\n";
        ++shown;
    }
    if (!out.empty()) out.pop_back();
    return out;
}

Values values_of(const SummaryContext& c) {
    Values out;
    auto& v = out.v;
    v["title"] = clean_line(c.title, ComposeLimits::max_field_chars);
    if (v["title"].empty()) v["title"] = "(no title)";
    v["date"] = clean_line(c.date, 40);
    v["when"] = clean_line(c.local_when, ComposeLimits::max_field_chars);
    if (v["when"].empty()) v["when"] = v["date"];
    v["location"] = clean_line(c.location, ComposeLimits::max_field_chars);

    std::string accounts;
    for (const auto& name : c.account_names) {
        const std::string n = clean_line(name, ComposeLimits::max_name_chars);
        if (n.empty()) continue;
        if (!accounts.empty()) accounts += ", ";
        accounts += n;
    }
    v["account"] = clean_line(accounts, ComposeLimits::max_field_chars);

    // One entry per person: calendars list the same address twice (organizer and attendee,
    // or after a forward).
    std::vector<const DraftAttendee*> people;
    std::set<std::string> seen;
    for (const auto& a : c.attendees) {
        if (shown_name(a).empty()) continue;
        const std::string key = ascii_lower(clean_line(a.address, 300));
        if (!key.empty() && !seen.insert(key).second) continue;
        people.push_back(&a);
    }
    std::string list, participants;
    std::size_t listed = 0, in_line = 0, present = 0;
    for (const DraftAttendee* a : people) {
        std::string entry = shown_name(*a);
        const std::string company = clean_line(a->company, ComposeLimits::max_name_chars);
        if (!company.empty()) entry += " (" + company + ")";
        if (!declined(*a)) {
            ++present;
            if (in_line < ComposeLimits::max_attendees_listed) {
                if (!participants.empty()) participants += ", ";
                participants += entry;
                ++in_line;
            }
        }
        if (listed < ComposeLimits::max_attendees_listed) {
            list += "- " + entry + (a->champion ? " ★ champion" : "") + reply_note(a->partstat) + "\n";
            ++listed;
        }
    }
    if (people.size() > listed) list += more_line(people.size() - listed) + "\n";
    if (present > in_line) participants += " and " + std::to_string(present - in_line) + " more";
    if (!list.empty()) list.pop_back();
    v["attendees"] = list;
    v["participants"] = participants;

    v["agenda"] = clean_block(c.description, ComposeLimits::max_agenda_chars);

    // "The last 30 days" are the 30 days before the meeting: the core has no clock, and the
    // meeting's date is what the reader of the draft measures against.
    const auto meeting_day = parse_date(clean_line(c.date, 40));
    std::vector<std::string> recent;
    for (const auto& r : c.recent) {
        const std::string date = clean_line(r.date, 40);
        const auto day = parse_date(date);
        if (meeting_day && day && (day->days < meeting_day->days - 30 || day->days > meeting_day->days)) continue;
        std::string contact = clean_line(r.contact, ComposeLimits::max_name_chars);
        std::string subject = clean_line(r.subject, ComposeLimits::max_field_chars);
        if (subject.empty()) subject = "(no subject)";
        std::string line = date.empty() ? "" : date + " ";
        line += r.inbound ? "from " : "to ";
        line += contact.empty() ? std::string("(unknown)") : contact;
        line += ": " + subject;
        recent.push_back(line);
    }
    v["recent"] = bullet_list(recent);
    v["nudges"] = bullet_list(c.open_nudges);
    v["contact_notes"] = bullet_list(c.contact_notes);

    v["user"] = clean_line(c.user.name, ComposeLimits::max_name_chars);
    if (v["user"].empty()) v["user"] = clean_line(c.user.address, ComposeLimits::max_name_chars);
    if (c.owner) {
        v["owner"] = clean_line(c.owner->name, ComposeLimits::max_name_chars);
        if (v["owner"].empty()) v["owner"] = clean_line(c.owner->address, ComposeLimits::max_name_chars);
    }
    return out;
}

std::string expand_subject(const std::string& tmpl, const Values& values) {
    std::string out;
    for (const auto& t : lex(tmpl, nullptr)) {
        if (t.kind == Token::literal) out += t.text;
        else if (t.kind == Token::variable) out += values.get(t.text);
        // Cap early: a hostile unchecked template cannot make the subject grow without bound.
        if (out.size() > 8 * ComposeLimits::max_subject_chars) break;
    }
    std::string subject = clean_line(out, ComposeLimits::max_subject_chars);
    if (subject.empty()) subject = "Meeting summary";
    return subject;
}

// A whole-body cap, for templates that repeat a large variable many times.
constexpr std::size_t max_body_bytes = 256 * 1024;

std::string expand_body(const std::string& tmpl_text, const Values& values) {
    const std::string tmpl = normalize_template_text(tmpl_text);
    std::string out;
    std::size_t start = 0;
    while (start <= tmpl.size() && out.size() < max_body_bytes) {
        const std::size_t nl = tmpl.find('\n', start);
        const std::size_t end = nl == std::string::npos ? tmpl.size() : nl;
        if (nl == std::string::npos && start == tmpl.size()) break;
        const auto tokens = lex(std::string_view(tmpl).substr(start, end - start), nullptr);
        start = end + 1;

        bool keep = true;
        std::size_t variables = 0;
        bool only_blank_literals = true;
        bool all_empty = true;
        for (const auto& t : tokens) {
            if (t.kind == Token::condition && values.get(t.text).empty()) keep = false;
            if (t.kind == Token::variable) {
                ++variables;
                if (!values.get(t.text).empty()) all_empty = false;
            }
            if (t.kind == Token::literal && t.text.find_first_not_of(" \t") != std::string::npos)
                only_blank_literals = false;
        }
        if (!keep) continue;
        // A line that is nothing but one empty variable (an empty {location}) leaves no hole.
        if (variables == 1 && only_blank_literals && all_empty) continue;
        std::string line;
        for (const auto& t : tokens) {
            if (t.kind == Token::literal) line += t.text;
            else if (t.kind == Token::variable) line += values.get(t.text);
            if (line.size() > max_body_bytes) break;
        }
        out += line;
        out += '\n';
        if (nl == std::string::npos) break;
    }

    // Final pass: whatever the template held, the body is valid UTF-8 without control
    // characters but TAB and LF, no trailing spaces, no runs of empty lines, one LF at the end.
    std::string clean;
    clean.reserve(out.size() + 8);
    std::string line;
    bool blank_pending = false;
    bool truncated = out.size() > max_body_bytes;
    const std::string_view src = std::string_view(out).substr(0, std::min(out.size(), max_body_bytes));
    auto flush = [&] {
        trim_trailing_spaces(line);
        if (line.empty()) {
            if (!clean.empty()) blank_pending = true;
            return;
        }
        if (blank_pending) clean += '\n';
        blank_pending = false;
        clean += line;
        clean += '\n';
        line.clear();
    };
    for (std::size_t i = 0; i < src.size();) {
        const std::uint32_t cp = next_cp(src, i);
        if (cp == '\n') {
            flush();
            continue;
        }
        if (cp == '\t') {
            line += '\t';
            continue;
        }
        if (is_control(cp) || is_invisible_format(cp)) continue;
        utf8::append(line, cp);
    }
    flush();
    if (truncated) clean += "…\n";
    if (clean.empty()) clean = "\n";
    return clean;
}

void add_recipient(std::vector<DraftAddress>& list, std::set<std::string>& used, const DraftAddress& given,
                   std::vector<SkippedRecipient>& skipped, std::size_t cap) {
    std::string reason;
    auto a = clean_draft_address(given, &reason);
    if (!a) {
        skipped.push_back({DraftAddress{clean_line(given.name, ComposeLimits::max_name_chars),
                                        clean_line(given.address, ComposeLimits::max_name_chars)},
                           reason});
        return;
    }
    if (!used.insert(ascii_lower(a->address)).second) return;
    if (list.size() >= cap) {
        skipped.push_back({*a, "more than " + std::to_string(cap) + " recipients"});
        return;
    }
    list.push_back(std::move(*a));
}

}  // namespace

std::string clean_line(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::size_t chars = 0;
    bool pending_space = false;
    bool truncated = false;
    for (std::size_t i = 0; i < text.size();) {
        const std::uint32_t cp = next_cp(text, i);
        if (cp == ' ' || is_control(cp)) {
            pending_space = !out.empty();
            continue;
        }
        if (is_invisible_format(cp)) continue;
        if (chars + (pending_space ? 1 : 0) >= max_chars) {
            truncated = true;
            break;
        }
        if (pending_space) {
            out += ' ';
            ++chars;
            pending_space = false;
        }
        utf8::append(out, cp);
        ++chars;
    }
    if (truncated && max_chars > 0) {
        // Room for the ellipsis: drop the last code point; then end at a word's end when one
        // is near (within 20 bytes), so a subject reads "Workshop 15…", not "Worksho…".
        pop_cp(out);
        const auto space = out.rfind(' ');
        if (space != std::string::npos && space > 0 && out.size() - space <= 20) out.erase(space);
        trim_trailing_spaces(out);
        out += "…";
    }
    return out;
}

std::optional<DraftAddress> clean_draft_address(const DraftAddress& a, std::string* reason) {
    auto fail = [&](const char* why) -> std::optional<DraftAddress> {
        if (reason) *reason = why;
        return std::nullopt;
    };
    std::string_view s = a.address;
    if (s.find_first_of("\r\n") != std::string_view::npos) return fail("the address has a line break");
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (s.size() >= 7 && ascii_lower(std::string(s.substr(0, 7))) == "mailto:") s.remove_prefix(7);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    if (s.empty()) return fail("no address");
    if (s.size() > 254 * 4) return fail("the address is too long");
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x21 || u == 0x7F) return fail("the address has a space or a control character");
    }
    const std::size_t at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return fail("not a mail address");
    const std::string_view local = s.substr(0, at);
    if (local.size() > 64) return fail("the address's local part is longer than 64 characters");
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return fail("not a mail address");
    for (char ch : local) {
        if (static_cast<unsigned char>(ch) >= 0x80)
            return fail("the address's local part is not ASCII (internationalised addresses are not supported)");
        if (ch != '.' && !atext(ch)) return fail("not a mail address (quoted or special characters before the @)");
    }
    const std::string_view domain_text = s.substr(at + 1);
    if (domain_text.front() == '[') return fail("address literals ([1.2.3.4]) are not used");
    auto domain = normalize_domain(domain_text);
    if (!domain || domain->find('.') == std::string::npos) return fail("not a mail address (no valid domain)");
    DraftAddress out;
    out.address = std::string(local) + "@" + *domain;
    if (out.address.size() > 254) return fail("the address is longer than 254 characters");
    out.name = clean_line(a.name, ComposeLimits::max_name_chars);
    const std::string lowered_name = ascii_lower(out.name);
    if (lowered_name == ascii_lower(out.address) || lowered_name == ascii_lower(std::string(s)) ||
        lowered_name == "mailto:" + ascii_lower(out.address))
        out.name.clear();
    return out;
}

std::string normalize_template_text(std::string_view text) {
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += '\n';
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

Diagnostics check_template(std::string_view raw, TemplatePart part, const std::string& file,
                           const std::string& json_path) {
    Diagnostics out;
    const bool body = part == TemplatePart::body;
    const std::size_t limit = body ? TemplateLimits::max_body_bytes : TemplateLimits::max_subject_bytes;
    if (raw.size() > limit) {
        out.push_back(Diagnostic{file, 0, 0, body ? std::string() : json_path,
                                 std::string(body ? "the template" : "the subject") + " is too large (" +
                                     std::to_string(raw.size()) + " bytes; the limit is " +
                                     std::to_string(limit) + " bytes)"});
        return out;
    }
    std::string_view text = raw;
    if (body && text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

    constexpr std::size_t max_reported = 20;
    std::size_t problems = 0;
    auto report = [&](std::size_t offset, const std::string& message) {
        ++problems;
        if (problems > max_reported) return;
        if (body) {
            const auto [line, col] = position_of(text, offset);
            out.push_back(Diagnostic{file, line, col, {}, message});
        } else {
            const auto [line, col] = position_of(text, offset);
            (void)line;
            out.push_back(Diagnostic{file, 0, 0, json_path, message + " (at character " + std::to_string(col) + ")"});
        }
    };

    // Bytes first: a NUL, a control character or invalid UTF-8 is reported where it is.
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t at = i;
        std::uint32_t cp = 0;
        if (!utf8::decode(text, i, cp)) {
            report(at, "invalid UTF-8 (the template must be UTF-8 text)");
            ++i;
            continue;
        }
        if (cp == 0) report(at, "a NUL byte; the template must be plain text");
        else if (cp == '\n' || cp == '\r') {
            if (!body) report(at, "the subject must be one line");
        } else if (cp != '\t' && is_control(cp)) {
            char hex[8];
            const char* digits = "0123456789ABCDEF";
            hex[0] = digits[(cp >> 12) & 0xF], hex[1] = digits[(cp >> 8) & 0xF], hex[2] = digits[(cp >> 4) & 0xF],
            hex[3] = digits[cp & 0xF], hex[4] = 0;
            report(at, std::string("control character U+") + hex + "; the template must be plain text");
        }
    }

    std::vector<LexProblem> lexed;
    const auto tokens = lex(text, &lexed);
    for (const auto& p : lexed) report(p.offset, p.message);
    if (!body) {
        for (const auto& t : tokens) {
            if (t.kind == Token::condition)
                report(t.offset, "{?" + t.text + "} keeps or drops a line of the body; the subject has no lines to drop");
            else if (t.kind == Token::variable && find_variable(t.text)->multiline)
                report(t.offset, "{" + t.text + "} has several lines and cannot be used in the subject");
        }
    } else if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        out.push_back(Diagnostic{file, 0, 0, {},
                                 "the template is empty; remove $.rules.summary_drafts.template to use the built-in one"});
    }
    if (problems > max_reported)
        out.push_back(Diagnostic{file, 0, 0, body ? std::string() : json_path,
                                 "and " + std::to_string(problems - max_reported) + " more problems"});
    return out;
}

ComposedDraft compose_summary(const SummaryContext& c, const SummaryTemplate& t, DraftRecipients recipients) {
    ComposedDraft d;
    const Values values = values_of(c);
    d.subject = expand_subject(t.subject, values);
    d.body = expand_body(t.body.empty() ? default_body_template() : t.body, values);

    std::set<std::string> used;
    auto same_address = [](const std::string& x, const std::string& y) {
        auto a = clean_draft_address(DraftAddress{"", x});
        auto b = clean_draft_address(DraftAddress{"", y});
        return a && b && ascii_lower(a->address) == ascii_lower(b->address);
    };
    const bool owner_is_user = c.user_is_owner || (c.owner && same_address(c.owner->address, c.user.address));
    switch (recipients) {
        case DraftRecipients::attendees: {
            // The user and the owner are never in To: they are not the customer.
            std::set<std::string> not_to;
            if (auto u = clean_draft_address(c.user)) not_to.insert(ascii_lower(u->address));
            if (c.owner)
                if (auto o = clean_draft_address(*c.owner)) not_to.insert(ascii_lower(o->address));
            used = not_to;
            for (const auto& a : c.attendees) {
                if (!a.customer || declined(a)) continue;
                add_recipient(d.to, used, DraftAddress{a.name, a.address}, d.skipped, ComposeLimits::max_recipients);
            }
            if (c.owner && !owner_is_user) {
                std::set<std::string> cc_used;
                for (const auto& x : d.to) cc_used.insert(ascii_lower(x.address));
                add_recipient(d.cc, cc_used, *c.owner, d.skipped, ComposeLimits::max_recipients);
            }
            break;
        }
        case DraftRecipients::owner:
            if (c.owner && !owner_is_user) add_recipient(d.to, used, *c.owner, d.skipped, 1);
            else add_recipient(d.to, used, c.user, d.skipped, 1);
            break;
        case DraftRecipients::self:
            add_recipient(d.to, used, c.user, d.skipped, 1);
            break;
    }
    return d;
}

}  // namespace rapport

// Delivery reports: RFC 3464 (message/delivery-status, one block per recipient) and the text
// forms of qmail, Exim, Lotus Notes/Domino, Exchange 2003, Yahoo, mail.ru and the rest, where
// each failed address is followed by its reason.
#include <algorithm>
#include <optional>

#include "mail_reading_parts.hpp"
#include "rapport/ascii.hpp"

namespace rapport::mail_reading {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct StatusCode {
    int klass = 0, subject = 0, detail = 0;
    std::string text;
};

// The first enhanced status code (RFC 3463: class.subject.detail, class 4 or 5) standing on
// its own: "5.1.1", "(#5.1.1)", "550-5.1.1"; never inside an IP address such as 192.0.2.25.
std::optional<StatusCode> find_status(std::string_view s) {
    for (std::size_t i = 0; i + 5 <= s.size(); ++i) {
        if (s[i] != '4' && s[i] != '5') continue;
        if (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.')) continue;
        if (s[i + 1] != '.') continue;
        std::size_t j = i + 2, k = j;
        while (k < s.size() && is_digit(s[k]) && k - j < 3) ++k;
        if (k == j || k >= s.size() || s[k] != '.') continue;
        std::size_t m = k + 1, n = m;
        while (n < s.size() && is_digit(s[n]) && n - m < 3) ++n;
        if (n == m) continue;
        if (n < s.size() && (is_digit(s[n]) || s[n] == '.')) continue;
        StatusCode code;
        code.klass = s[i] - '0';
        code.subject = std::stoi(std::string(s.substr(j, k - j)));
        code.detail = std::stoi(std::string(s.substr(m, n - m)));
        code.text = std::string(s.substr(i, n - i));
        return code;
    }
    return std::nullopt;
}

// The three-digit SMTP reply code that starts a reply ("550 ", "421-"), if any.
int find_reply_code(std::string_view s) {
    for (std::size_t i = 0; i + 3 < s.size(); ++i) {
        if ((s[i] == '4' || s[i] == '5') && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
            (s[i + 3] == ' ' || s[i + 3] == '-' || s[i + 3] == ':') && (i == 0 || !(is_digit(s[i - 1]) || s[i - 1] == '.')))
            return (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    }
    return 0;
}

// The mailbox itself is gone, in the words servers use (folded text).
bool says_mailbox_gone(std::string_view f) {
    return contains_any(
        f, {"user unknown", "unknown user", "no such user", "user not found", "user does not exist",
            "user doesn't exist", "recipient not found", "recipientnotfound", "recipnotfound", "unknown recipient",
            "recipient unknown", "invalid recipient", "address not found", "address couldn't be found",
            "address could not be found", "account that you tried to reach does not exist", "does not exist",
            "doesn't exist", "no mailbox here by that name", "mailbox not found", "no such mailbox",
            "mailbox unavailable (user", "mailbox disabled", "mailbox is disabled", "account disabled",
            "account has been disabled", "account is disabled", "not listed in", "recipient name is not recognized",
            "addressee unknown", "unrouteable address", "no longer a valid", "is not a valid mailbox",
            "couldn't find any host named",
            // de, fr, es, nl, it, ru
            "empfänger unbekannt", "benutzer unbekannt", "unbekannter empfänger", "existiert nicht",
            "adresse inconnue", "utilisateur inconnu", "destinataire inconnu", "n'existe pas",
            "usuario desconocido", "destinatario desconocido", "no existe", "bestaat niet", "onbekende gebruiker",
            "onbekende ontvanger", "utente inesistente", "utente sconosciuto", "нет такого пользователя",
            "не существует", "такого адреса не существует"});
}

// Failures that say nothing about the mailbox: full, too big, spam or policy, our own side,
// the network. They never mark a contact, even with a 5.x.x code.
bool says_not_the_mailbox(std::string_view f) {
    return contains_any(
        f, {"quota", "mailbox full", "mailbox is full", "inbox is full", "insufficient storage", "over the limit",
            "postfach voll", "boîte pleine", "buzón lleno", "message size", "too large", "too big", "size exceeds",
            "spam", "blocked", "blacklist", "blocklist", "listed at", "spamhaus", "policy", "reputation",
            "rejected as", "relay access denied", "relaying denied", "unable to relay", "relay not permitted",
            "relaying not allowed", "not permitted to relay", "not permitted", "authentication", "not authorized", "sender", "spf", "dmarc",
            "dkim", "timed out", "timeout", "time limit", "retry time", "try again", "temporar", "deferred",
            "connection refused", "too many", "rate limit", "loop"});
}

struct Judgement {
    bool permanent = false;
    bool failure = false;
    std::string status;
};

// One recipient's failure from its diagnostic text (folded) and, when the report has it, its
// Action and Status.
Judgement judge(std::string_view action, std::string_view status, std::string_view diagnostic) {
    Judgement j;
    const std::string act = ascii_lower(trim(action));
    if (act == "delivered" || act == "relayed" || act == "expanded") return j;
    std::optional<StatusCode> code = find_status(status);
    std::optional<StatusCode> diag_code = find_status(diagnostic);
    // "Status: 5.0.0" says little; the diagnostic's own code says more.
    if (!code || (code->subject == 0 && diag_code && diag_code->klass == code->klass)) code = diag_code;
    const int reply = find_reply_code(diagnostic);
    j.status = code ? code->text : "";
    j.failure = true;
    if (act == "delayed" || (code && code->klass == 4) || (!code && reply / 100 == 4)) return j;  // temporary
    if (says_not_the_mailbox(diagnostic)) return j;
    if (code && code->klass == 5) {
        if (code->subject == 1 && code->detail != 7 && code->detail != 8) j.permanent = true;
        else if (code->subject == 2 && code->detail == 1) j.permanent = true;
        else j.permanent = says_mailbox_gone(diagnostic);
    } else if (!code && (reply / 100 == 5 || reply == 0)) {
        j.permanent = says_mailbox_gone(diagnostic);
    }
    return j;
}

std::string strip_address(std::string_view v) {
    // "rfc822; jane@acme.example", "rfc822;<jane@acme.example>"
    const auto semi = v.find(';');
    if (semi != std::string_view::npos) v = v.substr(semi + 1);
    v = trim(v);
    if (!v.empty() && v.front() == '<') v.remove_prefix(1);
    if (!v.empty() && v.back() == '>') v.remove_suffix(1);
    return ascii_lower(trim(v));
}

// At most 300 bytes, cut before a code point rather than inside one: the reason goes into
// JSON, which must be valid UTF-8 (the fuzzer found a cut through "ü").
std::string short_reason(std::string_view s) {
    s = trim(s);
    std::size_t n = std::min<std::size_t>(s.size(), 300);
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::string out(s.substr(0, n));
    for (auto& c : out)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return out;
}

// RFC 3464 fields: groups separated by blank lines, folded lines joined.
// Returns how many recipient blocks it found (judged or not).
std::size_t read_delivery_status(std::string_view part, MailVerdict& v) {
    struct Group {
        std::string recipient, action, status, diagnostic, original_id;
    };
    std::vector<Group> groups(1);
    std::string last_field;
    std::size_t pos = 0;
    while (pos <= part.size()) {
        const std::size_t nl = part.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? part.size() : nl;
        std::string_view line = part.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) {
            if (!groups.back().recipient.empty() || !groups.back().action.empty() || !groups.back().status.empty())
                groups.emplace_back();
            last_field.clear();
        } else if ((line.front() == ' ' || line.front() == '\t') && !last_field.empty()) {
            Group& g = groups.back();
            if (last_field == "diagnostic-code") (g.diagnostic += ' ') += std::string(trim(line));
        } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            last_field = ascii_lower(trim(line.substr(0, colon)));
            const std::string_view value = trim(line.substr(colon + 1));
            Group& g = groups.back();
            if (last_field == "final-recipient") g.recipient = strip_address(value);
            else if (last_field == "original-recipient" && g.recipient.empty()) g.recipient = strip_address(value);
            else if (last_field == "action") g.action = std::string(value);
            else if (last_field == "status") g.status = std::string(value);
            else if (last_field == "diagnostic-code") g.diagnostic = std::string(value);
            else if (last_field == "x-original-message-id" || last_field == "original-envelope-id")
                g.original_id = std::string(value);
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    std::size_t blocks = 0;
    for (const auto& g : groups) {
        if (!g.original_id.empty() && v.original_message_id.empty()) {
            std::string id = g.original_id;
            if (id.size() > 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
            if (id.find('@') != std::string::npos) v.original_message_id = id;
        }
        if (g.recipient.empty() || g.recipient.find('@') == std::string::npos) continue;
        ++blocks;
        const Judgement j = judge(g.action, g.status, fold_for_matching(g.diagnostic));
        if (!j.failure) continue;
        auto it = std::find_if(v.recipients.begin(), v.recipients.end(),
                               [&](const RecipientFailure& r) { return r.address == g.recipient; });
        if (it != v.recipients.end()) {
            it->permanent = it->permanent && j.permanent;  // two blocks disagreeing: not sure, not gone
            continue;
        }
        v.recipients.push_back({g.recipient, j.permanent, j.status, short_reason(g.diagnostic)});
    }
    return blocks;
}

// Where the human part of a text bounce ends and the returned message begins.
std::size_t returned_message_start(std::string_view text) {
    std::size_t best = text.size();
    const std::string folded_markers[] = {
        "below this line is a copy of the message", "this is a copy of the message",
        "------- returned message --------", "original message follows",
        "the original message was", "copy of the original message", "kopfzeilen der originalnachricht",
        "copie du message d'origine", "copia del mensaje original", "kopie van het oorspronkelijke bericht",
        "copia del messaggio originale", "below is a copy of the original message",
        "header of the original message", "headers of the original message", "original message headers"};
    // Case-insensitive search on an ASCII-lowered copy keeps positions aligned with the text.
    const std::string lowered = ascii_lower(text);
    for (const auto& m : folded_markers) {
        const auto at = lowered.find(m);
        if (at != std::string::npos && at < best) {
            // "The original message was received at …" (Sendmail) opens the human part.
            if (m == "the original message was" && at < 200) continue;
            best = at;
        }
    }
    return best;
}

std::string returned_message_id_in(std::string_view text) {
    const std::string lowered = ascii_lower(text);
    std::size_t at = 0;
    while ((at = lowered.find("message-id:", at)) != std::string::npos) {
        if (at == 0 || lowered[at - 1] == '\n') {
            const auto end = text.find('\n', at);
            std::string_view v = trim(text.substr(at + 11, end == std::string_view::npos ? std::string_view::npos : end - at - 11));
            if (!v.empty() && v.front() == '<') v.remove_prefix(1);
            if (const auto gt = v.find('>'); gt != std::string_view::npos) v = v.substr(0, gt);
            if (v.find('@') != std::string_view::npos) return std::string(v);
        }
        at += 11;
    }
    return "";
}

bool is_own(const std::string& a, const MailBody& body, const std::vector<std::string>& own) {
    if (std::find(own.begin(), own.end(), a) != own.end()) return true;
    if (ascii_lower(body.from_address) == a) return true;
    for (const auto& t : body.to)
        if (ascii_lower(t) == a) return true;
    const auto local = a.substr(0, a.find('@'));
    return local == "postmaster" || local == "mailer-daemon" || local == "abuse";
}

// The paragraph an address opens: its line and the lines after it, up to a blank line.
std::string_view paragraph_from(std::string_view text, std::size_t begin) {
    const std::size_t line_start = text.rfind('\n', begin) == std::string_view::npos ? 0 : text.rfind('\n', begin) + 1;
    std::size_t end = text.find("\n\n", begin);
    const std::size_t crlf = text.find("\r\n\r\n", begin);
    if (crlf != std::string_view::npos && (end == std::string_view::npos || crlf < end)) end = crlf;
    if (end == std::string_view::npos) end = text.size();
    return text.substr(line_start, std::min<std::size_t>(end - line_start, 2000));
}

void read_text_bounce(const MailBody& body, const std::vector<std::string>& own, MailVerdict& v) {
    const std::string_view all = body.text;
    const std::string_view human = all.substr(0, returned_message_start(all));
    const std::string folded_human = fold_for_matching(human);
    // A warning about a delay names addresses that may well get the mail yet.
    const bool only_delayed = contains_any(
        folded_human, {"warning only", "warning message only", "not yet been delivered", "still being retried",
                       "will be retried", "will keep trying", "delivery attempts will continue", "delayed",
                       "has not been delivered yet", "message not delivered yet"});
    std::vector<std::string> order;
    std::vector<std::string> contexts;
    for (const auto& a : find_addresses(human)) {
        if (is_own(a.address, body, own)) continue;
        auto it = std::find(order.begin(), order.end(), a.address);
        const std::string_view para = paragraph_from(human, a.begin);
        if (it == order.end()) {
            order.push_back(a.address);
            contexts.emplace_back(para);
        } else {
            (contexts[static_cast<std::size_t>(it - order.begin())] += '\n') += std::string(para);
        }
    }
    for (const auto& failed : body.headers)
        if (failed.first == "x-failed-recipients")
            for (const auto& a : find_addresses(failed.second))
                if (std::find(order.begin(), order.end(), a.address) == order.end() && !is_own(a.address, body, own)) {
                    order.push_back(a.address);
                    contexts.emplace_back();
                }
    for (std::size_t i = 0; i < order.size(); ++i) {
        std::string context = fold_for_matching(contexts[i]);
        Judgement j = judge("", "", context);
        const bool said_nothing = !find_status(context) && !says_mailbox_gone(context) && !says_not_the_mailbox(context) &&
                                  find_reply_code(context) == 0;
        // One address with its reason in a paragraph of its own (MessageLabs, Notes): the
        // report's text is its context.
        if (said_nothing && order.size() == 1) j = judge("", "", folded_human);
        else if (said_nothing) continue;
        if (only_delayed) j.permanent = false;
        v.recipients.push_back({order[i], j.permanent, j.status, short_reason(contexts[i])});
    }
}

}  // namespace

bool looks_like_bounce(const MailBody& body) {
    if (body.content_type == "multipart/report" && body.report_type == "delivery-status") return true;
    if (!body.header("x-failed-recipients").empty()) return true;
    const std::string from = ascii_lower(body.from_address);
    const std::string local = from.substr(0, from.find('@'));
    const std::string name = fold_for_matching(body.from_name);
    const bool daemon = from.empty() || from == "@" || local == "mailer-daemon" || local == "postmaster" ||
                        local == "mail-daemon" || local == "mailerdaemon" ||
                        local.rfind("microsoftexchange", 0) == 0 ||
                        contains_any(name, {"mail delivery", "mailer-daemon", "postmaster", "mail system",
                                            "sistema de entrega"});
    if (!daemon) return false;
    const std::string subject = fold_for_matching(body.subject);
    return contains_any(subject, {"undeliver", "undelivered", "delivery status notification", "failure notice",
                                  "mail delivery failed", "returned mail", "delivery failure", "mail failure",
                                  "unzustellbar", "non remis", "no se puede entregar", "onbestelbaar",
                                  "non recapitabile", "non délivré", "not delivered", "no se ha podido entregar",
                                  "mail delivery status", "delivery notification", "mail system error",
                                  "недоставлен", "не доставлено", "delayed mail", "could not send message",
                                  "delivery status", "warning: message"}) ||
           !body.delivery_status.empty();
}

void read_bounce(const MailBody& body, const std::vector<std::string>& own, MailVerdict& v) {
    std::size_t blocks = 0;
    for (const auto& part : body.delivery_status) blocks += read_delivery_status(part, v);
    // A report without recipient blocks (or no report part at all): the text says who.
    if (blocks == 0) read_text_bounce(body, own, v);
    // Our own address never bounces "for" a contact (a report about a report).
    v.recipients.erase(std::remove_if(v.recipients.begin(), v.recipients.end(),
                                      [&](const RecipientFailure& r) { return is_own(r.address, body, own); }),
                       v.recipients.end());
    if (v.original_message_id.empty()) v.original_message_id = body.returned_message_id;
    if (v.original_message_id.empty())
        v.original_message_id = returned_message_id_in(std::string_view(body.text).substr(returned_message_start(body.text)));
    std::size_t permanent = 0;
    for (const auto& r : v.recipients) permanent += r.permanent ? 1 : 0;
    v.why = "a delivery report: " + std::to_string(v.recipients.size()) + " recipient(s), " +
            std::to_string(permanent) + " gone for good";
}

}  // namespace rapport::mail_reading

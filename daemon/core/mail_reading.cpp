#include "rapport/mail_reading.hpp"

#include "mail_reading_parts.hpp"

namespace rapport {

const std::string& MailBody::header(std::string_view name) const {
    static const std::string none;
    for (const auto& [n, v] : headers)
        if (n == name) return v;
    return none;
}

namespace mail_reading {

bool contains_any(std::string_view folded, std::initializer_list<std::string_view> cues, std::string* which) {
    for (auto cue : cues)
        if (folded.find(cue) != std::string_view::npos) {
            if (which) *which = std::string(cue);
            return true;
        }
    return false;
}

std::vector<FoundAddress> find_addresses(std::string_view text, std::size_t limit) {
    std::vector<FoundAddress> out;
    auto local_char = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-' || c == '+' || c == '=' || c == '\'' || c == '%' || c == '!' || c == '#' || c == '$' ||
               c == '&' || c == '*' || c == '/' || c == '?' || c == '^' || c == '`' || c == '{' || c == '|' ||
               c == '}' || c == '~';
    };
    auto domain_char = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    };
    for (std::size_t at = text.find('@'); at != std::string_view::npos && out.size() < limit;
         at = text.find('@', at + 1)) {
        std::size_t b = at;
        while (b > 0 && at - b < 64 && local_char(static_cast<unsigned char>(text[b - 1]))) --b;
        std::size_t e = at + 1;
        while (e < text.size() && e - at < 255 && domain_char(static_cast<unsigned char>(text[e]))) ++e;
        while (b < at && (text[b] == '.' || text[b] == '\'')) ++b;
        while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-')) --e;
        if (b == at || e <= at + 1) continue;
        const std::string_view domain = text.substr(at + 1, e - at - 1);
        if (domain.find('.') == std::string_view::npos) continue;
        std::string address(text.substr(b, e - b));
        for (auto& c : address)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        out.push_back({std::move(address), b, e});
    }
    return out;
}

}  // namespace mail_reading

MailVerdict read_mail(const MailBody& body, const std::vector<std::string>& own_addresses) {
    MailVerdict v;
    if (!body.skipped.empty()) {
        v.why = "skipped: " + body.skipped;
        return v;
    }
    // A read receipt is a report too, but says nothing about the mailbox.
    if (body.content_type == "multipart/report" && body.report_type == "disposition-notification") {
        v.kind = MailKind::receipt;
        v.why = "a read receipt";
        return v;
    }
    // Bounces first: many carry Auto-Submitted: auto-replied.
    if (mail_reading::looks_like_bounce(body)) {
        v.kind = MailKind::bounce;
        mail_reading::read_bounce(body, own_addresses, v);
        return v;
    }
    if (mail_reading::looks_like_auto_reply(body)) {
        v.kind = MailKind::auto_reply;
        mail_reading::read_auto_reply(body, own_addresses, v);
        return v;
    }
    v.why = "written by a person";
    return v;
}

}  // namespace rapport

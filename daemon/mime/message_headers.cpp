#include "message_headers.hpp"

#include <cstring>

#include "address_list.hpp"
#include "charset.hpp"
#include "encoded_words.hpp"
#include "mail_date.hpp"
#include "message_ids.hpp"
#include "mime_fields.hpp"
#include "parse_context.hpp"

namespace rapport::mime {
namespace {

enum class Field {
    From, To, Cc, Date, Subject, MessageId, InReplyTo, References, AutoSubmitted, ContentType, Bcc,
    Count, Other
};

constexpr std::string_view kFieldNames[] = {"From",       "To",          "Cc",
                                            "Date",       "Subject",     "Message-ID",
                                            "In-Reply-To", "References", "Auto-Submitted",
                                            "Content-Type", "Bcc"};

bool equals_ignore_case(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const char c = a[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != lower[i]) return false;
    }
    return true;
}

Field classify(std::string_view name) {
    switch (name.size()) {
        case 2:
            if (equals_ignore_case(name, "to")) return Field::To;
            if (equals_ignore_case(name, "cc")) return Field::Cc;
            break;
        case 3:
            if (equals_ignore_case(name, "bcc")) return Field::Bcc;
            break;
        case 4:
            if (equals_ignore_case(name, "from")) return Field::From;
            if (equals_ignore_case(name, "date")) return Field::Date;
            break;
        case 7:
            if (equals_ignore_case(name, "subject")) return Field::Subject;
            break;
        case 10:
            if (equals_ignore_case(name, "message-id")) return Field::MessageId;
            if (equals_ignore_case(name, "references")) return Field::References;
            break;
        case 11:
            if (equals_ignore_case(name, "in-reply-to")) return Field::InReplyTo;
            break;
        case 12:
            if (equals_ignore_case(name, "content-type")) return Field::ContentType;
            break;
        case 14:
            if (equals_ignore_case(name, "auto-submitted")) return Field::AutoSubmitted;
            break;
        default:
            break;
    }
    return Field::Other;
}

bool is_field_name_char(char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && u != ':';
}

void trim_spaces(std::string& s) {
    const size_t e = s.find_last_not_of(' ');
    if (e == std::string::npos) {
        s.clear();
        return;
    }
    s.resize(e + 1);
    const size_t b = s.find_first_not_of(' ');
    if (b > 0) s.erase(0, b);
}

class BlockParser {
public:
    BlockParser(MessageHeaders& h, const HeaderLimits& limits)
        : h_(h), limits_(limits), ctx_(h.warnings, limits.max_warnings, limits.max_encoded_words) {}

    void parse(std::string_view raw) {
        std::string cleaned;
        if (raw.size() > limits_.max_block_bytes) {
            size_t cut = limits_.max_block_bytes;
            const size_t nl = limits_.max_block_bytes == 0
                                  ? std::string_view::npos
                                  : raw.rfind('\n', limits_.max_block_bytes - 1);
            if (nl != std::string_view::npos) cut = nl + 1;
            ctx_.warn("", "header block larger than the limit; truncated");
            raw = raw.substr(0, cut);
        }
        if (std::memchr(raw.data(), 0, raw.size()) != nullptr) {
            cleaned.reserve(raw.size());
            for (char c : raw)
                if (c != '\0') cleaned.push_back(c);
            raw = cleaned;
            ctx_.warn("", "NUL bytes dropped");
        }
        split_fields(raw);
    }

private:
    void split_fields(std::string_view raw) {
        Field current = Field::Other;
        size_t value_begin = 0, value_end = 0;
        size_t pos = 0;
        const size_t n = raw.size();
        while (pos < n) {
            const void* nl = std::memchr(raw.data() + pos, '\n', n - pos);
            const size_t eol = nl ? static_cast<size_t>(static_cast<const char*>(nl) - raw.data()) : n;
            size_t line_end = eol;
            if (line_end > pos && raw[line_end - 1] == '\r') --line_end;
            const size_t next = nl ? eol + 1 : n;
            if (line_end == pos) break;  // the empty line that ends the header block
            const char first = raw[pos];
            if (first == ' ' || first == '\t') {
                value_end = line_end;  // folded continuation
                pos = next;
                continue;
            }
            dispatch(current, raw.substr(value_begin, value_end - value_begin));
            current = Field::Other;
            const std::string_view line = raw.substr(pos, line_end - pos);
            size_t colon = 0;
            while (colon < line.size() && is_field_name_char(line[colon])) ++colon;
            size_t name_end = colon;
            while (colon < line.size() && (line[colon] == ' ' || line[colon] == '\t'))
                ++colon;  // obsolete "Subject :"
            const std::string_view name = line.substr(0, name_end);
            if (name.empty() || colon >= line.size() || line[colon] != ':') {
                ctx_.warn("", "malformed header line skipped", line);
            } else {
                current = classify(name);
                value_begin = pos + colon + 1;
                value_end = line_end;
            }
            pos = next;
        }
        dispatch(current, raw.substr(value_begin, value_end - value_begin));
    }

    void dispatch(Field field, std::string_view value) {
        if (field == Field::Other) return;
        const auto index = static_cast<size_t>(field);
        const std::string_view name = kFieldNames[index];
        const bool duplicate = seen_[index];
        seen_[index] = true;
        if (duplicate) {
            if (field == Field::To || field == Field::Cc || field == Field::Bcc)
                ctx_.warn(name, "field repeated; addresses concatenated");
            else
                ctx_.warn(name, "field repeated; the first one is used");
        }
        switch (field) {
            case Field::From:
                if (!duplicate)
                    parse_address_list(value, name, limits_.max_addresses_per_field, h_.from, ctx_);
                break;
            case Field::To:
                parse_address_list(value, name, limits_.max_addresses_per_field, h_.to, ctx_);
                break;
            case Field::Cc:
                parse_address_list(value, name, limits_.max_addresses_per_field, h_.cc, ctx_);
                break;
            case Field::Bcc:
                parse_address_list(value, name, limits_.max_addresses_per_field, h_.bcc, ctx_);
                break;
            case Field::Date:
                if (!duplicate) parse_date(value);
                break;
            case Field::Subject:
                if (!duplicate) {
                    decode_unstructured(h_.subject, value, ctx_);
                    trim_spaces(h_.subject);
                }
                break;
            case Field::MessageId:
                if (!duplicate) h_.message_id = first_message_id(value);
                break;
            case Field::InReplyTo:
                if (!duplicate) h_.in_reply_to = first_message_id(value);
                break;
            case Field::References:
                if (!duplicate && !parse_message_ids(value, limits_.max_references, h_.references))
                    ctx_.warn(name, "too many ids; only the first and the newest are kept");
                break;
            case Field::AutoSubmitted:
                if (!duplicate) h_.auto_submitted = parse_auto_submitted(value);
                break;
            case Field::ContentType:
                if (!duplicate) parse_type(value);
                break;
            case Field::Count:
            case Field::Other:
                break;
        }
    }

    void parse_date(std::string_view value) {
        std::string_view assumption;
        h_.date = parse_mail_date(value, &assumption);
        if (!h_.date)
            ctx_.warn("Date", "unparsable", value);
        else if (!assumption.empty())
            ctx_.warn("Date", assumption, value);
    }

    void parse_type(std::string_view value) {
        std::string type, report_type;
        if (!parse_content_type(value, type, report_type)) {
            ctx_.warn("Content-Type", "unparsable", value);
            return;
        }
        h_.content_type = std::move(type);
        append_utf8_sanitized(h_.content_type_report_type, report_type);
    }

    MessageHeaders& h_;
    const HeaderLimits& limits_;
    ParseContext ctx_;
    bool seen_[static_cast<size_t>(Field::Count)] = {};
};

}  // namespace

MessageHeaders parse_message_headers(std::string_view raw, const HeaderLimits& limits) {
    MessageHeaders h;
    BlockParser(h, limits).parse(raw);
    return h;
}

}  // namespace rapport::mime

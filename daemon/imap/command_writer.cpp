#include "command_writer.hpp"

namespace rapport::imap {

namespace {
constexpr std::size_t max_quoted = 1000;  // longer text goes as a literal; keeps lines short

bool is_safe_atom_char(unsigned char c) {
    if (c <= 0x20 || c >= 0x7f) return false;
    switch (c) {
        case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
        case '[': case '+':  // '+' and '[' are legal but confuse some servers; quote them
            return false;
        default: return true;
    }
}

StringForm string_form(std::string_view value, bool allow_atom) {
    bool atom = allow_atom && !value.empty();
    bool quotable = value.size() <= max_quoted;
    for (unsigned char c : value) {
        if (c == 0) return StringForm::invalid;
        if (!is_safe_atom_char(c)) atom = false;
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') quotable = false;
    }
    // "NIL" as an atom would read as nil in responses; servers accept it in commands but a
    // quoted form is never ambiguous.
    if (atom && value.size() == 3 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'i' &&
        (value[2] | 0x20) == 'l')
        atom = false;
    if (atom) return StringForm::atom;
    if (quotable) return StringForm::quoted;
    return StringForm::literal;
}
}  // namespace

StringForm astring_form(std::string_view value) { return string_form(value, true); }

CommandWriter::CommandWriter(std::string tag, bool literal_plus, bool literal_minus)
    : tag_(std::move(tag)), literal_plus_(literal_plus), literal_minus_(literal_minus) {
    segments_.emplace_back(tag_);
    first_ = false;
}

void CommandWriter::separator() {
    if (!first_) segments_.back() += ' ';
    first_ = false;
}

void CommandWriter::invalid(std::string message) {
    if (!error_) error_ = Error{Errc::invalid_argument, std::move(message), {}};
}

CommandWriter& CommandWriter::word(std::string_view trusted) {
    separator();
    segments_.back().append(trusted.data(), trusted.size());
    return *this;
}

CommandWriter& CommandWriter::raw(std::string_view trusted) {
    segments_.back().append(trusted.data(), trusted.size());
    return *this;
}

void CommandWriter::append_literal(std::string_view value) {
    const bool non_sync = literal_plus_ || (literal_minus_ && value.size() <= 4096);
    std::string& seg = segments_.back();
    seg += '{';
    seg += std::to_string(value.size());
    if (non_sync) {
        seg += "+}\r\n";
        seg.append(value.data(), value.size());
    } else {
        seg += "}\r\n";
        segments_.emplace_back(value);
    }
}

CommandWriter& CommandWriter::astring(std::string_view value) {
    separator();
    switch (string_form(value, true)) {
        case StringForm::atom: segments_.back().append(value.data(), value.size()); break;
        case StringForm::quoted:
            segments_.back() += '"';
            segments_.back().append(value.data(), value.size());
            segments_.back() += '"';
            break;
        case StringForm::literal: append_literal(value); break;
        case StringForm::invalid: invalid("argument contains a NUL byte"); break;
    }
    return *this;
}

CommandWriter& CommandWriter::string(std::string_view value) {
    separator();
    switch (string_form(value, false)) {
        case StringForm::atom:  // not produced with allow_atom = false
        case StringForm::quoted:
            segments_.back() += '"';
            segments_.back().append(value.data(), value.size());
            segments_.back() += '"';
            break;
        case StringForm::literal: append_literal(value); break;
        case StringForm::invalid: invalid("argument contains a NUL byte"); break;
    }
    return *this;
}

CommandWriter& CommandWriter::literal(std::string_view value) {
    separator();
    if (value.find('\0') != std::string_view::npos) {
        invalid("literal contains a NUL byte");
        return *this;
    }
    append_literal(value);
    return *this;
}

EncodedCommand CommandWriter::finish() {
    segments_.back() += "\r\n";
    EncodedCommand out;
    out.tag = tag_;
    out.error = error_;
    if (!error_) out.segments = std::move(segments_);
    return out;
}

}  // namespace rapport::imap

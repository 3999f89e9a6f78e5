// Folding text for matching, cutting quoted replies, and finding the rules' loss phrases.
#include <algorithm>
#include <cstdint>

#include "rapport/mail_reading.hpp"
#include "rapport/utf8.hpp"

namespace rapport {
namespace {

// The same simple case folding as addresses use (ASCII, Latin-1, Latin Extended-A, Greek,
// Cyrillic): the pure core has no ICU, and these cover the five languages the cues are in.
uint32_t fold_case(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
        const bool odd_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_lower) return (cp % 2 == 1) ? cp + 1 : cp;
        return (cp % 2 == 0) ? cp + 1 : cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    return cp;
}

bool is_space(uint32_t cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' || cp == 0xA0 ||
           cp == 0x2007 || cp == 0x202F || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x3000;
}

bool letter_or_digit(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
        if (a != prefix[i]) return false;
    }
    return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// An attribution line above a quote, in the languages the corpus holds.
bool attribution(std::string_view line) {
    const std::string folded = fold_for_matching(line);
    std::string_view f = folded;
    if (f.size() > 400) return false;
    auto ends_colon = [&](std::string_view word) {
        return f.find(word) != std::string_view::npos && (ends_with(f, ":") || ends_with(f, ": "));
    };
    if (starts_with_ci(f, "on ") && ends_colon(" wrote")) return true;
    if (starts_with_ci(f, "am ") && ends_colon(" schrieb")) return true;
    if (starts_with_ci(f, "le ") && ends_colon(" a écrit")) return true;
    if (starts_with_ci(f, "el ") && ends_colon(" escribió")) return true;
    if (starts_with_ci(f, "op ") && ends_colon(" schreef")) return true;
    return false;
}

bool separator(std::string_view line) {
    const std::string f = fold_for_matching(line);
    for (const char* s : {"-----original message-----", "----- original message -----",
                          "-------- original message --------", "-----ursprüngliche nachricht-----",
                          "-----message d'origine-----", "-----mensaje original-----",
                          "-----oorspronkelijk bericht-----", "________________________________"})
        if (f.find(s) != std::string::npos) return true;
    return false;
}

bool header_line(std::string_view line, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (starts_with_ci(line, n)) return true;
    return false;
}

}  // namespace

std::string fold_for_matching(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    std::size_t i = 0;
    while (i < text.size()) {
        uint32_t cp = 0;
        if (!utf8::decode(text, i, cp)) {
            ++i;
            cp = 0xFFFD;
        }
        if (is_space(cp)) {
            pending_space = !out.empty();
            continue;
        }
        if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) cp = '\'';
        if (pending_space) out += ' ';
        pending_space = false;
        utf8::append(out, fold_case(cp));
    }
    return out;
}

std::string_view unquoted_part(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        const std::string_view line = trim(text.substr(pos, end - pos));
        bool cut = !line.empty() && line.front() == '>';
        cut = cut || attribution(line) || separator(line);
        if (!cut && header_line(line, {"from:", "von:", "de :", "de:", "van:"})) {
            // Outlook's quote header: From, then Sent or Date within three lines.
            std::size_t p = end;
            for (int k = 0; k < 3 && p < text.size() && !cut; ++k) {
                const std::size_t n2 = text.find('\n', p + 1);
                const std::size_t e2 = n2 == std::string_view::npos ? text.size() : n2;
                const std::string_view next = trim(text.substr(p + 1, e2 > p ? e2 - p - 1 : 0));
                cut = header_line(next, {"sent:", "date:", "gesendet:", "datum:", "envoyé :", "envoyé:",
                                         "enviado:", "fecha:", "verzonden:", "datum:"});
                p = e2;
            }
        }
        if (cut) return text.substr(0, pos);
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return text;
}

std::string find_loss_phrase(std::string_view text, const std::vector<std::string>& phrases) {
    const std::string folded = fold_for_matching(unquoted_part(text));
    for (const auto& phrase : phrases) {
        const std::string needle = fold_for_matching(phrase);
        if (needle.empty()) continue;
        for (std::size_t at = folded.find(needle); at != std::string::npos; at = folded.find(needle, at + 1)) {
            const bool start_ok = at == 0 || !letter_or_digit(static_cast<unsigned char>(folded[at - 1])) ||
                                  !letter_or_digit(static_cast<unsigned char>(needle.front()));
            const std::size_t after = at + needle.size();
            const bool end_ok = after >= folded.size() ||
                                !letter_or_digit(static_cast<unsigned char>(folded[after])) ||
                                !letter_or_digit(static_cast<unsigned char>(needle.back()));
            if (start_ok && end_ok) return phrase;
        }
    }
    return "";
}

}  // namespace rapport

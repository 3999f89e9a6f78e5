// Any bytes in, a MessageHeaders out: never a crash, never invalid UTF-8 or a NUL in a result,
// and the limits hold. Run with small limits too, so the truncation paths get exercised.
// Differential: an address list gives the same mailboxes, and a date the same instant, whether
// they take the parser's fast paths or (behind a leading comment, which forces it) the general
// ones. And every address the parser yields, and the raw input as one: where the directory's
// shortcut (rapport::is_normalized_address) says it is already normalised, normalize_address
// must give it back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/mail_date.hpp"
#include "rapport/address.hpp"
#include "mime/message_headers.hpp"

namespace {

bool valid_utf8_without_nul(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == 0) return false;
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len == 0 || i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        const auto c1 = static_cast<unsigned char>(len > 1 ? s[i + 1] : 0);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 > 0x8F))
            return false;
        i += len;
    }
    return true;
}

void require(bool ok) {
    if (!ok) std::abort();
}

void check_normalized_shortcut(std::string_view address) {
    if (rapport::is_normalized_address(address)) require(rapport::normalize_address(address) == address);
}

void check(const rapport::mime::MessageHeaders& h, const rapport::mime::HeaderLimits& limits) {
    using rapport::mime::MailAddress;
    for (const auto* list : {&h.from, &h.to, &h.cc}) {
        require(list->size() <= limits.max_addresses_per_field);
        for (const MailAddress& a : *list) {
            check_normalized_shortcut(a.address);
            require(!a.address.empty());
            require(valid_utf8_without_nul(a.address));
            require(valid_utf8_without_nul(a.name));
        }
    }
    require(valid_utf8_without_nul(h.subject));
    require(valid_utf8_without_nul(h.message_id));
    require(valid_utf8_without_nul(h.in_reply_to));
    require(valid_utf8_without_nul(h.auto_submitted));
    require(valid_utf8_without_nul(h.content_type));
    require(valid_utf8_without_nul(h.content_type_report_type));
    require(h.references.size() <= limits.max_references);
    for (const auto& r : h.references) require(!r.empty() && valid_utf8_without_nul(r));
    require(h.warnings.size() <= limits.max_warnings);
    for (const auto& w : h.warnings) require(valid_utf8_without_nul(w));
}

void check_fast_path_agrees(std::string_view raw) {
    std::string list(raw.substr(0, 4096));
    for (char& c : list)
        if (c == '\r' || c == '\n' || c == '\0') c = ' ';
    const auto fast = rapport::mime::parse_message_headers("To: " + list + "\r\n");
    auto general = rapport::mime::parse_message_headers("To: (c)z@z, " + list + "\r\n");
    if (general.to.empty() || general.to[0].address != "z@z") return;  // list opened a group etc.
    general.to.erase(general.to.begin());
    require(fast.to == general.to);
}

void check_date_fast_path_agrees(std::string_view raw) {
    const std::string_view date = raw.substr(0, 256);
    require(rapport::mime::parse_mail_date(date) ==
            rapport::mime::parse_mail_date("(c)" + std::string(date)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const rapport::mime::HeaderLimits defaults;
    check(rapport::mime::parse_message_headers(raw, defaults), defaults);

    rapport::mime::HeaderLimits tight;
    tight.max_block_bytes = size / 2;
    tight.max_addresses_per_field = 2;
    tight.max_encoded_words = 2;
    tight.max_references = 2;
    tight.max_warnings = 3;
    check(rapport::mime::parse_message_headers(raw, tight), tight);
    check_fast_path_agrees(raw);
    check_date_fast_path_agrees(raw);
    check_normalized_shortcut(raw.substr(0, 2100));
    return 0;
}

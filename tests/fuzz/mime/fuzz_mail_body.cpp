// Any bytes in, through read_mail_body (vmime) and the core's read_mail and find_loss_phrase:
// never a crash, the text always valid UTF-8 and within its limit, every failed recipient an
// address. Run with small limits too, so the cut-off paths (depth, parts, text, input) are hit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/mail_body.hpp"
#include "rapport/mail_reading.hpp"
#include "rapport/utf8.hpp"

namespace {

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    std::uint32_t cp = 0;
    while (i < s.size())
        if (!rapport::utf8::decode(s, i, cp)) return false;
    return true;
}

void check(const rapport::MailBody& body, const rapport::mime::BodyLimits& limits) {
    if (!valid_utf8(body.text) || body.text.size() > limits.max_text_bytes + 8) std::abort();
    for (const auto& [name, value] : body.headers)
        if (!valid_utf8(value)) std::abort();
    const rapport::MailVerdict v = rapport::read_mail(body, {"mia@vendor.example"});
    for (const auto& r : v.recipients)
        if (r.address.find('@') == std::string::npos) std::abort();
    if (v.departure && v.kind != rapport::MailKind::auto_reply) std::abort();
    (void)rapport::find_loss_phrase(body.text, {"decided to go with", " ", "für einen anderen Anbieter"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const rapport::mime::BodyLimits defaults;
    check(rapport::mime::read_mail_body(input, defaults), defaults);
    rapport::mime::BodyLimits small;
    small.max_input_bytes = 4096;
    small.max_text_bytes = 512;
    small.max_part_bytes = 1024;
    small.max_depth = 2;
    small.max_multiparts = 4;
    small.max_parts = 5;
    small.max_header_fields = 8;
    check(rapport::mime::read_mail_body(input, small), small);
    return 0;
}

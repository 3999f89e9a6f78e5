// The core's bounce / auto-reply / receipt classifier (read_mail) on its own, without vmime in
// front: the input is laid out as the MIME layer hands it over, so the fuzzer reaches the
// delivery-status and auto-reply readers directly instead of through a well-formed message.
//
// Input: split at 0x1E (RS). Part 0 is "name: value" header lines, a blank line, then the
// readable text; every further part is one message/delivery-status part. Invalid UTF-8 is
// replaced by '?' first, because the MIME layer only ever hands over UTF-8 (mail_reading.hpp).
// Checks: never a crash; every failed recipient is a lower-case address that is not the
// user's own; a departure only on an auto-reply; the replacement is not the user; reasons at
// most 300 bytes and, like every text in the verdict, valid UTF-8 (they end up in JSON).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rapport/mail_reading.hpp"
#include "rapport/utf8.hpp"

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    std::uint32_t cp = 0;
    while (i < s.size())
        if (!rapport::utf8::decode(s, i, cp)) return false;
    return true;
}

std::string as_utf8(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t at = i;
        std::uint32_t cp = 0;
        if (rapport::utf8::decode(s, i, cp)) {
            out.append(s.substr(at, i - at));
        } else {
            out += '?';
            i = at + 1;
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out(1);
    for (char ch : s) {
        if (ch == sep) out.emplace_back();
        else out.back() += ch;
    }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

rapport::MailBody body_from(const std::string& input) {
    rapport::MailBody body;
    const auto parts = split(input, '\x1e');
    const std::string& first = parts[0];
    std::size_t at = 0;
    while (at < first.size()) {
        std::size_t end = first.find('\n', at);
        if (end == std::string::npos) end = first.size();
        std::string line = first.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) break;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        body.headers.emplace_back(lower(line.substr(0, colon)), value);
    }
    if (at < first.size()) body.text = first.substr(at);
    for (std::size_t i = 1; i < parts.size(); ++i) body.delivery_status.push_back(parts[i]);
    body.from_address = body.header("from");
    body.from_name = body.header("x-from-name");
    for (auto& to : split(body.header("to"), ',')) body.to.push_back(to);
    body.subject = body.header("subject");
    body.content_type = lower(body.header("content-type").substr(0, body.header("content-type").find(';')));
    body.report_type = lower(body.header("x-report-type"));
    body.returned_message_id = body.header("x-returned-message-id");
    for (auto& to : split(body.header("x-returned-to"), ',')) body.returned_to.push_back(to);
    return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = as_utf8(std::string_view(reinterpret_cast<const char*>(data), size));
    const rapport::MailBody body = body_from(input);
    const std::vector<std::string> own = {"mia@vendor.example"};
    const rapport::MailVerdict v = rapport::read_mail(body, own);
    for (const auto& r : v.recipients) {
        require(r.address.find('@') != std::string::npos);
        require(r.address == lower(r.address));
        require(r.address != own[0]);
        require(r.reason.size() <= 300);
        require(valid_utf8(r.reason) && valid_utf8(r.address) && valid_utf8(r.status));
    }
    if (v.departure) require(v.kind == rapport::MailKind::auto_reply);
    require(v.replacement != own[0]);
    require(valid_utf8(v.original_message_id) && valid_utf8(v.departure_cue) &&
            valid_utf8(v.replacement) && valid_utf8(v.why));
    (void)rapport::fold_for_matching(body.text);
    (void)rapport::find_loss_phrase(body.text, {"decided to go with", "für einen anderen Anbieter"});
    return 0;
}

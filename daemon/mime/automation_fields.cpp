#include "mime/automation_fields.hpp"

namespace rapport::mime {
namespace {

bool name_is(std::string_view line, std::string_view lower_name) {
    if (line.size() <= lower_name.size() || line[lower_name.size()] != ':') {
        // "Name :" (white space before the colon) is obsolete syntax, still seen.
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon < lower_name.size()) return false;
        for (std::size_t i = lower_name.size(); i < colon; ++i)
            if (line[i] != ' ' && line[i] != '\t') return false;
    }
    for (std::size_t i = 0; i < lower_name.size(); ++i) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (c != lower_name[i]) return false;
    }
    return true;
}

}  // namespace

AutomationFields read_automation_fields(std::string_view block) {
    AutomationFields f;
    std::size_t pos = 0;
    while (pos < block.size()) {
        std::size_t nl = block.find('\n', pos);
        if (nl == std::string_view::npos) nl = block.size();
        std::string_view line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        // Every name below starts with x or p: most lines (From, To, Subject…) stop here.
        const char first = static_cast<char>(line.front() | 0x20);
        if (first != 'x' && first != 'p') continue;
        if (name_is(line, "x-autoreply") || name_is(line, "x-autorespond")) f.autoreply = true;
        else if (name_is(line, "x-auto-response-suppress")) f.auto_response_suppress = true;
        else if (name_is(line, "x-failed-recipients")) f.failed_recipients = true;
        else if (name_is(line, "precedence") && f.precedence.empty()) {
            std::string_view v = line.substr(line.find(':') + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
            for (char c : v.substr(0, 32)) f.precedence += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    return f;
}

}  // namespace rapport::mime

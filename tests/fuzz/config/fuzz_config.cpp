// Arbitrary bytes as a rules file and as a settings file: the parsers must answer with a value
// or with diagnostics, never both, never neither, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rapport/directory.hpp"
#include "rapport/rules.hpp"
#include "rapport/settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto rules = rapport::parse_rules(text, "rules.json");
    if ((rules.rules == nullptr) == rules.diagnostics.empty()) std::abort();
    // The streaming fast path must accept exactly what the DOM walk accepts.
    if ((rapport::detail::parse_rules_with_dom(text, "rules.json").rules == nullptr) != (rules.rules == nullptr))
        std::abort();
    for (const auto& d : rules.diagnostics)
        if (d.to_string().empty()) std::abort();
    if (rules.rules) {
        rapport::AccountDirectory directory(rules.rules);
        for (const auto& a : rules.rules->accounts) {
            for (const auto& c : a.contacts)
                if (directory.lookup(c.address).kind != rapport::MatchKind::contact) std::abort();
        }
        directory.lookup(text.substr(0, 256));
    }
    rapport::PathContext ctx{"/tmp", "", "", "/root"};
    auto settings = rapport::parse_settings(text, "settings.json", ctx);
    if ((settings.settings == nullptr) == settings.diagnostics.empty()) std::abort();
    return 0;
}

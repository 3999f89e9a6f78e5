// Any message and owner names: the insertion adds bytes at one place only (removing them gives
// the input back), never a line break that is not a fold, and the submission plan never loses
// the owner (header or, failing that, the envelope).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "rapport/rules.hpp"
#include "smtp/cc_insertion.hpp"
#include "smtp/submission_plan.hpp"

using namespace rapport;
using namespace rapport::smtp;

namespace {

const AccountDirectory& directory() {
    static const std::shared_ptr<const AccountDirectory> dir = [] {
        auto r = parse_rules(R"json({
          "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
          "people": [{"id": "bob", "name": "Bob \"B\" Rep, Jr.", "addresses": ["bob@vendor.example"]},
                     {"id": "zoe", "name": "Zoë Ö", "addresses": ["zoe@vendor.example"]}],
          "accounts": [
            {"id": "acme", "name": "Acme", "domains": ["acme.example"], "owner": "bob"},
            {"id": "globex", "name": "Globex", "domains": ["globex.example"], "owner": "zoe"}]
        })json", "rules.json");
        if (!r.rules) std::abort();
        return std::make_shared<AccountDirectory>(r.rules);
    }();
    return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string message(reinterpret_cast<const char*>(data), size);
    const auto r = insert_cc(message, {{"Bob Rep", "bob@vendor.example"}, {std::string(message.substr(0, 40)), "zoe@vendor.example"}});
    std::string back = r.message;
    back.erase(r.offset, r.length);
    if (back != message) std::abort();
    const std::string inserted = r.message.substr(r.offset, r.length);
    for (std::size_t i = 0; i < inserted.size(); ++i) {
        const char c = inserted[i];
        if (c == '\0') std::abort();
        if (c == '\n' && (i == 0 || inserted[i - 1] != '\r')) std::abort();
        if (c == '\r' && (i + 1 >= inserted.size() || inserted[i + 1] != '\n')) std::abort();
        // A line break inside the insertion is a fold (CRLF SP) or the end of a new Cc field.
        if (c == '\n' && i + 1 < inserted.size() && inserted[i + 1] != ' ' && inserted[i + 1] != 'C') std::abort();
    }
    Envelope env;
    env.mail_from = "mia@vendor.example";
    env.recipients = {"jane@acme.example", "x@globex.example"};
    const auto plan = plan_submission(message, env, directory());
    for (const auto& a : plan.added) {
        bool in_envelope = false;
        for (const auto& rcpt : plan.recipients) in_envelope = in_envelope || rcpt == a.address;
        if (!in_envelope) std::abort();
    }
    if (plan.added.empty() && plan.message != message) std::abort();
    return 0;
}
